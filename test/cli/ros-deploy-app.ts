import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from '../../lib/package-root';

/** What the test app synthesizes: stacks of RAM roles, optionally a NoEcho parameter and a gated custom resource. */
export interface AppSpec {
  readonly stacks: {
    readonly name: string;
    /** Logical id → role name (a name with a space fails in LocalCloud). */
    readonly roles?: Record<string, string>;
    /** A NoEcho parameter `Password` that the role `Secretive` puts in its (invalid) name. */
    readonly secretRole?: boolean;
    /** A custom resource whose provider writes `mark`, then waits for `gate` before answering. */
    readonly gate?: { readonly mark: string; readonly gate: string; readonly functionName: string };
    readonly dependsOn?: string[];
    /** The stack's `tags` prop. */
    readonly tags?: Record<string, string>;
    /** The stack's `env.region`. */
    readonly region?: string;
    /** String parameters, name → default. */
    readonly parameters?: Record<string, string>;
    /** Write a big template: this many roles, each with a description of this many characters. */
    readonly bulk?: { readonly roles: number; readonly descriptionLength: number };
  }[];
  /** Exit 0 without calling app.synth() (an explicit exit also skips the ROS CDK's synth on beforeExit). */
  readonly skipSynth?: boolean;
}

const APP = String.raw`
const fs = require('fs');
const modules = process.env.APP_NODE_MODULES;
const ros = require(modules + '/@alicloud/ros-cdk-core');
const spec = JSON.parse(fs.readFileSync('spec.json', 'utf8'));
const app = new ros.App();
const trust = { Version: '1', Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['fc.aliyuncs.com'] } }] };
const stacks = {};
for (const s of spec.stacks) {
  const stack = new ros.Stack(app, s.name, { ...(s.tags && { tags: s.tags }), ...(s.region && { env: { region: s.region } }) });
  for (const [name, value] of Object.entries(s.parameters || {})) {
    new ros.RosParameter(stack, name, { type: ros.RosParameterType.STRING, defaultValue: value });
  }
  for (let i = 0; i < (s.bulk ? s.bulk.roles : 0); i++) {
    const role = new ros.RosResource(stack, 'Bulk' + i, {
      type: 'ALIYUN::RAM::Role',
      properties: { RoleName: 'bulk-' + i, Description: 'd'.repeat(s.bulk.descriptionLength), AssumeRolePolicyDocument: trust },
    });
    role.overrideLogicalId('Bulk' + i);
  }
  stacks[s.name] = stack;
  const group = new ros.Construct(stack, 'Roles');
  for (const [id, roleName] of Object.entries(s.roles || {})) {
    const role = new ros.RosResource(group, id, { type: 'ALIYUN::RAM::Role', properties: { RoleName: roleName, AssumeRolePolicyDocument: trust } });
    role.overrideLogicalId(id);
    new ros.RosOutput(stack, id + 'Arn', { value: ros.Fn.getAtt(id, 'Arn') });
  }
  if (s.secretRole) {
    const password = new ros.RosParameter(stack, 'Password', { type: ros.RosParameterType.STRING, noEcho: true });
    const role = new ros.RosResource(stack, 'Secretive', {
      type: 'ALIYUN::RAM::Role',
      properties: { RoleName: ros.Fn.join('', ['x ', password.valueAsString]), AssumeRolePolicyDocument: trust },
    });
    role.overrideLogicalId('Secretive');
  }
  if (s.gate) {
    const source = [
      "const fs = require('fs');",
      'exports.handler = async (payload) => {',
      '  const event = JSON.parse(payload.toString());',
      '  fs.writeFileSync(' + JSON.stringify(s.gate.mark) + ", '');",
      // Also ends when the test's directory is gone: a run killed by a test leaves this process behind.
      '  const dir = require("path").dirname(' + JSON.stringify(s.gate.gate) + ');',
      '  while (!fs.existsSync(' + JSON.stringify(s.gate.gate) + ') && fs.existsSync(dir)) await new Promise((r) => setTimeout(r, 50));',
      "  await fetch(event.ResponseURL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({",
      "    Status: 'SUCCESS', PhysicalResourceId: 'gated', StackId: event.StackId, RequestId: event.RequestId,",
      "    LogicalResourceId: event.LogicalResourceId, Data: { Opened: 'yes' } }) });",
      '};',
    ].join('\n');
    const fn = new ros.RosResource(stack, 'Provider', {
      type: 'ALIYUN::FC3::Function',
      properties: { FunctionName: s.gate.functionName, Runtime: 'nodejs20', Handler: 'index.handler', Timeout: 600, Code: { SourceCode: source } },
    });
    fn.overrideLogicalId('Provider');
    const gated = new ros.RosResource(stack, 'Gated', {
      type: 'ALIYUN::ROS::CustomResource',
      properties: { ServiceToken: ros.Fn.getAtt('Provider', 'ARN'), Timeout: 600, Parameters: {} },
    });
    gated.overrideLogicalId('Gated');
    gated.addDependsOn(fn);
  }
}
for (const s of spec.stacks) for (const d of s.dependsOn || []) stacks[s.name].addDependency(stacks[d]);
if (spec.skipSynth) process.exit(0);
app.synth();
`;

/** Writes a CDK app project (cdk.json, app.js, spec.json) into `dir`. */
export function writeApp(dir: string, spec: AppSpec): void {
  fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app: 'node app.js' }));
  fs.writeFileSync(path.join(dir, 'app.js'), APP);
  fs.writeFileSync(path.join(dir, 'spec.json'), JSON.stringify(spec));
}

/** The environment the app needs (where the ROS CDK is installed). */
export const appEnv = (): Record<string, string> => ({
  APP_NODE_MODULES: path.join(packageRoot(), 'node_modules'),
});
