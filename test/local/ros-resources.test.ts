import * as $Ros from '@alicloud/ros20190910';
import { CloudVariants, LocalCloud, MAX_LAUNCH_TEMPLATES_PER_REGION } from '../../lib/local';
import { rosClient, withCloud } from '../support/cloud';

/**
 * `ALIYUN::ECS::LaunchTemplate` on LocalCloud's ROS, through the real ROS client: the checks ECS and ROS document
 * (a name used once per region, at most 30 templates per region, no property editable: every change replaces), its
 * `Fn::GetAtt` attributes, and the `launchTemplateImage` variant (the image must exist and be Available, or not).
 */

const REGION = 'cn-hangzhou';
const IMAGE = 'm-bp1seedgoldenimage01';

type Properties = Record<string, unknown>;

function launchTemplateBody(properties: Properties, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    ROSTemplateFormatVersion: '2015-09-01',
    Resources: { Web: { Type: 'ALIYUN::ECS::LaunchTemplate', Properties: properties }, ...extra },
    Outputs: {
      Id: { Value: { Ref: 'Web' } },
      LaunchTemplateId: { Value: { 'Fn::GetAtt': ['Web', 'LaunchTemplateId'] } },
      LaunchTemplateName: { Value: { 'Fn::GetAtt': ['Web', 'LaunchTemplateName'] } },
      DefaultVersionNumber: { Value: { 'Fn::GetAtt': ['Web', 'DefaultVersionNumber'] } },
      LatestVersionNumber: { Value: { 'Fn::GetAtt': ['Web', 'LatestVersionNumber'] } },
    },
  });
}

/** A LocalCloud playing `variants`, with the helpers below. */
async function startCloud(variants: Partial<CloudVariants> = {}): Promise<StackHelpers> {
  return stacksOn(await LocalCloud.start({ variants }));
}

/** {@link startCloud} for `body` alone: the LocalCloud is stopped afterwards. */
function withStacks<T>(variants: Partial<CloudVariants>, body: (t: StackHelpers) => Promise<T>): Promise<T> {
  return withCloud({ variants }, (cloud) => body(stacksOn(cloud)));
}

type StackHelpers = ReturnType<typeof stacksOn>;

/** ROS clients for `cloud`, and helpers that create, update and delete stacks and say why a resource failed. */
function stacksOn(cloud: LocalCloud) {
  const client = (regionId: string) => rosClient(cloud, regionId);
  const ros = client(REGION);
  const settle = async (stackId: string, regionId = REGION) => {
    await cloud.ros.settled();
    return (await client(regionId).getStack(new $Ros.GetStackRequest({ regionId, stackId }))).body!;
  };
  const create = async (stackName: string, templateBody: string, regionId = REGION) => {
    const { stackId } = (
      await client(regionId).createStack(
        new $Ros.CreateStackRequest({ regionId, stackName, templateBody, disableRollback: false }),
      )
    ).body!;
    return { stackId: stackId!, stack: await settle(stackId!, regionId) };
  };
  const update = async (stackId: string, templateBody: string, replacementOption?: string) => {
    await ros.updateStack(
      new $Ros.UpdateStackRequest({ regionId: REGION, stackId, templateBody, replacementOption }),
    );
    return settle(stackId);
  };
  const destroy = async (stackId: string, regionId = REGION) => {
    await client(regionId).deleteStack(new $Ros.DeleteStackRequest({ regionId, stackId }));
    return settle(stackId, regionId);
  };
  const failure = async (stackId: string) => {
    const events = (
      await ros.listStackEvents(new $Ros.ListStackEventsRequest({ regionId: REGION, stackId, pageSize: 50 }))
    ).body!.events!;
    return events.find((e) => e.logicalResourceId === 'Web' && /_FAILED$/.test(e.status!))?.statusReason;
  };
  return { cloud, ros, create, update, destroy, failure };
}

const outputs = (stack: $Ros.GetStackResponseBody) =>
  Object.fromEntries((stack.outputs ?? []).map((o) => [o['OutputKey'], o['OutputValue']]));

