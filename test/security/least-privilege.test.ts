/**
 * Least privilege, proven. The provider's role policy is taken from a synthesized stack (what ROS would give the
 * role), resolved for one stack id as LocalCloud ROS resolves it, and given to the bundled handler running in
 * LocalCloud's Function Compute. Then, one action at a time, the role loses that action and a lifecycle step that
 * needs it fails with a FAILED answer naming `Forbidden.RAM` and the action; with the full policy back, the same
 * step succeeds. The policy's resources are checked too, each action as narrow as its RAM authorization table
 * allows (HANDLER_ACTION_RESOURCES): the image actions on this account's images only; CopyImage and
 * fc:InvokeFunction, which take no resource-level authorization, on `*` (a narrower grant is refused by RAM, and by
 * LocalCloud, which evaluates RAM as those tables say).
 */
import { randomUUID } from 'crypto';
import { ImageCopy } from '../../lib';
import { HANDLER_RAM_ACTIONS, type HandlerRamAction } from '../../lib/handler/policy';
import type { CallRecord } from '../../lib/local/server';
import { isAllowed, type PolicyDocument, type PolicyStatement } from '../../lib/local/ram';
import { resolveValue } from '../../lib/local/ros/intrinsics';
import { HANDLER_ACTION_RESOURCES, PROVIDER_NAME_PREFIX } from '../../lib/provider';
import type { ImageCopyResourceProperties } from '../../lib/protocol';
import { newStack, Template } from '../construct/template';
import {
  DESTINATION_REGION,
  type Harness,
  imageIdOf,
  MEDIUM_SIZE_GIB,
  ownedImages,
  putSource,
  type RequestSpec,
  type ResourceIdentity,
  run,
  SOURCE_REGION,
  startCopyAs,
  startHarness,
  stepsOf,
  isListed,
  untilAsync,
} from '../handler/harness';
import { propertiesFor } from '../support/image-copy';
import { unique } from '../support/names';

const TRUST_FC: PolicyDocument = {
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['fc.aliyuncs.com'] } }],
};

/** The role's policy document exactly as a stack with one ImageCopy synthesizes it (intrinsics unresolved). */
function synthesizedPolicy(): unknown {
  const stack = newStack('LeastPrivilege');
  new ImageCopy(stack, 'Copy', { sourceImageId: 'm-bp1golden', sourceRegionId: SOURCE_REGION });
  const [, role] = Template.fromStack(stack).resource('ALIYUN::RAM::Role');
  const policies = role.Properties!.Policies as { PolicyDocument: unknown }[];
  expect(policies).toHaveLength(1);
  return policies[0].PolicyDocument;
}

/** The synthesized policy as ROS would hand it to RAM for a stack `stackId` in `region` of `accountId`. */
function resolvePolicy(
  document: unknown,
  accountId: string,
  stackId: string,
  region: string,
): PolicyDocument {
  const pseudo: Record<string, unknown> = {
    'ALIYUN::Region': region,
    'ALIYUN::AccountId': accountId,
    'ALIYUN::StackId': stackId,
    'ALIYUN::StackName': 'LeastPrivilege',
  };
  return resolveValue(document, {
    parameters: pseudo,
    mappings: {},
    region,
    accountId,
    condition: (name) => {
      throw new Error(`the policy uses a condition (${name})`);
    },
    ref: (logicalId) => {
      throw new Error(`the policy refers to a resource (${logicalId})`);
    },
    getAtt: (logicalId) => {
      throw new Error(`the policy reads an attribute of ${logicalId}`);
    },
  }) as PolicyDocument;
}

/** `policy` without `action` (a statement left with no action is dropped). */
function without(policy: PolicyDocument, action: string): PolicyDocument {
  const statements: PolicyStatement[] = [];
  for (const statement of policy.Statement) {
    const actions = (typeof statement.Action === 'string' ? [statement.Action] : statement.Action).filter(
      (a) => a !== action,
    );
    if (actions.length > 0) {
      statements.push({ ...statement, Action: actions });
    }
  }
  return { Version: policy.Version, Statement: statements };
}

