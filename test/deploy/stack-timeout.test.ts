import Ros, * as $Ros from '@alicloud/ros20190910';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { deployStack, DeployEvent, requiredStackTimeout } from '../../lib/deploy';
import type { LocalCloud } from '../../lib/local';
import { customResourcesTemplate, REGION, rolesTemplate, startCloud } from './fixtures';

/** A chain A → B → C (43,000 s in a row) and D alone (30,000 s): the chain sets the timeout. */
const CHAIN = {
  A: { timeout: 20_000 },
  B: { timeout: 20_000, dependsOn: ['A'] },
  C: { timeout: 3_000, getAtt: 'B' },
  D: { timeout: 30_000 },
};

describe('the stack timeout ros-deploy asks ROS for', () => {
  let cloud: LocalCloud;
  let fast: Awaited<ReturnType<typeof startCloud>>['fast'];
  beforeAll(async () => ({ cloud, fast } = await startCloud()));
  afterAll(() => cloud.stop());

  /** TimeoutInMinutes as GetStack answers it. */
  async function timeoutOf(stackName: string): Promise<number | undefined> {
    const ros = new Ros(
      new $OpenApiUtil.Config({
        ...cloud.credentials,
        regionId: REGION,
        endpoint: cloud.endpoint,
        protocol: 'http',
      }),
    );
    const stackId = cloud.ros
      .stacks(REGION)
      .find((s) => s.stackName === stackName && s.status !== 'DELETE_COMPLETE')!.stackId;
    return (await ros.getStack(new $Ros.GetStackRequest({ regionId: REGION, stackId }))).body!
      .timeoutInMinutes;
  }

  it('covers the longest chain of custom resources plus 10 minutes, on create and on update (with what it removes)', async () => {
    const created = await deployStack({
      ...fast,
      stackName: 'chained',
      template: customResourcesTemplate('chained-provider', CHAIN),
    });
    expect(created).toMatchObject({ status: 'CREATE_COMPLETE', success: true });
    // 43,000 s = 716.7 minutes, rounded up, + 10.
    expect(await timeoutOf('chained')).toBe(727);

    // D removed: the update also deletes it, after the rest: 43,000 s + 30,000 s.
    const { D: _removed, ...withoutD } = CHAIN;
    const updated = await deployStack({
      ...fast,
      stackName: 'chained',
      template: customResourcesTemplate('chained-provider', {
        ...withoutD,
        C: { timeout: 3_001, getAtt: 'B' },
      }),
    });
    expect(updated).toMatchObject({ status: 'UPDATE_COMPLETE', success: true });
    expect(await timeoutOf('chained')).toBe(Math.ceil(73_001 / 60) + 10);
  });

  it('asks for ROS default of 60 minutes when the custom resources need less, and takes an explicit timeout as given', async () => {
    await deployStack({ ...fast, stackName: 'plain', template: rolesTemplate({ A: 'timeout-plain-a' }) });
    expect(await timeoutOf('plain')).toBe(60);
    const events: DeployEvent[] = [];
    await deployStack({
      ...fast,
      stackName: 'explicit',
      template: customResourcesTemplate('explicit-provider', CHAIN),
      timeoutInMinutes: 30,
      onEvent: (e) => events.push(e),
    });
    expect(await timeoutOf('explicit')).toBe(30);
    expect(events.find((e) => e.type === 'message')).toMatchObject({
      text: 'the timeout of 30 minutes is less than the 727 minutes its custom resources may need (A → B → C): ROS may stop the operation before they finish',
    });
  });

  it('refuses before any call a template whose chain cannot fit in 1440 minutes, naming the resources', async () => {
    const calls = cloud.calls.length;
    const tooLong = { ...CHAIN, E: { timeout: 43_200, dependsOn: ['C'] } };
    await expect(
      deployStack({
        ...fast,
        stackName: 'too-long',
        template: customResourcesTemplate('too-long-provider', tooLong),
      }),
    ).rejects.toMatchObject({
      code: 'InvalidTemplate',
      message:
        "Stack too-long cannot finish within ROS's longest stack timeout (1440 minutes): its custom resources that " +
        'depend on each other may take 1437 minutes one after another: ' +
        'A (ALIYUN::ROS::CustomResource, Timeout 20000 s) → B (ALIYUN::ROS::CustomResource, Timeout 20000 s) → ' +
        'C (ALIYUN::ROS::CustomResource, Timeout 3000 s) → E (ALIYUN::ROS::CustomResource, Timeout 43200 s), ' +
        'plus 10 minutes for the rest. Lower their timeouts (the `timeouts` of the ImageCopy constructs), or split ' +
        'the chain across stacks.',
    });
    expect(cloud.calls.length).toBe(calls);
  });
});

describe('requiredStackTimeout', () => {
  it('reads Timeout as a number, a numeric string, a Ref to a parameter, or the largest number an expression may choose', () => {
    const template = {
      Parameters: { Long: { Type: 'Number', Default: 7200 } },
      Resources: {
        Default: { Type: 'Custom::Thing', Properties: {} },
        Text: { Type: 'Custom::Thing', DependsOn: 'Default', Properties: { Timeout: '600' } },
        FromParameter: {
          Type: 'ALIYUN::ROS::CustomResource',
          Properties: { Timeout: { Ref: 'Long' }, Parameters: { X: { Ref: 'Text' } } },
        },
        Conditional: {
          Type: 'ALIYUN::ROS::CustomResource',
          Properties: {
            Timeout: { 'Fn::If': ['IsProd', 36_000, 600] },
            Name: { 'Fn::Sub': '${FromParameter}-x' },
          },
        },
        Role: { Type: 'ALIYUN::RAM::Role', DependsOn: ['Conditional'], Properties: {} },
      },
    };
    // Default (60) → Text (600) → FromParameter (7200) → Conditional (36000); the role weighs nothing.
    const needed = requiredStackTimeout('s', template);
    expect(needed.chain.map((r) => `${r.logicalId}:${r.timeoutSeconds}`)).toEqual([
      'Default:60',
      'Text:600',
      'FromParameter:7200',
      'Conditional:36000',
    ]);
    expect(needed).toMatchObject({ chainSeconds: 43_860, minutes: 741 });
    expect(requiredStackTimeout('s', template, { Long: '60' }).chainSeconds).toBe(36_720);
  });
});
