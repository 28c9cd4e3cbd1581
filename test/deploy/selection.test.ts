import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CLI_WORDING } from '../../lib/cli/usage';
import {
  type AssemblyStack,
  type CloudAssembly,
  DeployError,
  regionResolver,
  selectStacks,
} from '../../lib/deploy';

const stack = (stackName: string, dependencies: string[] = []): AssemblyStack => ({
  stackName,
  templateFile: `${stackName}.template.json`,
  dependencies,
  constructPaths: {},
});

/** Network ← Base ← App, and Other on its own. */
const assembly: CloudAssembly = {
  directory: 'cdk.out',
  stacks: [stack('Network'), stack('Base', ['Network']), stack('App', ['Base']), stack('Other')],
};
const names = (stacks: AssemblyStack[]) => stacks.map((s) => s.stackName);

/** The message an error has in the library's words and in the CLI's. */
function messages(run: () => unknown): [string, string] {
  try {
    run();
  } catch (err) {
    if (err instanceof DeployError) {
      return [err.message, err.describe(CLI_WORDING)];
    }
    throw err;
  }
  throw new Error('expected a DeployError');
}

describe('selecting the stacks of an app', () => {
  it('takes all stacks by default, the named ones (with * wildcards) in the app order, and what they need', () => {
    expect(names(selectStacks(assembly).stacks)).toEqual(['Network', 'Base', 'App', 'Other']);
    expect(names(selectStacks(assembly, { names: ['Oth*', 'Base'] }).stacks)).toEqual(['Base', 'Other']);
    const deploy = selectStacks(assembly, { names: ['App'], include: 'dependencies' });
    expect([names(deploy.stacks), names(deploy.included)]).toEqual([
      ['Network', 'Base', 'App'],
      ['Network', 'Base'],
    ]);
    const destroy = selectStacks(assembly, { names: ['Base'], include: 'dependents', outsideApp: true });
    expect([names(destroy.stacks), names(destroy.included)]).toEqual([['Base', 'App'], ['App']]);
    expect(
      names(selectStacks(assembly, { names: ['App'], include: 'dependencies', exclusively: true }).stacks),
    ).toEqual(['App']);
  });

  it('finds a name the app does not have in ROS only for destroy, and never a pattern', () => {
    expect(names(selectStacks(assembly, { names: ['Legacy'], outsideApp: true }).stacks)).toEqual(['Legacy']);
    expect(names(selectStacks(undefined, { names: ['Legacy'], outsideApp: true }).stacks)).toEqual([
      'Legacy',
    ]);
    expect(messages(() => selectStacks(assembly, { names: ['Leg*'], outsideApp: true }))[0]).toBe(
      'no stack matches "Leg*" (stacks: Network, Base, App, Other)',
    );
    expect(messages(() => selectStacks(undefined, { outsideApp: true }))).toEqual([
      'name the `stackNames` to destroy (there is no cdk.json app to list them)',
      'name the STACKS to destroy (there is no cdk.json app to list them)',
    ]);
  });
});

describe("each stack's region", () => {
  let home: string;
  beforeAll(() => {
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'regions-home-'));
    fs.mkdirSync(path.join(home, '.aliyun'));
    fs.writeFileSync(
      path.join(home, '.aliyun', 'config.json'),
      JSON.stringify({
        current: 'dev',
        profiles: [{ name: 'dev', region_id: 'cn-beijing' }, { name: 'ops' }],
      }),
    );
  });
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  it("takes the stack's own, the app's env.region, the general one, the environment's, the profile's, the default", () => {
    const env = { HOME: home };
    const resolve = regionResolver({ regionId: 'cn-shanghai', stackRegions: { Web: 'cn-qingdao' }, env });
    expect([
      resolve('Web'),
      resolve('Web', 'cn-qingdao'),
      resolve('Api', 'cn-shenzhen'),
      resolve('Api'),
    ]).toEqual(['cn-qingdao', 'cn-qingdao', 'cn-shenzhen', 'cn-shanghai']);
    expect(regionResolver({ env: { ...env, ALIBABA_CLOUD_REGION_ID: 'cn-wulanchabu' } })('Api')).toBe(
      'cn-wulanchabu',
    );
    expect(regionResolver({ env })('Api')).toBe('cn-beijing');
    expect(regionResolver({ env, profile: 'ops', defaultRegionId: 'cn-hangzhou' })('Api')).toBe(
      'cn-hangzhou',
    );
  });

  it("says what to do in the library's words, and in the CLI's", () => {
    const env = { HOME: home };
    expect(messages(() => regionResolver({ env, profile: 'ops' })('Web'))).toEqual([
      'no region for stack Web: pass `regionId` (or `stackRegions.Web`), or set ALIBABA_CLOUD_REGION_ID, or a ' +
        'region_id in your aliyun CLI profile',
      'no region for stack Web: pass --region REGION (or --region Web:REGION), or set ALIBABA_CLOUD_REGION_ID, or a ' +
        'region_id in your aliyun CLI profile',
    ]);
    expect(
      messages(() => regionResolver({ stackRegions: { Web: 'cn-beijing' }, env })('Web', 'cn-shanghai')),
    ).toEqual([
      '`stackRegions.Web` (cn-beijing) contradicts the app, which pins Web to cn-shanghai (its env.region) and made ' +
        "its template for that region: drop the option, or change the stack's env in the app",
      '--region Web:cn-beijing contradicts the app, which pins Web to cn-shanghai (its env.region) and made its ' +
        "template for that region: drop the flag, or change the stack's env in the app",
    ]);
  });
});
