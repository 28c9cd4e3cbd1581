/**
 * `Custom::ImageDistribution` against LocalCloud with three accounts, through the real wire protocol: the owner's
 * stack (synthesized from the construct) is submitted to LocalCloud's ROS as it is; its provider function runs the
 * bundled handler, which calls the stack group API; each instance stack runs in its target account with the handler
 * code the handler filled in. Checked through the real SDK clients of every account.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type Ros from '@alicloud/ros20190910';
import * as $Ros from '@alicloud/ros20190910';
import * as $Ecs from '@alicloud/ecs20140526';
import * as ros from '@alicloud/ros-cdk-core';
import { ImageDistribution, type ImageDistributionProps } from '../../lib';
import type { LocalAccount, LocalCloud } from '../../lib/local';
import { ALL_IMAGE_STATUSES } from '../../lib/protocol';
import { ecsClient, rosClient } from '../support/cloud';
import { LocalCloud as Cloud } from '../../lib/local';

const REGION = 'cn-hangzhou';
const OTHER_REGION = 'cn-beijing';
const THIRD_REGION = 'cn-shanghai';
const STACK = 'Org';
const GROUP = 'Org-Golden';
const ADMINISTRATION_ROLE = 'AliyunROSStackGroupAdministrationRole';
const EXECUTION_ROLE = 'AliyunROSStackGroupExecutionRole';

jest.setTimeout(600_000);

/** The documented self-managed roles: administration in the owner, execution in `targets`. */
function grantRoles(owner: LocalAccount, targets: readonly LocalAccount[]): void {
  owner.putRole({
    roleName: ADMINISTRATION_ROLE,
    assumeRolePolicyDocument: {
      Version: '1',
      Statement: [
        { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['ros.aliyuncs.com'] } },
      ],
    },
    policies: [
      {
        Version: '1',
        Statement: [
          { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `acs:ram::*:role/${EXECUTION_ROLE}` },
        ],
      },
    ],
  });
  for (const target of targets) {
    target.putRole({
      roleName: EXECUTION_ROLE,
      assumeRolePolicyDocument: {
        Version: '1',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: { RAM: [`acs:ram::${owner.accountId}:root`] },
          },
        ],
      },
      policies: [{ Version: '1', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }],
    });
  }
}