describe('ALIYUN::ECS::LaunchTemplate on LocalCloud', () => {
  let t: StackHelpers;
  beforeAll(async () => {
    t = await startCloud();
  });
  afterAll(() => t.cloud.stop());

  it('creates a launch template with its id, name and version numbers as attributes, and deletes it with the stack', async () => {
    const { stackId, stack } = await t.create(
      'web-template',
      launchTemplateBody({
        LaunchTemplateName: 'web-servers',
        ImageId: IMAGE,
        InstanceType: 'ecs.g7.large',
        Description: 'Web servers',
      }),
    );
    expect([stack.status, stack.statusReason]).toEqual(['CREATE_COMPLETE', expect.any(String)]);
    const out = outputs(stack);
    expect(out).toEqual({
      Id: out.LaunchTemplateId,
      LaunchTemplateId: expect.stringMatching(/^lt-bp1[a-z0-9]{17}$/),
      LaunchTemplateName: 'web-servers',
      DefaultVersionNumber: 1,
      LatestVersionNumber: 1,
    });
    expect(t.cloud.launchTemplates.get(REGION, out.LaunchTemplateId)).toMatchObject({
      launchTemplateName: 'web-servers',
      configuration: { ImageId: IMAGE, InstanceType: 'ecs.g7.large', Description: 'Web servers' },
    });

    expect((await t.destroy(stackId)).status).toBe('DELETE_COMPLETE');
    expect(t.cloud.launchTemplates.get(REGION, out.LaunchTemplateId)).toBeUndefined();
  });

  it('fails a launch template whose image does not exist in its region, and rolls the stack back', async () => {
    // The seeded golden image of cn-shanghai does not exist in cn-hangzhou.
    const { stackId, stack } = await t.create(
      'missing-image',
      launchTemplateBody({ LaunchTemplateName: 'missing-image', ImageId: 'm-uf6seedgoldenimage01' }),
    );
    expect(stack.status).toBe('CREATE_ROLLBACK_COMPLETE');
    expect(await t.failure(stackId)).toBe(
      'InvalidImageId.NotFound: The specified ImageId "m-uf6seedgoldenimage01" does not exist in cn-hangzhou.',
    );
    expect(t.cloud.launchTemplates.list(REGION).map((lt) => lt.launchTemplateName)).not.toContain(
      'missing-image',
    );
  });

  it('fails a launch template whose image is not Available', async () => {
    const broken = t.cloud.ecs.putImage(REGION, { imageName: 'broken-base', status: 'CreateFailed' });
    const { stackId, stack } = await t.create(
      'unusable-image',
      launchTemplateBody({ LaunchTemplateName: 'unusable-image', ImageId: broken }),
    );
    expect(stack.status).toBe('CREATE_ROLLBACK_COMPLETE');
    expect(await t.failure(stackId)).toBe(
      `IncorrectImageStatus: The image ${broken} in cn-hangzhou is CreateFailed, not Available.`,
    );
  });

  it('refuses a name another launch template of the region has, and accepts it in another region', async () => {
    const first = await t.create('first-of-name', launchTemplateBody({ LaunchTemplateName: 'shared-name' }));
    expect(first.stack.status).toBe('CREATE_COMPLETE');
    const second = await t.create(
      'second-of-name',
      launchTemplateBody({ LaunchTemplateName: 'shared-name' }),
    );
    expect(second.stack.status).toBe('CREATE_ROLLBACK_COMPLETE');
    expect(await t.failure(second.stackId)).toBe(
      'LaunchTemplateName.Duplicated: The specified LaunchTemplateName "shared-name" already exist.',
    );
    const elsewhere = await t.create(
      'name-elsewhere',
      launchTemplateBody({ LaunchTemplateName: 'shared-name' }),
      'cn-shanghai',
    );
    expect(elsewhere.stack.status).toBe('CREATE_COMPLETE');
    await t.destroy(first.stackId);
    await t.destroy(elsewhere.stackId, 'cn-shanghai');
  });

  it("refuses a name that breaks ROS's rule, naming the property, the value and the rule", async () => {
    const { stackId, stack } = await t.create(
      'bad-name',
      launchTemplateBody({ LaunchTemplateName: '1-web' }),
    );
    expect(stack.status).toBe('CREATE_ROLLBACK_COMPLETE');
    expect(await t.failure(stackId)).toBe(
      'LaunchTemplateName "1-web" is invalid: 2 to 128 characters (letters, digits, ":", "_" or "-"), ' +
        'starting with a letter, not with http:// or https://',
    );
  });

  it('refuses properties the resource type does not have, and more than 20 tags', async () => {
    const unknown = await t.create(
      'unknown-property',
      launchTemplateBody({ LaunchTemplateName: 'unknown-property', ImageIds: [IMAGE] }),
    );
    expect(await t.failure(unknown.stackId)).toBe(
      'Unknown properties for ALIYUN::ECS::LaunchTemplate: ImageIds',
    );
    const tags = Array.from({ length: 21 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    const tagged = await t.create(
      'too-many-tags',
      launchTemplateBody({ LaunchTemplateName: 'too-many-tags', TemplateTags: tags }),
    );
    expect(await t.failure(tagged.stackId)).toBe('TemplateTags has 21 tags: at most 20 are allowed');
  });

  it(`refuses a launch template beyond ${MAX_LAUNCH_TEMPLATES_PER_REGION} in a region`, async () => {
    const region = 'cn-beijing';
    for (let i = 0; i < MAX_LAUNCH_TEMPLATES_PER_REGION; i++) {
      t.cloud.launchTemplates.create(region, `filler-${i}`, {});
    }
    const ros = rosClient(t.cloud, region);
    const { stackId } = (
      await ros.createStack(
        new $Ros.CreateStackRequest({
          regionId: region,
          stackName: 'one-too-many',
          templateBody: launchTemplateBody({ LaunchTemplateName: 'one-too-many' }),
        }),
      )
    ).body!;
    await t.cloud.ros.settled();
    const events = (
      await ros.listStackEvents(new $Ros.ListStackEventsRequest({ regionId: region, stackId, pageSize: 50 }))
    ).body!.events!;
    expect(
      events.find((e) => e.status === 'CREATE_FAILED' && e.logicalResourceId === 'Web')?.statusReason,
    ).toBe(
      'LaunchTemplateLimitExceed: The maximum number of templates is exceeded: cn-beijing has 30 of 30.',
    );
  });

  it('fails an update that changes a property unless replacement is enabled, since none is editable', async () => {
    const { stackId, stack } = await t.create(
      'replace-me',
      launchTemplateBody({ LaunchTemplateName: 'replace-me', InstanceType: 'ecs.g7.large' }),
    );
    const oldId = outputs(stack).LaunchTemplateId;
    const refused = await t.update(
      stackId,
      launchTemplateBody({ LaunchTemplateName: 'replace-me-2', InstanceType: 'ecs.g7.xlarge' }),
    );
    expect([refused.status, refused.statusReason]).toEqual([
      'ROLLBACK_COMPLETE',
      expect.stringContaining(
        'Update of resource Web requires replacement: LaunchTemplateName, InstanceType cannot be updated in place',
      ),
    ]);
    expect(t.cloud.launchTemplates.get(REGION, oldId)).toBeDefined();

    const replaced = await t.update(
      stackId,
      launchTemplateBody({ LaunchTemplateName: 'replace-me-2', InstanceType: 'ecs.g7.xlarge' }),
      'Enabled',
    );
    expect(replaced.status).toBe('UPDATE_COMPLETE');
    const newId = outputs(replaced).LaunchTemplateId;
    expect(newId).not.toBe(oldId);
    expect(t.cloud.launchTemplates.get(REGION, oldId)).toBeUndefined();
    expect(t.cloud.launchTemplates.get(REGION, newId)?.configuration).toEqual({
      LaunchTemplateName: 'replace-me-2',
      InstanceType: 'ecs.g7.xlarge',
    });
    await t.destroy(stackId);
  });

  it('checks no image under launchTemplateImage=unchecked (ECS verifies values only when instances start)', async () => {
    await withStacks({ launchTemplateImage: 'unchecked' }, async (lenient) => {
      const { stack } = await lenient.create(
        'any-image',
        launchTemplateBody({ LaunchTemplateName: 'any-image', ImageId: 'm-bp1doesnotexist0001' }),
      );
      expect(stack.status).toBe('CREATE_COMPLETE');
    });
  });
});

describe('a launch template replaced under its own name', () => {
  // The name is not editable and must be unique in the region: replacing a template that keeps its name works only
  // when the old one is deleted first (`replacementOrder`), as with any custom-named resource.
  it.each([
    ['create-first', 'ROLLBACK_COMPLETE', 'LaunchTemplateName.Duplicated'],
    ['delete-first', 'UPDATE_COMPLETE', undefined],
  ] as const)('with replacementOrder=%s the update ends %s', async (order, status, reason) => {
    await withStacks({ replacementOrder: order }, async (t) => {
      const { stackId } = await t.create(
        'same-name',
        launchTemplateBody({ LaunchTemplateName: 'same-name', InstanceType: 'ecs.g7.large' }),
      );
      const updated = await t.update(
        stackId,
        launchTemplateBody({ LaunchTemplateName: 'same-name', InstanceType: 'ecs.g7.xlarge' }),
        'Enabled',
      );
      expect(updated.status).toBe(status);
      if (reason) {
        expect(updated.statusReason).toContain(reason);
      }
      expect(t.cloud.launchTemplates.list(REGION)).toEqual([
        expect.objectContaining({
          launchTemplateName: 'same-name',
          configuration: expect.objectContaining({
            InstanceType: status === 'UPDATE_COMPLETE' ? 'ecs.g7.xlarge' : 'ecs.g7.large',
          }),
        }),
      ]);
    });
  });
});