const actionsOf = (policy: PolicyDocument): string[] =>
  policy.Statement.flatMap((s) => (typeof s.Action === 'string' ? [s.Action] : [...s.Action]));

let h: Harness;
let template: unknown;

beforeAll(async () => {
  template = synthesizedPolicy();
  // A second account to share copies with.
  h = await startHarness({ accounts: 2 });
});
afterAll(() => h.stop());

/**
 * A provider as one stack gets it: a role and a function both named `ros-cdk-image-copy-<StackId>`, the role with
 * the synthesized policy resolved for that stack.
 */
function provider(functionTimeoutSeconds = 60) {
  const stackId = randomUUID();
  const name = `${PROVIDER_NAME_PREFIX}${stackId}`;
  const policy = resolvePolicy(template, h.cloud.accountId, stackId, DESTINATION_REGION);
  const grant = (document: PolicyDocument) =>
    h.cloud.putRole({ roleName: name, assumeRolePolicyDocument: TRUST_FC, policies: [document] });
  grant(policy);
  const functionName = h.deployHandler({
    functionName: name,
    roleName: name,
    timeoutSeconds: functionTimeoutSeconds,
  });
  const resource: ResourceIdentity = {
    StackId: stackId,
    StackName: 'LeastPrivilege',
    LogicalResourceId: 'Copy',
  };
  return {
    stackId,
    policy,
    functionName,
    resource,
    /** The role keeps the full policy but for `action`. */
    revoke: (action: string) => grant(without(policy, action)),
    restore: () => grant(policy),
    run: (request: RequestSpec) => run(h, functionName, resource, request),
  };
}

type Provider = ReturnType<typeof provider>;

/** The calls the handler's roles made since `from` (an index into `cloud.calls`). */
const roleCallsSince = (from: number): CallRecord[] =>
  h.cloud.calls.slice(from).filter((call) => call.principal === 'role');

const ramAction = (call: CallRecord) => `${call.product}:${call.action}`;

/** A call the service carried out (ECS answers 200; an asynchronous FC invocation, 202). */
const allowed = (call: CallRecord) => call.status >= 200 && call.status < 300;

/** Creates a copy with the full policy; its physical id, image and properties. */
async function created(p: Provider, extra: ImageCopyResourceProperties = {}) {
  const properties = propertiesFor(putSource(h), { ImageName: unique('lp'), ...extra });
  const { response } = await p.run({ RequestType: 'Create', ResourceProperties: properties });
  expect(response.Status).toBe('SUCCESS');
  return { physicalId: response.PhysicalResourceId!, imageId: imageIdOf(response), properties };
}

/** The account copies are shared with: the harness's second account. */
const sharee = () => h.cloud.accounts[1].accountId;

/** The sharing calls the role made that ECS carried out (the step before the check is the last one to run). */
function sharingCallsMade(): string[] {
  return h.cloud.calls
    .filter(
      (call) => allowed(call) && call.principal === 'role' && call.action.endsWith('ImageSharePermission'),
    )
    .map((call) => call.action);
}

interface Scenario {
  /** What the step does, for the test's title. */
  readonly step: string;
  readonly functionTimeoutSeconds?: number;
  /** Runs with the full policy; returns the request that needs the action. */
  prepare(p: Provider): Promise<RequestSpec>;
  /** What the successful step left behind (the image its answer names, else the id of its request). */
  check(p: Provider, request: RequestSpec, imageId: string): void;
}

