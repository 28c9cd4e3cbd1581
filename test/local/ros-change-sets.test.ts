import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as $Ros from '@alicloud/ros20190910';
import { LocalCloud, LocalCloudOptions, MAX_CHANGE_SETS_PER_STACK } from '../../lib/local';
import { rosClient, withCloud } from '../support/cloud';
import { FastForwardClock } from '../support/fast-forward-clock';

/**
 * ROS change sets on LocalCloud through the real `@alicloud/ros20190910` client: CreateChangeSet (CREATE and
 * UPDATE), GetChangeSet, ListChangeSets, ExecuteChangeSet, DeleteChangeSet, their statuses, the changes they list
 * (ROS's Change / ResourceChange / ResourceChangeDetail structures), their limits and error codes.
 */

const REGION = 'cn-hangzhou';
const IMAGE = 'm-bp1seedgoldenimage01';

const TRUST = {
  Version: '1',
  Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['fc.aliyuncs.com'] } }],
};
const policy = (action: string) => ({
  PolicyName: 'images',
  PolicyDocument: { Version: '1', Statement: [{ Effect: 'Allow', Action: [action], Resource: ['*'] }] },
});

/** A role (updatable in place but for its name) and launch templates (replaced on any change). */
function body(options: {
  rolePolicy?: string;
  resources?: Record<string, unknown>;
  parameters?: Record<string, unknown>;
}): string {
  return JSON.stringify({
    ROSTemplateFormatVersion: '2015-09-01',
    Parameters: {
      Size: { Type: 'String', Default: 'ecs.g7.large' },
      Secret: { Type: 'String', Default: 'not-telling', NoEcho: true },
      ...options.parameters,
    },
    Resources: {
      Role: {
        Type: 'ALIYUN::RAM::Role',
        Properties: {
          RoleName: { 'Fn::Sub': 'role-${ALIYUN::StackName}' },
          AssumeRolePolicyDocument: TRUST,
          Policies: [policy(options.rolePolicy ?? 'ecs:DescribeImages')],
        },
      },
      ...options.resources,
    },
  });
}

const launchTemplate = (name: string, properties: Record<string, unknown> = {}) => ({
  Type: 'ALIYUN::ECS::LaunchTemplate',
  Properties: { LaunchTemplateName: name, ImageId: IMAGE, ...properties },
});

/** A LocalCloud started with `options`, its ROS on a clock the test moves forward, with the helpers below. */
async function startCloud(options: LocalCloudOptions = {}): Promise<ChangeSetHelpers> {
  const clock = new FastForwardClock();
  const cloud = await LocalCloud.start({ ...options, ros: { clock, ...options.ros } });
  return changeSetsOn(cloud, clock, options);
}

/** {@link startCloud} for `body` alone: the LocalCloud is stopped afterwards. */
function withChangeSets<T>(
  options: LocalCloudOptions,
  body: (t: ChangeSetHelpers) => Promise<T>,
): Promise<T> {
  const clock = new FastForwardClock();
  return withCloud({ ...options, ros: { clock, ...options.ros } }, (cloud) =>
    body(changeSetsOn(cloud, clock, options)),
  );
}

type ChangeSetHelpers = ReturnType<typeof changeSetsOn>;

/** A ROS client for `cloud`, and helpers that create, compute, execute and list change sets and read stacks. */
function changeSetsOn(cloud: LocalCloud, clock: FastForwardClock, options: LocalCloudOptions) {
  /** Every change set created so far computed, and every stack operation ended: no waiting for the clock. */
  const settled = async () => {
    await clock.forward(options.ros?.changeSetCreationMs ?? 200);
    await cloud.ros.settled();
  };
  const ros = rosClient(cloud, REGION);
  const params = (values: Record<string, string>) =>
    Object.entries(values).map(
      ([parameterKey, parameterValue]) =>
        new $Ros.CreateChangeSetRequestParameters({ parameterKey, parameterValue }),
    );
  const createChangeSet = async (request: Partial<$Ros.CreateChangeSetRequest>) =>
    (
      await ros.createChangeSet(
        new $Ros.CreateChangeSetRequest({ regionId: REGION, changeSetName: 'change', ...request }),
      )
    ).body!;
  /** The change set once LocalCloud has computed it. */
  const changeSet = async (changeSetId: string, showTemplate?: boolean) => {
    await settled();
    return (
      await ros.getChangeSet(new $Ros.GetChangeSetRequest({ regionId: REGION, changeSetId, showTemplate }))
    ).body!;
  };
  const execute = async (changeSetId: string, clientToken?: string) => {
    await ros.executeChangeSet(
      new $Ros.ExecuteChangeSetRequest({ regionId: REGION, changeSetId, clientToken }),
    );
    await cloud.ros.settled();
  };
  const stack = async (stackId: string) => {
    await cloud.ros.settled();
    return (await ros.getStack(new $Ros.GetStackRequest({ regionId: REGION, stackId }))).body!;
  };
  const list = async (stackId: string, request: Partial<$Ros.ListChangeSetsRequest> = {}) =>
    (await ros.listChangeSets(new $Ros.ListChangeSetsRequest({ regionId: REGION, stackId, ...request })))
      .body!;
  /** A stack made through a CREATE change set, executed. */
  const createdStack = async (stackName: string, templateBody: string) => {
    const created = await createChangeSet({
      changeSetType: 'CREATE',
      stackName,
      templateBody,
      timeoutInMinutes: 10,
      changeSetName: 'initial',
    });
    await changeSet(created.changeSetId!);
    await execute(created.changeSetId!);
    expect((await stack(created.stackId!)).status).toBe('CREATE_COMPLETE');
    return created.stackId!;
  };
  return { cloud, ros, settled, params, createChangeSet, changeSet, execute, stack, list, createdStack };
}

const errorOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (err) {
    const { code, statusCode, message } = err as { code: string; statusCode: number; message: string };
    return { code, statusCode, message };
  }
  throw new Error('expected the call to fail');
};

const resourceChanges = (body: $Ros.GetChangeSetResponseBody) =>
  (body.changes ?? []).map((change) => {
    expect(change.Type).toBe('Resource');
    return change.ResourceChange;
  });

describe('ROS change sets on LocalCloud', () => {
  let t: ChangeSetHelpers;
  beforeAll(async () => {
    t = await startCloud();
  });
  afterAll(() => t.cloud.stop());

  it('a CREATE change set makes a stack in REVIEW_IN_PROGRESS, lists every resource as Add, and executing it creates the stack', async () => {
    const created = await t.createChangeSet({
      changeSetType: 'CREATE',
      stackName: 'review-me',
      changeSetName: 'first-version',
      description: 'The first version',
      templateBody: body({ resources: { Web: launchTemplate('review-web') } }),
      parameters: t.params({ Size: 'ecs.g7.xlarge', Secret: 'sesame' }),
      timeoutInMinutes: 15,
      disableRollback: true,
      tags: [new $Ros.CreateChangeSetRequestTags({ key: 'team', value: 'images' })],
    });
    expect(created).toMatchObject({
      changeSetId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      stackId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    const stackId = created.stackId!;
    const review = (await t.ros.getStack(new $Ros.GetStackRequest({ regionId: REGION, stackId }))).body!;
    expect(review).toMatchObject({ stackName: 'review-me', status: 'REVIEW_IN_PROGRESS' });
    expect(t.cloud.launchTemplates.list(REGION).map((lt) => lt.launchTemplateName)).not.toContain(
      'review-web',
    );

    const computed = await t.changeSet(created.changeSetId!, true);
    expect(computed).toMatchObject({
      changeSetId: created.changeSetId,
      changeSetName: 'first-version',
      changeSetType: 'CREATE',
      description: 'The first version',
      status: 'CREATE_COMPLETE',
      executionStatus: 'AVAILABLE',
      stackId,
      stackName: 'review-me',
      regionId: REGION,
      timeoutInMinutes: 15,
      disableRollback: true,
      templateBody: body({ resources: { Web: launchTemplate('review-web') } }),
      tags: [{ key: 'team', value: 'images' }],
      createTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/),
    });
    expect(computed.parameters).toEqual(
      expect.arrayContaining([
        { parameterKey: 'ALIYUN::StackName', parameterValue: 'review-me' },
        { parameterKey: 'ALIYUN::StackId', parameterValue: stackId },
        { parameterKey: 'ALIYUN::Region', parameterValue: REGION },
        { parameterKey: 'Size', parameterValue: 'ecs.g7.xlarge' },
        { parameterKey: 'Secret', parameterValue: '****' },
      ]),
    );
    expect(resourceChanges(computed)).toEqual([
      { Action: 'Add', LogicalResourceId: 'Role', ResourceType: 'ALIYUN::RAM::Role', Details: [], Scope: [] },
      {
        Action: 'Add',
        LogicalResourceId: 'Web',
        ResourceType: 'ALIYUN::ECS::LaunchTemplate',
        Details: [],
        Scope: [],
      },
    ]);
    expect((await t.changeSet(created.changeSetId!)).templateBody).toBeUndefined();

    await t.execute(created.changeSetId!);
    const done = await t.stack(stackId);
    expect([done.status, done.timeoutInMinutes, done.disableRollback]).toEqual(['CREATE_COMPLETE', 15, true]);
    expect(done.parameters).toEqual(
      expect.arrayContaining([{ parameterKey: 'Size', parameterValue: 'ecs.g7.xlarge' }]),
    );
    expect(done.tags).toEqual([{ key: 'team', value: 'images' }]);
    expect(t.cloud.launchTemplates.list(REGION).map((lt) => lt.launchTemplateName)).toContain('review-web');
    expect(await t.changeSet(created.changeSetId!)).toMatchObject({
      status: 'CREATE_COMPLETE',
      executionStatus: 'EXECUTE_COMPLETE',
    });
  });

  it('an UPDATE change set lists what changes, how and why, and executing it updates the stack as it said', async () => {
    const stackId = await t.createdStack(
      'update-me',
      body({
        resources: {
          Web: launchTemplate('', { LaunchTemplateName: { Ref: 'WebName' }, InstanceType: { Ref: 'Size' } }),
          Other: launchTemplate('update-other', { Description: { 'Fn::GetAtt': ['Role', 'Arn'] } }),
          Retired: launchTemplate('update-retired'),
        },
        parameters: { WebName: { Type: 'String', Default: 'update-web' } },
      }),
    );
    const before = await t.ros.listStackResources(
      new $Ros.ListStackResourcesRequest({ regionId: REGION, stackId }),
    );
    const physicalId = (id: string) =>
      before.body!.resources!.find((r) => r.logicalResourceId === id)!.physicalResourceId;

    const created = await t.createChangeSet({
      stackId,
      changeSetName: 'second-version',
      templateBody: body({
        rolePolicy: 'ecs:CopyImage',
        resources: {
          Web: launchTemplate('', { LaunchTemplateName: { Ref: 'WebName' }, InstanceType: { Ref: 'Size' } }),
          Other: launchTemplate('update-other', { Description: { 'Fn::GetAtt': ['Role', 'Arn'] } }),
          Added: launchTemplate('update-added'),
        },
        parameters: { WebName: { Type: 'String', Default: 'update-web' } },
      }),
      // A new name too: the name of a launch template is unique, so a replacement that kept it would fail.
      parameters: t.params({ Size: 'ecs.g7.xlarge', WebName: 'update-web-2' }),
      replacementOption: 'Enabled',
    });
    expect(created.stackId).toBe(stackId);
    const computed = await t.changeSet(created.changeSetId!);
    expect([computed.status, computed.executionStatus, computed.changeSetType]).toEqual([
      'CREATE_COMPLETE',
      'AVAILABLE',
      'UPDATE',
    ]);
    expect(resourceChanges(computed)).toEqual([
      {
        // A policy changes: updated in place.
        Action: 'Modify',
        LogicalResourceId: 'Role',
        PhysicalResourceId: physicalId('Role'),
        ResourceType: 'ALIYUN::RAM::Role',
        Replacement: 'False',
        Scope: ['Properties'],
        Details: [
          {
            ChangeSource: 'DirectModification',
            Evaluation: 'Static',
            Target: { Attribute: 'Properties', Name: 'Policies', RequiresRecreation: 'Never' },
          },
        ],
      },
      {
        // A parameter it references changes a property no launch template can change in place: replaced.
        Action: 'Modify',
        LogicalResourceId: 'Web',
        PhysicalResourceId: physicalId('Web'),
        ResourceType: 'ALIYUN::ECS::LaunchTemplate',
        Replacement: 'True',
        Scope: ['Properties'],
        Details: [
          {
            ChangeSource: 'ParameterReference',
            CausingEntity: 'WebName',
            Evaluation: 'Static',
            Target: { Attribute: 'Properties', Name: 'LaunchTemplateName', RequiresRecreation: 'Always' },
          },
          {
            ChangeSource: 'ParameterReference',
            CausingEntity: 'Size',
            Evaluation: 'Static',
            Target: { Attribute: 'Properties', Name: 'InstanceType', RequiresRecreation: 'Always' },
          },
        ],
      },
      {
        // It references an attribute of a resource the update modifies: replaced only if the value changes.
        Action: 'Modify',
        LogicalResourceId: 'Other',
        PhysicalResourceId: physicalId('Other'),
        ResourceType: 'ALIYUN::ECS::LaunchTemplate',
        Replacement: 'Conditional',
        Scope: ['Properties'],
        Details: [
          {
            ChangeSource: 'ResourceAttribute',
            CausingEntity: 'Role.Arn',
            Evaluation: 'Dynamic',
            Target: { Attribute: 'Properties', Name: 'Description', RequiresRecreation: 'Always' },
          },
        ],
      },
      {
        Action: 'Add',
        LogicalResourceId: 'Added',
        ResourceType: 'ALIYUN::ECS::LaunchTemplate',
        Details: [],
        Scope: [],
      },
      {
        Action: 'Remove',
        LogicalResourceId: 'Retired',
        PhysicalResourceId: physicalId('Retired'),
        ResourceType: 'ALIYUN::ECS::LaunchTemplate',
        Details: [],
        Scope: [],
      },
    ]);
    // Nothing has changed yet.
    expect((await t.stack(stackId)).status).toBe('CREATE_COMPLETE');
    expect(t.cloud.launchTemplates.get(REGION, physicalId('Retired')!)).toBeDefined();

    await t.execute(created.changeSetId!);
    expect((await t.stack(stackId)).status).toBe('UPDATE_COMPLETE');
    const after = await t.ros.listStackResources(
      new $Ros.ListStackResourcesRequest({ regionId: REGION, stackId }),
    );
    const now = Object.fromEntries(
      after.body!.resources!.map((r) => [r.logicalResourceId!, r.physicalResourceId!]),
    );
    expect(Object.keys(now).sort()).toEqual(['Added', 'Other', 'Role', 'Web']);
    expect(now.Role).toBe(physicalId('Role'));
    expect(now.Other).toBe(physicalId('Other')); // the role's Arn did not change: no replacement after all
    expect(now.Web).not.toBe(physicalId('Web'));
    expect(t.cloud.launchTemplates.get(REGION, now.Web)?.configuration).toMatchObject({
      InstanceType: 'ecs.g7.xlarge',
    });
    expect(t.cloud.launchTemplates.get(REGION, physicalId('Retired')!)).toBeUndefined();
    expect(t.cloud.getRole('role-update-me')?.policies).toEqual([policy('ecs:CopyImage').PolicyDocument]);
    expect((await t.changeSet(created.changeSetId!)).executionStatus).toBe('EXECUTE_COMPLETE');
  });

  it('reports a Metadata or DeletionPolicy edit as a Modify that replaces nothing', async () => {
    const stackId = await t.createdStack('metadata', body({}));
    const edited = JSON.parse(body({}));
    edited.Resources.Role.Metadata = { owner: 'images' };
    edited.Resources.Role.DeletionPolicy = 'Retain';
    const created = await t.createChangeSet({ stackId, templateBody: JSON.stringify(edited) });
    expect(resourceChanges(await t.changeSet(created.changeSetId!))).toEqual([
      expect.objectContaining({
        Action: 'Modify',
        LogicalResourceId: 'Role',
        Replacement: 'False',
        Scope: ['Metadata', 'DeletionPolicy'],
        Details: [
          {
            ChangeSource: 'DirectModification',
            Evaluation: 'Static',
            Target: { Attribute: 'Metadata', Name: null, RequiresRecreation: 'Never' },
          },
          {
            ChangeSource: 'DirectModification',
            Evaluation: 'Static',
            Target: { Attribute: 'DeletionPolicy', Name: null, RequiresRecreation: 'Never' },
          },
        ],
      }),
    ]);
  });

  it('keeps UsePreviousParameters and the stack template when an UPDATE change set gives neither', async () => {
    const templateBody = body({
      resources: { Web: launchTemplate('keep-web', { InstanceType: { Ref: 'Size' } }) },
    });
    const created = await t.createChangeSet({
      changeSetType: 'CREATE',
      stackName: 'previous-parameters',
      templateBody,
      parameters: t.params({ Size: 'ecs.g7.2xlarge', Secret: 'first-secret' }),
      timeoutInMinutes: 10,
    });
    await t.changeSet(created.changeSetId!);
    await t.execute(created.changeSetId!);
    const update = await t.createChangeSet({
      stackId: created.stackId,
      changeSetName: 'new-secret',
      parameters: t.params({ Secret: 'second-secret' }),
      usePreviousParameters: true,
    });
    const computed = await t.changeSet(update.changeSetId!, true);
    expect(computed.templateBody).toBe(templateBody);
    expect(computed.parameters).toEqual(
      expect.arrayContaining([
        { parameterKey: 'Size', parameterValue: 'ecs.g7.2xlarge' },
        { parameterKey: 'Secret', parameterValue: '****' },
      ]),
    );
    // Only the NoEcho parameter changed: no resource uses it, so no resource changes, and nothing leaks.
    expect(computed.status).toBe('CREATE_COMPLETE');
    expect(computed.changes).toEqual([]);
    expect(JSON.stringify(computed)).not.toContain('second-secret');
  });

  it('fails an execution the stack update fails (EXECUTE_FAILED, with the reason): here, a replacement not enabled', async () => {
    const stackId = await t.createdStack(
      'no-replacement',
      body({ resources: { Web: launchTemplate('no-repl') } }),
    );
    const created = await t.createChangeSet({
      stackId,
      templateBody: body({
        resources: { Web: launchTemplate('no-repl', { InstanceType: 'ecs.g7.xlarge' }) },
      }),
    });
    const computed = await t.changeSet(created.changeSetId!);
    expect(resourceChanges(computed)[0]).toMatchObject({ LogicalResourceId: 'Web', Replacement: 'True' });
    await t.execute(created.changeSetId!);
    const stack = await t.stack(stackId);
    expect(stack.status).toBe('ROLLBACK_COMPLETE');
    expect(await t.changeSet(created.changeSetId!)).toMatchObject({
      executionStatus: 'EXECUTE_FAILED',
      statusReason: expect.stringContaining('update the stack with ReplacementOption=Enabled'),
    });
  });

  it("deletes the stack's other change sets when one is executed, as the DeleteChangeSet reference says", async () => {
    const stackId = await t.createdStack('siblings', body({}));
    const first = await t.createChangeSet({
      stackId,
      changeSetName: 'a',
      templateBody: body({ rolePolicy: 'ecs:CopyImage' }),
    });
    const second = await t.createChangeSet({
      stackId,
      changeSetName: 'b',
      templateBody: body({ rolePolicy: 'ecs:DeleteImage' }),
    });
    await t.changeSet(second.changeSetId!);
    await t.execute(first.changeSetId!);
    expect(await errorOf(t.changeSet(second.changeSetId!))).toEqual({
      code: 'ChangeSetNotFound',
      statusCode: 404,
      message: expect.stringContaining(`The ChangeSet ${second.changeSetId} could not be found.`),
    });
    // The executed one stays (the stack's first one, executed before, went with this execution), and can no longer
    // be executed or deleted.
    expect((await t.list(stackId)).changeSets!.map((c) => [c.changeSetName, c.executionStatus])).toEqual([
      ['a', 'EXECUTE_COMPLETE'],
    ]);
    expect(await errorOf(t.execute(first.changeSetId!))).toMatchObject({
      code: 'InvalidChangeSetStatus',
      statusCode: 400,
    });
    expect(
      await errorOf(
        t.ros.deleteChangeSet(
          new $Ros.DeleteChangeSetRequest({ regionId: REGION, changeSetId: first.changeSetId }),
        ),
      ),
    ).toMatchObject({
      code: 'InvalidChangeSetStatus',
    });
  });

  it("lists a stack's change sets with ListChangeSets filters and paging", async () => {
    const stackId = await t.createdStack('listing', body({}));
    for (const name of ['alpha-1', 'alpha-2', 'beta-1']) {
      await t.createChangeSet({
        stackId,
        changeSetName: name,
        templateBody: body({ rolePolicy: `ecs:Describe${name}` }),
      });
    }
    const same = await t.createChangeSet({ stackId, changeSetName: 'unchanged', templateBody: body({}) });
    await t.settled();
    const names = async (request: Partial<$Ros.ListChangeSetsRequest>) =>
      (await t.list(stackId, request)).changeSets!.map((c) => c.changeSetName);
    // The change set that created the stack stays, executed, until another is executed.
    expect(await names({})).toEqual(['initial', 'alpha-1', 'alpha-2', 'beta-1', 'unchanged']);
    expect(await names({ changeSetName: ['alpha-*'] })).toEqual(['alpha-1', 'alpha-2']);
    expect(await names({ changeSetName: ['*-1', 'unchanged'] })).toEqual(['alpha-1', 'beta-1', 'unchanged']);
    expect(await names({ status: ['CREATE_FAILED'] })).toEqual(['unchanged']);
    expect(await names({ executionStatus: ['AVAILABLE'] })).toEqual(['alpha-1', 'alpha-2', 'beta-1']);
    expect(await names({ changeSetId: same.changeSetId })).toEqual(['unchanged']);
    const page = await t.list(stackId, { pageSize: 3, pageNumber: 2 });
    expect([page.totalCount, page.pageNumber, page.pageSize, page.changeSets!.length]).toEqual([5, 2, 3, 2]);
    expect(page.changeSets![1]).toEqual({
      changeSetId: same.changeSetId,
      changeSetName: 'unchanged',
      changeSetType: 'UPDATE',
      createTime: expect.any(String),
      executionStatus: 'UNAVAILABLE',
      regionId: REGION,
      stackId,
      stackName: 'listing',
      status: 'CREATE_FAILED',
      statusReason: expect.stringContaining('Update the completely same stack listing is not supported'),
      tags: [],
    });
    expect(await errorOf(t.list(stackId, { pageSize: 51 }))).toMatchObject({ code: 'InvalidParameter' });
    expect(await errorOf(t.list(stackId, { status: ['DONE'] }))).toMatchObject({ code: 'InvalidParameter' });
    expect(await errorOf(t.list(stackId, { changeSetName: ['a', 'b', 'c', 'd', 'e', 'f'] }))).toMatchObject({
      code: 'InvalidParameter',
      message: expect.stringContaining('at most 5 values'),
    });
  });

  it("deletes a change set; a CREATE change set's stack stays in review until it is deleted, with its change sets", async () => {
    const created = await t.createChangeSet({
      changeSetType: 'CREATE',
      stackName: 'never-created',
      templateBody: body({}),
      timeoutInMinutes: 10,
    });
    await t.changeSet(created.changeSetId!);
    await t.ros.deleteChangeSet(
      new $Ros.DeleteChangeSetRequest({ regionId: REGION, changeSetId: created.changeSetId }),
    );
    expect(await errorOf(t.changeSet(created.changeSetId!))).toMatchObject({
      code: 'ChangeSetNotFound',
      statusCode: 404,
    });
    expect((await t.stack(created.stackId!)).status).toBe('REVIEW_IN_PROGRESS');

    const again = await t.createChangeSet({
      changeSetType: 'CREATE',
      stackName: 'never-created-2',
      templateBody: body({}),
      timeoutInMinutes: 10,
    });
    await t.ros.deleteStack(new $Ros.DeleteStackRequest({ regionId: REGION, stackId: again.stackId }));
    expect((await t.stack(again.stackId!)).status).toBe('DELETE_COMPLETE');
    expect(await errorOf(t.changeSet(again.changeSetId!))).toMatchObject({ code: 'ChangeSetNotFound' });
    expect((await t.list(again.stackId!)).changeSets).toEqual([]);
  });

  it('answers each documented error code', async () => {
    const stackId = await t.createdStack('errors', body({}));
    const { changeSetId } = await t.createChangeSet({
      stackId,
      changeSetName: 'taken',
      templateBody: body({ rolePolicy: 'ecs:CopyImage' }),
    });
    await t.settled();
    const unknownId = '00000000-0000-4000-8000-000000000000';

    expect(
      await errorOf(t.createChangeSet({ stackId, changeSetName: 'taken', templateBody: body({}) })),
    ).toEqual({
      code: 'ChangeSetExists',
      statusCode: 409,
      message: expect.stringContaining('The ChangeSet (taken) of Stack (errors) already exists.'),
    });
    expect(
      await errorOf(
        t.createChangeSet({
          changeSetType: 'CREATE',
          stackName: 'errors',
          templateBody: body({}),
          timeoutInMinutes: 10,
        }),
      ),
    ).toMatchObject({ code: 'StackExists', statusCode: 409 });
    expect(await errorOf(t.createChangeSet({ stackId: unknownId, templateBody: body({}) }))).toMatchObject({
      code: 'StackNotFound',
      statusCode: 404,
    });
    for (const call of [
      t.changeSet(unknownId),
      t.execute(unknownId),
      t.ros.deleteChangeSet(new $Ros.DeleteChangeSetRequest({ regionId: REGION, changeSetId: unknownId })),
    ]) {
      expect(await errorOf(call)).toEqual({
        code: 'ChangeSetNotFound',
        statusCode: 404,
        message: expect.stringContaining(`The ChangeSet ${unknownId} could not be found.`),
      });
    }
    // A stack a CREATE change set made takes no other change set until it is created (ROS user guide).
    const review = await t.createChangeSet({
      changeSetType: 'CREATE',
      stackName: 'in-review',
      templateBody: body({}),
      timeoutInMinutes: 10,
    });
    expect(
      await errorOf(t.createChangeSet({ stackId: review.stackId, templateBody: body({}) })),
    ).toMatchObject({
      code: 'ActionInProgress',
      statusCode: 409,
    });
    // Missing and invalid parameters name the parameter.
    expect(
      await errorOf(
        t.createChangeSet({ changeSetType: 'CREATE', stackName: 'no-timeout', templateBody: body({}) }),
      ),
    ).toMatchObject({
      code: 'MissingParameter',
      message: expect.stringContaining('TimeoutInMinutes'),
    });
    expect(await errorOf(t.createChangeSet({ templateBody: body({}) }))).toMatchObject({
      code: 'MissingParameter',
      message: expect.stringContaining('StackId'),
    });
    expect(
      await errorOf(t.createChangeSet({ stackId, changeSetName: '-dash-first', templateBody: body({}) })),
    ).toMatchObject({
      code: 'InvalidParameter',
      message: expect.stringContaining('ChangeSetName ("-dash-first") is invalid'),
    });
    expect(
      await errorOf(t.createChangeSet({ stackId, changeSetType: 'DELETE', templateBody: body({}) })),
    ).toMatchObject({
      code: 'InvalidParameter',
      message: expect.stringContaining('ChangeSetType'),
    });
    expect(
      await errorOf(
        t.createChangeSet({ stackId, changeSetName: 'bad-template', templateBody: '{"Resources": 1}' }),
      ),
    ).toMatchObject({
      code: 'InvalidTemplate',
    });
    // What LocalCloud does not play is refused, not half done.
    expect(
      await errorOf(t.createChangeSet({ stackId, changeSetType: 'IMPORT', templateBody: body({}) })),
    ).toMatchObject({
      code: 'NotSupported',
    });
    expect(
      await errorOf(
        t.createChangeSet({
          stackId,
          changeSetName: 'policy',
          templateBody: body({}),
          stackPolicyBody: '{}',
        }),
      ),
    ).toMatchObject({
      code: 'NotSupported',
      message: expect.stringContaining('StackPolicyBody'),
    });
    // A change set that is still being computed can be neither executed nor deleted.
    await withChangeSets({ ros: { changeSetCreationMs: 600_000 } }, async (slow) => {
      const pending = await slow.createChangeSet({
        changeSetType: 'CREATE',
        stackName: 'slow',
        templateBody: body({}),
        timeoutInMinutes: 10,
      });
      const got = (
        await slow.ros.getChangeSet(
          new $Ros.GetChangeSetRequest({ regionId: REGION, changeSetId: pending.changeSetId }),
        )
      ).body!;
      expect([got.status, got.executionStatus, got.changes]).toEqual(['CREATE_PENDING', 'UNAVAILABLE', []]);
      expect(
        await errorOf(
          slow.ros.executeChangeSet(
            new $Ros.ExecuteChangeSetRequest({ regionId: REGION, changeSetId: pending.changeSetId }),
          ),
        ),
      ).toMatchObject({
        code: 'InvalidChangeSetStatus',
        message: expect.stringContaining('its Status is CREATE_PENDING and its ExecutionStatus UNAVAILABLE'),
      });
      expect(
        await errorOf(
          slow.ros.deleteChangeSet(
            new $Ros.DeleteChangeSetRequest({ regionId: REGION, changeSetId: pending.changeSetId }),
          ),
        ),
      ).toMatchObject({
        code: 'InvalidChangeSetStatus',
      });
    });
    expect(changeSetId).toBeDefined();
  });

  it(`refuses a change set beyond ${MAX_CHANGE_SETS_PER_STACK} on a stack`, async () => {
    const stackId = await t.createdStack('crowded', body({}));
    // The executed one counts: 1 + 19 more make 20.
    for (let i = 1; i < MAX_CHANGE_SETS_PER_STACK; i++) {
      await t.createChangeSet({
        stackId,
        changeSetName: `cs-${i}`,
        templateBody: body({ rolePolicy: `ecs:Action${i}` }),
      });
    }
    expect(
      await errorOf(
        t.createChangeSet({
          stackId,
          changeSetName: 'one-too-many',
          templateBody: body({ rolePolicy: 'ecs:More' }),
        }),
      ),
    ).toEqual({
      code: 'LimitExceeded',
      statusCode: 400,
      message: expect.stringContaining(`Stack crowded has ${MAX_CHANGE_SETS_PER_STACK} change sets`),
    });
  });

  it('replays a CreateChangeSet and an ExecuteChangeSet with the same ClientToken; refuses the token for another request', async () => {
    const stackId = await t.createdStack('tokens', body({}));
    const request = {
      stackId,
      changeSetName: 'tokened',
      templateBody: body({ rolePolicy: 'ecs:CopyImage' }),
      clientToken: 'cs-token-1',
    };
    const first = await t.createChangeSet(request);
    const replay = await t.createChangeSet(request);
    expect(replay).toMatchObject({ changeSetId: first.changeSetId, stackId });
    expect(await errorOf(t.createChangeSet({ ...request, changeSetName: 'other-name' }))).toMatchObject({
      code: 'InvalidIdempotenceParameter',
    });
    await t.changeSet(first.changeSetId!);
    await t.execute(first.changeSetId!, 'execute-token-1');
    await t.execute(first.changeSetId!, 'execute-token-1'); // the same request again: nothing more happens
    expect((await t.stack(stackId)).status).toBe('UPDATE_COMPLETE');
  });

  it('fails a change set whose template has a resource type LocalCloud does not implement', async () => {
    const created = await t.createChangeSet({
      changeSetType: 'CREATE',
      stackName: 'unsupported-type',
      templateBody: body({
        resources: { Vpc: { Type: 'ALIYUN::ECS::VPC', Properties: { CidrBlock: '10.0.0.0/8' } } },
      }),
      timeoutInMinutes: 10,
    });
    expect(await t.changeSet(created.changeSetId!)).toMatchObject({
      status: 'CREATE_FAILED',
      executionStatus: 'UNAVAILABLE',
      statusReason: 'Resource type ALIYUN::ECS::VPC is not supported by LocalCloud',
    });
  });

  it("gives a change set's RAM resource as its stack, so a policy on one stack does not reach another's change sets", async () => {
    const mine = await t.createdStack('ram-mine', body({}));
    const theirs = await t.createdStack('ram-theirs', body({}));
    const mineSet = await t.createChangeSet({
      stackId: mine,
      changeSetName: 'mine',
      templateBody: body({ rolePolicy: 'ecs:A' }),
    });
    const theirSet = await t.createChangeSet({
      stackId: theirs,
      changeSetName: 'theirs',
      templateBody: body({ rolePolicy: 'ecs:B' }),
    });
    await t.settled();
    const credentials = t.cloud.issueRoleCredentials('reviewer', {
      Version: '1',
      Statement: [
        { Effect: 'Allow', Action: ['ros:GetChangeSet'], Resource: [`acs:ros:${REGION}:*:stack/${mine}`] },
      ],
    });
    const reviewer = rosClient(t.cloud, REGION, credentials);
    const get = (changeSetId: string) =>
      reviewer.getChangeSet(new $Ros.GetChangeSetRequest({ regionId: REGION, changeSetId }));
    expect((await get(mineSet.changeSetId!)).body!.changeSetName).toBe('mine');
    expect(await errorOf(get(theirSet.changeSetId!))).toMatchObject({ code: 'Forbidden.RAM' });
  });
});

describe('change set variants', () => {
  it('changeSetWithoutChanges=failed (the default): a change set that changes nothing ends CREATE_FAILED, saying so', async () => {
    await withChangeSets({}, async (t) => {
      const stackId = await t.createdStack('same', body({}));
      const created = await t.createChangeSet({ stackId, templateBody: body({}) });
      expect(await t.changeSet(created.changeSetId!)).toMatchObject({
        status: 'CREATE_FAILED',
        executionStatus: 'UNAVAILABLE',
        statusReason: expect.stringContaining('The change set changes nothing'),
      });
    });
  });

  it('changeSetWithoutChanges=refused: CreateChangeSet answers NotSupported, as UpdateStack does', async () => {
    await withChangeSets({ variants: { changeSetWithoutChanges: 'refused' } }, async (t) => {
      const stackId = await t.createdStack('same', body({}));
      expect(await errorOf(t.createChangeSet({ stackId, templateBody: body({}) }))).toMatchObject({
        code: 'NotSupported',
        message: expect.stringContaining('Update the completely same stack same is not supported'),
      });
    });
  });

  it('executedChangeSetSiblings=obsolete: the other change sets stay, OBSOLETE, and can be neither executed nor deleted', async () => {
    await withChangeSets({ variants: { executedChangeSetSiblings: 'obsolete' } }, async (t) => {
      const stackId = await t.createdStack('obsolete', body({}));
      const first = await t.createChangeSet({
        stackId,
        changeSetName: 'a',
        templateBody: body({ rolePolicy: 'ecs:CopyImage' }),
      });
      const second = await t.createChangeSet({
        stackId,
        changeSetName: 'b',
        templateBody: body({ rolePolicy: 'ecs:DeleteImage' }),
      });
      await t.changeSet(second.changeSetId!);
      await t.execute(first.changeSetId!);
      expect((await t.list(stackId)).changeSets!.map((c) => [c.changeSetName, c.executionStatus])).toEqual([
        ['initial', 'EXECUTE_COMPLETE'], // an executed change set stays what it was
        ['a', 'EXECUTE_COMPLETE'],
        ['b', 'OBSOLETE'],
      ]);
      expect(await errorOf(t.execute(second.changeSetId!))).toMatchObject({ code: 'InvalidChangeSetStatus' });
      expect(
        await errorOf(
          t.ros.deleteChangeSet(
            new $Ros.DeleteChangeSetRequest({ regionId: REGION, changeSetId: second.changeSetId }),
          ),
        ),
      ).toMatchObject({ code: 'InvalidChangeSetStatus' });
    });
  });
});

describe('change sets across a restart', () => {
  it('keeps a stack in review and its change sets, and computes one that was pending', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'change-sets-'));
    const stateFile = path.join(dir, 'state.json');
    try {
      const created = await withChangeSets({ stateFile, ros: { changeSetCreationMs: 600_000 } }, (first) =>
        first.createChangeSet({
          changeSetType: 'CREATE',
          stackName: 'restarted',
          templateBody: body({}),
          timeoutInMinutes: 10,
        }),
      );

      await withChangeSets({ stateFile }, async (second) => {
        expect((await second.stack(created.stackId!)).status).toBe('REVIEW_IN_PROGRESS');
        expect(await second.changeSet(created.changeSetId!)).toMatchObject({
          status: 'CREATE_COMPLETE',
          executionStatus: 'AVAILABLE',
        });
        await second.execute(created.changeSetId!);
        expect((await second.stack(created.stackId!)).status).toBe('CREATE_COMPLETE');
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