/** The owner's template for these props (the construct as a user writes it, with the attributes as outputs). */
function templateFor(
  props: Omit<ImageDistributionProps, 'sourceImageId' | 'sourceRegionId'>,
  source: string,
): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'distribution-group-'));
  try {
    const app = new ros.App({ outdir });
    const stack = new ros.Stack(app, STACK);
    const distribution = new ImageDistribution(stack, 'Golden', {
      sourceImageId: source,
      sourceRegionId: REGION,
      ...props,
    });
    new ros.RosOutput(stack, 'ImageIds', { value: distribution.attrImageIds });
    new ros.RosOutput(stack, 'FailedTargets', { value: distribution.attrFailedTargets });
    new ros.RosOutput(stack, 'GroupName', { value: distribution.attrStackGroupName });
    return JSON.stringify(app.synth().getStackByName(STACK).template);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** Creates the stack in the cloud's first account and returns it once everything running in the cloud has ended. */
async function createAndSettle(
  cloud: LocalCloud,
  stackName: string,
  templateBody: string,
): Promise<$Ros.GetStackResponseBody> {
  const client = rosClient(cloud, REGION);
  const created = await client.createStack(
    new $Ros.CreateStackRequest({ regionId: REGION, stackName, templateBody, timeoutInMinutes: 30 }),
  );
  await cloud.ros.settled();
  return (
    await client.getStack(new $Ros.GetStackRequest({ regionId: REGION, stackId: created.body!.stackId! }))
  ).body!;
}

/** A stack's outputs by key. */
function outputsOf(stack: $Ros.GetStackResponseBody): Record<string, string> {
  return Object.fromEntries((stack.outputs ?? []).map((o) => [o['OutputKey'], String(o['OutputValue'])]));
}

describe('Custom::ImageDistribution on LocalCloud with three accounts', () => {
  let cloud: LocalCloud;
  let client: Ros;
  let source: string;
  let stackId: string;
  let owner: LocalAccount;
  let second: LocalAccount;
  let third: LocalAccount;
  /** The owner's images in the target regions before the distribution (LocalCloud seeds a few). */
  const ownerImagesBefore: Record<string, string[]> = {};

  beforeAll(async () => {
    cloud = await Cloud.start({ accounts: 3, copyDurationMs: 500 });
    [owner, second, third] = cloud.accounts;
    client = rosClient(cloud, REGION);
    source = cloud.ecs.putImage(REGION, { imageName: 'golden-source', sizeGiB: 20 });
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  /** Everything the handler functions logged, for a failure's message. */
  function handlerLogs(): string {
    return cloud.accounts
      .flatMap((account) =>
        account.fc
          .invocations()
          .map(
            (i) =>
              `[${account.accountId}] ${i.functionName} ${i.outcome}: ${i.error ?? ''}\n${i.logs.join('\n')}`,
          ),
      )
      .join('\n')
      .slice(-20_000);
  }

  async function settledStack(): Promise<$Ros.GetStackResponseBody> {
    for (;;) {
      const stack = (await client.getStack(new $Ros.GetStackRequest({ regionId: REGION, stackId }))).body!;
      if (!stack.status!.endsWith('_IN_PROGRESS')) {
        return stack;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  async function expectStatus(status: string): Promise<Record<string, string>> {
    const stack = await settledStack();
    if (stack.status !== status) {
      throw new Error(`stack ${stack.status}: ${stack.statusReason}\n--- handler ---\n${handlerLogs()}`);
    }
    return outputsOf(stack);
  }

  async function update(
    props: Omit<ImageDistributionProps, 'sourceImageId' | 'sourceRegionId'>,
  ): Promise<void> {
    await client.updateStack(
      new $Ros.UpdateStackRequest({
        regionId: REGION,
        stackId,
        templateBody: templateFor(props, source),
        timeoutInMinutes: 30,
      }),
    );
  }

  /** The Available images an account owns in a region, excluding the owner's source and replicas. */
  async function imagesOf(account: LocalAccount, regionId: string): Promise<string[]> {
    const answer = await ecsClient(cloud, regionId, account.credentials).describeImages(
      new $Ecs.DescribeImagesRequest({
        regionId,
        imageOwnerAlias: 'self',
        status: ALL_IMAGE_STATUSES.join(','),
        pageSize: 100,
      }),
    );
    return (answer.body!.images?.image ?? []).map((image) => `${image.imageId}:${image.status}`);
  }

  /** The instances of the group, `<account>/<region>`. */
  async function instances(): Promise<string[]> {
    const answer = await client.listStackInstances(
      new $Ros.ListStackInstancesRequest({ regionId: REGION, stackGroupName: GROUP, pageSize: 50 }),
    );
    return (answer.body!.stackInstances ?? []).map((i) => `${i.accountId}/${i.regionId}`).sort();
  }

  /** The accounts the owner's replica in a region is shared with. */
  async function replicaSharedWith(regionId: string): Promise<string[]> {
    const ecs = ecsClient(cloud, regionId, owner.credentials);
    const images = await ecs.describeImages(
      new $Ecs.DescribeImagesRequest({ regionId, imageOwnerAlias: 'self', imageName: `replica-${GROUP}` }),
    );
    const replica = images.body!.images!.image!.find((image) => image.imageName === `replica-${GROUP}`)!;
    const shares = await ecs.describeImageSharePermission(
      new $Ecs.DescribeImageSharePermissionRequest({ regionId, imageId: replica.imageId, pageSize: 100 }),
    );
    return (shares.body!.accounts?.account ?? []).map((account) => account.aliyunId!).sort();
  }

  const imageIdsOf = (outputs: Record<string, string>) =>
    JSON.parse(outputs.ImageIds) as Record<string, Record<string, string>>;

  it('creates one instance per account and region, each account owning an Available copy in each region', async () => {
    grantRoles(owner, [second, third]);
    for (const regionId of [OTHER_REGION, THIRD_REGION]) {
      ownerImagesBefore[regionId] = await imagesOf(owner, regionId);
    }
    const created = await client.createStack(
      new $Ros.CreateStackRequest({
        regionId: REGION,
        stackName: STACK,
        templateBody: templateFor(
          { targetAccountIds: [second.accountId], targetRegionIds: [REGION, OTHER_REGION] },
          source,
        ),
        timeoutInMinutes: 30,
      }),
    );
    stackId = created.body!.stackId!;
    const outputs = await expectStatus('CREATE_COMPLETE');
    expect(outputs.GroupName).toBe(GROUP);
    expect(await instances()).toEqual([
      `${second.accountId}/${OTHER_REGION}`,
      `${second.accountId}/${REGION}`,
    ]);
    const ids = imageIdsOf(outputs);
    for (const regionId of [REGION, OTHER_REGION]) {
      expect(await imagesOf(second, regionId)).toEqual([`${ids[second.accountId][regionId]}:Available`]);
    }
    expect(JSON.parse(outputs.FailedTargets)).toEqual([]);
  });

  it('adds an account in place: only its instances are created, the others keep their copies', async () => {
    const before = imageIdsOf(await expectStatus('CREATE_COMPLETE'));
    await update({
      targetAccountIds: [second.accountId, third.accountId],
      targetRegionIds: [REGION, OTHER_REGION],
    });
    const ids = imageIdsOf(await expectStatus('UPDATE_COMPLETE'));
    expect(ids[second.accountId]).toEqual(before[second.accountId]);
    expect(Object.keys(ids[third.accountId]).sort()).toEqual([OTHER_REGION, REGION]);
    expect(await imagesOf(third, OTHER_REGION)).toEqual([`${ids[third.accountId][OTHER_REGION]}:Available`]);
  });

  it('adds a region for one account (regionsByAccount) and removes an account, deleting its copies', async () => {
    await update({
      targetAccountIds: [third.accountId],
      targetRegionIds: [REGION, OTHER_REGION],
      regionsByAccount: { [third.accountId]: [REGION, OTHER_REGION, THIRD_REGION] },
    });
    const ids = imageIdsOf(await expectStatus('UPDATE_COMPLETE'));
    expect(Object.keys(ids)).toEqual([third.accountId]);
    expect(await instances()).toEqual(
      [
        `${third.accountId}/${OTHER_REGION}`,
        `${third.accountId}/${REGION}`,
        `${third.accountId}/${THIRD_REGION}`,
      ].sort(),
    );
    expect(await imagesOf(third, THIRD_REGION)).toEqual([`${ids[third.accountId][THIRD_REGION]}:Available`]);
    for (const regionId of [REGION, OTHER_REGION]) {
      expect(await imagesOf(second, regionId)).toEqual([]);
    }
    // The owner's replicas are shared with the accounts that have instances in their region, and no others.
    for (const regionId of [REGION, OTHER_REGION, THIRD_REGION]) {
      expect(await replicaSharedWith(regionId)).toEqual([third.accountId]);
    }
  });

  it('updates the group in place when the copies change (a new name): every instance renames its copy', async () => {
    const before = imageIdsOf(await expectStatus('UPDATE_COMPLETE'));
    const operationsBefore = (
      (
        await client.listStackGroupOperations(
          new $Ros.ListStackGroupOperationsRequest({ regionId: REGION, stackGroupName: GROUP, pageSize: 50 }),
        )
      ).body!.stackGroupOperations ?? []
    ).map((operation) => operation.operationId!);
    await update({
      targetAccountIds: [third.accountId],
      targetRegionIds: [REGION, OTHER_REGION],
      regionsByAccount: { [third.accountId]: [REGION, OTHER_REGION, THIRD_REGION] },
      imageName: 'golden-renamed',
    });
    const ids = imageIdsOf(await expectStatus('UPDATE_COMPLETE'));
    // The group was updated in place: one UPDATE operation, no instance deleted or created.
    const operations = await client.listStackGroupOperations(
      new $Ros.ListStackGroupOperationsRequest({ regionId: REGION, stackGroupName: GROUP, pageSize: 50 }),
    );
    const latest = (operations.body!.stackGroupOperations ?? []).filter(
      (operation) => !operationsBefore.includes(operation.operationId!),
    );
    expect(latest.map((operation) => operation.action)).toEqual(['UPDATE']);
    expect(Object.keys(ids)).toEqual(Object.keys(before));
    for (const regionId of [REGION, OTHER_REGION, THIRD_REGION]) {
      const answer = await ecsClient(cloud, regionId, third.credentials).describeImages(
        new $Ecs.DescribeImagesRequest({
          regionId,
          imageId: ids[third.accountId][regionId],
          imageOwnerAlias: 'self',
        }),
      );
      expect(answer.body!.images!.image![0].imageName).toBe('golden-renamed');
    }
  });

  it('reports an account that fails under FailureToleranceCount 1, completes the others and leaves nothing of it', async () => {
    // The second account lost its execution role: ROS cannot deploy there.
    second.services.ram.deleteRole(EXECUTION_ROLE);
    await update({
      targetAccountIds: [second.accountId, third.accountId],
      targetRegionIds: [REGION],
      regionsByAccount: { [third.accountId]: [REGION, OTHER_REGION, THIRD_REGION] },
      imageName: 'golden-renamed',
      operationPreferences: { failureToleranceCount: 1, maxConcurrentCount: 2 },
    });
    const outputs = await expectStatus('UPDATE_COMPLETE');
    const failed = JSON.parse(outputs.FailedTargets) as Array<{
      AccountId: string;
      RegionId: string;
      Reason: string;
    }>;
    expect(failed).toEqual([
      { AccountId: second.accountId, RegionId: REGION, Reason: expect.stringContaining(EXECUTION_ROLE) },
    ]);
    expect(Object.keys(imageIdsOf(outputs))).toEqual([third.accountId]);
    expect(await instances()).not.toContain(`${second.accountId}/${REGION}`);
    expect(await imagesOf(second, REGION)).toEqual([]);
  });

  it('deletes every instance and the group with the stack, leaving nothing in any account', async () => {
    await client.deleteStack(new $Ros.DeleteStackRequest({ regionId: REGION, stackId }));
    await cloud.ros.settled();
    const stack = await settledStack().catch(() => undefined);
    if (stack && stack.status !== 'DELETE_COMPLETE') {
      throw new Error(`stack ${stack.status}: ${stack.statusReason}\n--- handler ---\n${handlerLogs()}`);
    }
    const groups = await client.listStackGroups(
      new $Ros.ListStackGroupsRequest({ regionId: REGION, status: 'ACTIVE' }),
    );
    expect(groups.body!.stackGroups ?? []).toEqual([]);
    for (const account of [second, third]) {
      for (const regionId of [REGION, OTHER_REGION, THIRD_REGION]) {
        expect(await imagesOf(account, regionId)).toEqual([]);
      }
      const stacks = await rosClient(cloud, REGION, account.credentials).listStacks(
        new $Ros.ListStacksRequest({ regionId: REGION }),
      );
      expect((stacks.body!.stacks ?? []).filter((s) => s.status !== 'DELETE_COMPLETE')).toEqual([]);
    }
    for (const regionId of [OTHER_REGION, THIRD_REGION]) {
      expect(await imagesOf(owner, regionId)).toEqual(ownerImagesBefore[regionId]);
    }
    // The instances are deleted at the pace of the resource's operation preferences (the last update's), not ROS's
    // default of one at a time; without failure tolerance, as a copy left behind must fail the deletion.
    const deleted = owner.stackGroups
      .list(REGION, 'DELETED')
      .find((group) => group.stackGroupName === GROUP)!;
    const deletion = owner.stackGroups
      .operationsOf(deleted)
      .find((operation) => operation.action === 'DELETE')!;
    expect(deletion.preferences).toEqual({ MaxConcurrentCount: 2 });
  });
});

describe('Custom::ImageDistribution on LocalCloud to a Resource Directory folder (service-managed)', () => {
  it('distributes to the folder members and removes everything with the stack', async () => {
    const cloud = await Cloud.start({
      accounts: 3,
      copyDurationMs: 500,
      resourceDirectory: { folders: { prod: [1, 2] } },
    });
    try {
      const client = rosClient(cloud, REGION);
      const source = cloud.ecs.putImage(REGION, { imageName: 'golden-source', sizeGiB: 20 });
      const folderId = cloud.resourceDirectory!.folderId('prod');
      const stack = await createAndSettle(
        cloud,
        STACK,
        templateFor({ targetFolderIds: [folderId], targetRegionIds: [OTHER_REGION] }, source),
      );
      const stackId = stack.stackId!;
      expect({ status: stack.status, reason: stack.statusReason }).toEqual({
        status: 'CREATE_COMPLETE',
        reason: expect.anything(),
      });
      const ids = JSON.parse(outputsOf(stack).ImageIds) as Record<string, Record<string, string>>;
      const members = [cloud.accounts[1], cloud.accounts[2]];
      expect(Object.keys(ids).sort()).toEqual(members.map((m) => m.accountId).sort());
      for (const member of members) {
        const images = await ecsClient(cloud, OTHER_REGION, member.credentials).describeImages(
          new $Ecs.DescribeImagesRequest({ regionId: OTHER_REGION, imageOwnerAlias: 'self' }),
        );
        expect((images.body!.images?.image ?? []).map((i) => i.imageId)).toEqual([
          ids[member.accountId][OTHER_REGION],
        ]);
      }

      await client.deleteStack(new $Ros.DeleteStackRequest({ regionId: REGION, stackId }));
      await cloud.ros.settled();
      for (const member of members) {
        const images = await ecsClient(cloud, OTHER_REGION, member.credentials).describeImages(
          new $Ecs.DescribeImagesRequest({
            regionId: OTHER_REGION,
            imageOwnerAlias: 'self',
            status: ALL_IMAGE_STATUSES.join(','),
          }),
        );
        expect(images.body!.images?.image ?? []).toEqual([]);
      }
      const groups = await client.listStackGroups(
        new $Ros.ListStackGroupsRequest({ regionId: REGION, status: 'ACTIVE' }),
      );
      expect(groups.body!.stackGroups ?? []).toEqual([]);
    } finally {
      await cloud.stop();
    }
  });
});

describe('Custom::ImageDistribution across invocations', () => {
  it('keeps its plan across invocations when a stack group operation outlasts one (a function timeout of 8 s)', async () => {
    const cloud = await Cloud.start({ accounts: 2, copyDurationMs: 500 });
    try {
      const [owner, target] = cloud.accounts;
      grantRoles(owner, [target]);
      const client = rosClient(cloud, REGION);
      const source = cloud.ecs.putImage(REGION, { imageName: 'golden-source', sizeGiB: 20 });
      const template = JSON.parse(
        templateFor(
          { targetAccountIds: [target.accountId], targetRegionIds: [REGION, OTHER_REGION] },
          source,
        ),
      );
      template.Resources.ImageCopyProviderFunction.Properties.Timeout = 8;
      const stack = await createAndSettle(cloud, STACK, JSON.stringify(template));
      const stackId = stack.stackId!;
      expect({ status: stack.status, reason: stack.statusReason }).toEqual({
        status: 'CREATE_COMPLETE',
        reason: expect.anything(),
      });
      const ids = JSON.parse(outputsOf(stack).ImageIds) as Record<string, Record<string, string>>;
      expect(Object.keys(ids[target.accountId]).sort()).toEqual([OTHER_REGION, REGION]);
      // The distribution's own invocations: several, each handing over to the next.
      const goldenInvocations = owner.fc
        .invocations()
        .filter((invocation) =>
          invocation.logs.some((line) => line.includes('"logicalResourceId":"Golden"')),
        );
      const continued = goldenInvocations.filter((invocation) =>
        invocation.logs.some((line) => line.includes('"step":"continued"')),
      );
      expect(continued.length).toBeGreaterThan(0);
      expect(goldenInvocations.length).toBeGreaterThan(continued.length);

      await client.deleteStack(new $Ros.DeleteStackRequest({ regionId: REGION, stackId }));
      await cloud.ros.settled();
      for (const regionId of [REGION, OTHER_REGION]) {
        const images = await ecsClient(cloud, regionId, target.credentials).describeImages(
          new $Ecs.DescribeImagesRequest({
            regionId,
            imageOwnerAlias: 'self',
            status: ALL_IMAGE_STATUSES.join(','),
          }),
        );
        expect(images.body!.images?.image ?? []).toEqual([]);
      }
    } finally {
      await cloud.stop();
    }
  });
});

describe('Custom::ImageDistribution failures', () => {
  let cloud: LocalCloud;
  let client: Ros;
  let source: string;
  beforeAll(async () => {
    cloud = await Cloud.start({ accounts: 3, copyDurationMs: 500 });
    client = rosClient(cloud, REGION);
    source = cloud.ecs.putImage(REGION, { imageName: 'golden-source', sizeGiB: 20 });
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  it('fails, naming each account and region and ROS reason, when an operation fails beyond the tolerance; the rollback leaves nothing', async () => {
    const [owner, reachable, unreachable] = cloud.accounts;
    grantRoles(owner, [reachable]); // the third account has no execution role
    const stack = await createAndSettle(
      cloud,
      'beyond-tolerance',
      templateFor(
        {
          targetAccountIds: [reachable.accountId, unreachable.accountId],
          targetRegionIds: [REGION],
          operationPreferences: { maxConcurrentCount: 2 },
        },
        source,
      ),
    );
    expect({ status: stack.status, reason: stack.statusReason }).toEqual({
      status: 'CREATE_ROLLBACK_COMPLETE',
      reason: expect.stringContaining(`${unreachable.accountId}/${REGION}: `),
    });
    expect(stack.statusReason).toContain(`Failed to assume the execution role ${EXECUTION_ROLE}`);
    const groups = await client.listStackGroups(
      new $Ros.ListStackGroupsRequest({ regionId: REGION, status: 'ACTIVE' }),
    );
    expect(groups.body!.stackGroups ?? []).toEqual([]);
    const images = await ecsClient(cloud, REGION, reachable.credentials).describeImages(
      new $Ecs.DescribeImagesRequest({
        regionId: REGION,
        imageOwnerAlias: 'self',
        status: ALL_IMAGE_STATUSES.join(','),
      }),
    );
    expect(images.body!.images?.image ?? []).toEqual([]);
  });

  it('refuses a stack group of its name that it did not make, and leaves that group alone', async () => {
    await client.createStackGroup(
      new $Ros.CreateStackGroupRequest({
        regionId: REGION,
        stackGroupName: GROUP,
        templateBody: JSON.stringify({ ROSTemplateFormatVersion: '2015-09-01', Resources: {} }),
        description: 'someone else',
      }),
    );
    const stack = await createAndSettle(
      cloud,
      'name-taken',
      templateFor({ targetAccountIds: [cloud.accounts[1].accountId], targetRegionIds: [REGION] }, source),
    );
    expect({ status: stack.status, reason: stack.statusReason }).toEqual({
      status: 'CREATE_ROLLBACK_COMPLETE',
      reason: expect.stringContaining(
        `A stack group named ${GROUP} exists in ${REGION} and was not made by this ImageDistribution`,
      ),
    });
    const group = await client.getStackGroup(
      new $Ros.GetStackGroupRequest({ regionId: REGION, stackGroupName: GROUP }),
    );
    expect(group.body!.stackGroup).toMatchObject({ status: 'ACTIVE', description: 'someone else' });
  });
});