const SCENARIOS: Record<HandlerRamAction, Scenario> = {
  'ecs:CopyImage': {
    step: 'a create with tags and a resource group',
    prepare: async () => ({
      RequestType: 'Create',
      ResourceProperties: propertiesFor(putSource(h), {
        ImageName: unique('lp'),
        Tags: { team: 'web' },
        ResourceGroupId: 'rg-acfmleast',
      }),
    }),
    check: (_p, _request, imageId) =>
      expect(h.cloud.ecs.getImage(DESTINATION_REGION, imageId)).toMatchObject({
        status: 'Available',
        resourceGroupId: 'rg-acfmleast',
        tags: expect.objectContaining({ team: 'web' }),
      }),
  },
  'ecs:DescribeImages': {
    step: 'a create (which looks for its own copy, then waits on it)',
    prepare: async () => ({
      RequestType: 'Create',
      ResourceProperties: propertiesFor(putSource(h), { ImageName: unique('lp') }),
    }),
    check: (_p, _request, imageId) =>
      expect(h.cloud.ecs.getImage(DESTINATION_REGION, imageId)?.status).toBe('Available'),
  },
  'ecs:ModifyImageAttribute': {
    step: 'a rename',
    prepare: async (p) => {
      const { physicalId, properties } = await created(p);
      return {
        RequestType: 'Update',
        PhysicalResourceId: physicalId,
        OldResourceProperties: properties,
        ResourceProperties: { ...properties, ImageName: unique('renamed') },
      };
    },
    check: (_p, request, imageId) =>
      expect(h.cloud.ecs.getImage(DESTINATION_REGION, imageId)?.imageName).toBe(
        request.ResourceProperties.ImageName,
      ),
  },
  'ecs:TagResources': {
    step: 'a re-tag that adds a tag',
    prepare: async (p) => {
      const { physicalId, properties } = await created(p, { Tags: { team: 'web' } });
      return {
        RequestType: 'Update',
        PhysicalResourceId: physicalId,
        OldResourceProperties: properties,
        ResourceProperties: { ...properties, Tags: { team: 'web', env: 'prod' } },
      };
    },
    check: (_p, _request, imageId) =>
      expect(h.cloud.ecs.getImage(DESTINATION_REGION, imageId)?.tags).toMatchObject({
        team: 'web',
        env: 'prod',
      }),
  },
  'ecs:UntagResources': {
    step: 'a re-tag that removes a tag',
    prepare: async (p) => {
      const { physicalId, properties } = await created(p, { Tags: { team: 'web', env: 'prod' } });
      return {
        RequestType: 'Update',
        PhysicalResourceId: physicalId,
        OldResourceProperties: properties,
        ResourceProperties: { ...properties, Tags: { team: 'web' } },
      };
    },
    check: (_p, _request, imageId) =>
      expect(Object.keys(h.cloud.ecs.getImage(DESTINATION_REGION, imageId)!.tags)).not.toContain('env'),
  },
  'ecs:JoinResourceGroup': {
    step: 'a change of resource group',
    prepare: async (p) => {
      const { physicalId, properties } = await created(p, { ResourceGroupId: 'rg-acfmbefore' });
      return {
        RequestType: 'Update',
        PhysicalResourceId: physicalId,
        OldResourceProperties: properties,
        ResourceProperties: { ...properties, ResourceGroupId: 'rg-acfmafter' },
      };
    },
    check: (_p, _request, imageId) =>
      expect(h.cloud.ecs.getImage(DESTINATION_REGION, imageId)?.resourceGroupId).toBe('rg-acfmafter'),
  },
  'ecs:ModifyImageSharePermission': {
    step: 'a create that shares the copy with another account',
    prepare: async () => ({
      RequestType: 'Create',
      ResourceProperties: propertiesFor(putSource(h), {
        ImageName: unique('lp'),
        SharedWithAccounts: [sharee()],
      }),
    }),
    check: () => expect(sharingCallsMade()).toContain('ModifyImageSharePermission'),
  },
  'ecs:DescribeImageSharePermission': {
    step: 'a create that shares the copy (it reads who the copy is shared with first)',
    prepare: async () => ({
      RequestType: 'Create',
      ResourceProperties: propertiesFor(putSource(h), {
        ImageName: unique('lp'),
        SharedWithAccounts: [sharee()],
      }),
    }),
    check: () => expect(sharingCallsMade()).toContain('DescribeImageSharePermission'),
  },
  'ecs:DeleteImage': {
    step: 'a delete of an Available copy',
    prepare: async (p) => {
      const { physicalId, properties } = await created(p);
      return { RequestType: 'Delete', PhysicalResourceId: physicalId, ResourceProperties: properties };
    },
    check: (p) => expect(ownedImages(h, p.resource)).toEqual([]),
  },
  'ecs:CancelCopyImage': {
    step: 'a delete of a copy still in progress (a rollback after a failed create)',
    prepare: async () => {
      const source = putSource(h, { sizeGiB: MEDIUM_SIZE_GIB });
      const imageId = await startCopyAs(h, source, {});
      // Listed, so that ECS acts on it by id (hiddenCopyActions: not-found, the default, refuses it before).
      await untilAsync(() => isListed(h, imageId));
      return {
        RequestType: 'Delete',
        PhysicalResourceId: imageId,
        ResourceProperties: propertiesFor(source),
      };
    },
    check: (_p, _request, imageId) =>
      expect(h.cloud.ecs.getImage(DESTINATION_REGION, imageId)).toBeUndefined(),
  },
  'fc:InvokeFunction': {
    step: 'a create whose copy outlasts one invocation (it continues in a fresh one)',
    functionTimeoutSeconds: 4,
    prepare: async () => ({
      RequestType: 'Create',
      ResourceProperties: propertiesFor(putSource(h, { sizeGiB: MEDIUM_SIZE_GIB }), {
        ImageName: unique('lp'),
      }),
    }),
    check: (p, _request, imageId) => {
      expect(h.cloud.ecs.getImage(DESTINATION_REGION, imageId)?.status).toBe('Available');
      expect(stepsOf(h, p.functionName).some((step) => step.step === 'continued')).toBe(true);
    },
  },
};

describe('the synthesized role policy', () => {
  it('grants exactly HANDLER_RAM_ACTIONS, and every one of them has a scenario below', () => {
    const policy = resolvePolicy(template, h.cloud.accountId, randomUUID(), DESTINATION_REGION);
    expect(actionsOf(policy).sort()).toEqual([...HANDLER_RAM_ACTIONS].sort());
    expect(Object.keys(SCENARIOS).sort()).toEqual([...HANDLER_RAM_ACTIONS].sort());
    expect(policy.Statement.every((s) => s.Effect === 'Allow')).toBe(true);
  });

  it("allows the image actions on this account's images only; CopyImage and InvokeFunction on * as RAM requires", () => {
    const account = h.cloud.accountId;
    const stackId = randomUUID();
    const policy = resolvePolicy(template, account, stackId, DESTINATION_REGION);
    const ownFunction = `acs:fc:${DESTINATION_REGION}:${account}:functions/${PROVIDER_NAME_PREFIX}${stackId}`;
    const imageActions = HANDLER_RAM_ACTIONS.filter((a) => HANDLER_ACTION_RESOURCES[a] === 'account-images');
    expect(imageActions.every((a) => a.startsWith('ecs:'))).toBe(true);
    for (const action of imageActions) {
      // Images of this account, in the source and destination regions (and any other: ImageReplication).
      for (const region of [SOURCE_REGION, DESTINATION_REGION, 'eu-central-1']) {
        expect([
          action,
          region,
          isAllowed(policy, action, `acs:ecs:${region}:${account}:image/m-bp1x`),
        ]).toEqual([action, region, true]);
      }
      const denied = [
        `acs:ecs:${SOURCE_REGION}:1999999999999999:image/m-bp1x`,
        `acs:ecs:${SOURCE_REGION}:${account}:instance/i-bp1x`,
        `acs:ecs:${SOURCE_REGION}:${account}:snapshot/s-bp1x`,
        `acs:ecs:${SOURCE_REGION}:${account}:disk/d-bp1x`,
        `acs:ecs:${SOURCE_REGION}:${account}:securitygroup/sg-bp1x`,
        ownFunction,
        '*',
      ];
      for (const resource of denied) {
        expect([action, resource, isAllowed(policy, action, resource)]).toEqual([action, resource, false]);
      }
    }
    // "All Resources": RAM checks them against `*`, which only a `*` statement matches.
    expect(HANDLER_RAM_ACTIONS.filter((a) => HANDLER_ACTION_RESOURCES[a] === 'all-resources').sort()).toEqual(
      ['ecs:CopyImage', 'fc:InvokeFunction'],
    );
    expect(isAllowed(policy, 'fc:InvokeFunction', '*')).toBe(true);
    expect(isAllowed(policy, 'ecs:CopyImage', '*')).toBe(true);
    // Nothing else, on anything: no image export, no instances, no FC management, no RAM.
    for (const action of [
      'ecs:ExportImage',
      'ecs:CreateImage',
      'ecs:RunInstances',
      'ecs:DeleteSnapshot',
      'fc:UpdateFunction',
      'fc:CreateFunction',
      'fc:GetFunction',
      'ram:PassRole',
      'sts:AssumeRole',
    ]) {
      for (const resource of [`acs:ecs:${SOURCE_REGION}:${account}:image/m-bp1x`, ownFunction, '*']) {
        expect([action, resource, isAllowed(policy, action, resource)]).toEqual([action, resource, false]);
      }
    }
  });

  it("refuses fc:InvokeFunction granted on the function's own ARN, as RAM does: a long copy cannot continue", async () => {
    // The provider's earlier grant: FC 3.0 InvokeFunction has no resource-level authorization, so this statement
    // is ineffective and the continuation is refused (the copy would fail after one invocation in the real cloud).
    const p = provider(4);
    const scoped: PolicyDocument = {
      Version: '1',
      Statement: [
        ...without(p.policy, 'fc:InvokeFunction').Statement,
        {
          Effect: 'Allow',
          Action: ['fc:InvokeFunction'],
          Resource: [`acs:fc:${DESTINATION_REGION}:${h.cloud.accountId}:functions/${p.functionName}`],
        },
      ],
    };
    h.cloud.putRole({ roleName: p.functionName, assumeRolePolicyDocument: TRUST_FC, policies: [scoped] });
    const { response } = await p.run({
      RequestType: 'Create',
      ResourceProperties: propertiesFor(putSource(h, { sizeGiB: MEDIUM_SIZE_GIB }), {
        ImageName: unique('lp'),
      }),
    });
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('Forbidden.RAM');
    expect(response.Reason).toContain('fc:InvokeFunction on *');
    p.restore();
    await p.run({
      RequestType: 'Delete',
      PhysicalResourceId: response.PhysicalResourceId!,
      ResourceProperties: propertiesFor('m-bp1unused'),
    });
  });
});

describe('every granted action is needed', () => {
  const table = (Object.entries(SCENARIOS) as [HandlerRamAction, Scenario][]).map(
    ([action, scenario]) => [action, scenario.step, scenario] as const,
  );
  it.each(table)(
    'without %s, %s fails with Forbidden.RAM; with it, the same step succeeds',
    async (action, _step, scenario) => {
      const p = provider(scenario.functionTimeoutSeconds);
      const request = await scenario.prepare(p);

      p.revoke(action);
      const before = h.cloud.calls.length;
      const { response: refused } = await p.run(request);
      expect(refused.Status).toBe('FAILED');
      expect(refused.Reason).toContain('Forbidden.RAM');
      expect(refused.Reason).toContain(`not allowed ${action} on `);
      const [product, name] = action.split(':');
      const deniedCalls = roleCallsSince(before).filter((call) => call.code === 'Forbidden.RAM');
      expect(deniedCalls.map(ramAction)).toContain(`${product}:${name}`);
      // The only refusals are for the revoked action.
      expect(new Set(deniedCalls.map(ramAction))).toEqual(new Set([action]));

      p.restore();
      const deleteOf = (id: string): RequestSpec => ({
        RequestType: 'Delete',
        PhysicalResourceId: id,
        ResourceProperties: request.ResourceProperties,
      });
      if (request.RequestType === 'Create') {
        // ROS rolls the failed create back (deleting its copy, if it made one) before anyone tries again.
        expect((await p.run(deleteOf(refused.PhysicalResourceId!))).response.Status).toBe('SUCCESS');
      }
      const from = h.cloud.calls.length;
      const { response: done } = await p.run({ ...request, RequestId: randomUUID() });
      expect(done.Status).toBe('SUCCESS');
      const calls = roleCallsSince(from);
      expect(calls.filter((call) => ramAction(call) === action && allowed(call)).length).toBeGreaterThan(0);
      expect(calls.filter((call) => call.code === 'Forbidden.RAM')).toEqual([]);
      scenario.check(
        p,
        request,
        typeof done.Data?.ImageId === 'string' ? done.Data.ImageId : request.PhysicalResourceId!,
      );
      if (request.RequestType === 'Create') {
        expect((await p.run(deleteOf(done.PhysicalResourceId!))).response.Status).toBe('SUCCESS');
      }
    },
  );
});

describe('nothing beyond the policy', () => {
  it('a whole lifecycle calls only granted actions, every one of them allowed', async () => {
    const p = provider(4);
    const from = h.cloud.calls.length;
    const first = propertiesFor(putSource(h, { sizeGiB: MEDIUM_SIZE_GIB }), {
      ImageName: unique('life'),
      Tags: { team: 'web', env: 'prod' },
      ResourceGroupId: 'rg-acfmfirst',
      SharedWithAccounts: [sharee()],
    });
    const { response: createdAnswer } = await p.run({ RequestType: 'Create', ResourceProperties: first });
    expect(createdAnswer.Status).toBe('SUCCESS');
    const physicalId = createdAnswer.PhysicalResourceId!;
    const imageId = imageIdOf(createdAnswer);
    const second = {
      ...first,
      ImageName: unique('life'),
      Tags: { team: 'ops' },
      ResourceGroupId: 'rg-acfmsecond',
    };
    const { response: updated } = await p.run({
      RequestType: 'Update',
      PhysicalResourceId: physicalId,
      OldResourceProperties: first,
      ResourceProperties: second,
    });
    expect(updated).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: physicalId });
    const third = { ...second, SourceImageId: putSource(h) };
    const { response: replaced } = await p.run({
      RequestType: 'Update',
      PhysicalResourceId: physicalId,
      OldResourceProperties: second,
      ResourceProperties: third,
    });
    expect(replaced.Status).toBe('SUCCESS');
    expect(h.cloud.ecs.getImage(DESTINATION_REGION, imageId)).toBeUndefined();
    const { response: deleted } = await p.run({
      RequestType: 'Delete',
      PhysicalResourceId: replaced.PhysicalResourceId!,
      ResourceProperties: third,
    });
    expect(deleted.Status).toBe('SUCCESS');
    const running = await startCopyAs(h, putSource(h, { sizeGiB: MEDIUM_SIZE_GIB }), {});
    await untilAsync(() => isListed(h, running));
    const { response: cancelled } = await p.run({
      RequestType: 'Delete',
      PhysicalResourceId: running,
      ResourceProperties: third,
    });
    expect(cancelled.Status).toBe('SUCCESS');

    const calls = roleCallsSince(from);
    expect(calls.filter((call) => call.code === 'Forbidden.RAM')).toEqual([]);
    expect([...new Set(calls.map(ramAction))].sort()).toEqual([...HANDLER_RAM_ACTIONS].sort());
    expect([...new Set(calls.filter(allowed).map(ramAction))].sort()).toEqual(
      [...HANDLER_RAM_ACTIONS].sort(),
    );
  });
});
