import * as fs from 'fs';
import { writeZip } from '../../lib/zip';

/**
 * Templates for ROS engine tests: a RAM role, an FC 3.0 function and custom resources whose provider is a tiny
 * function that logs each request to a file and answers at the response URL as the parameters ask.
 */

export const PROVIDER = `
const fs = require('fs');
exports.handler = async (event) => {
  const e = JSON.parse(event.toString());
  const p = e.ResourceProperties;
  fs.appendFileSync(p.LogFile, JSON.stringify({ type: e.RequestType, logicalId: e.LogicalResourceId,
    physicalId: e.PhysicalResourceId, value: p.Value, old: e.OldResourceProperties && e.OldResourceProperties.Value,
    keys: Object.keys(p).sort() }) + '\\n');
  if (p.Silent === 'yes' && e.RequestType !== 'Delete') return;
  const failed = p.Fail && p.Fail !== '' && e.RequestType !== 'Delete';
  const body = {
    Status: failed ? 'FAILED' : 'SUCCESS',
    Reason: failed ? 'asked to fail: ' + p.Fail : undefined,
    PhysicalResourceId: e.RequestType === 'Create' || (p.Generation && p.Generation !== (e.OldResourceProperties || {}).Generation)
      ? 'pid-' + e.LogicalResourceId + '-' + (p.Generation || '0') : e.PhysicalResourceId,
    StackId: e.StackId, RequestId: e.RequestId, LogicalResourceId: e.LogicalResourceId,
    Data: { Echo: 'echo:' + p.Value, RequestType: e.RequestType },
  };
  const res = await fetch(e.ResponseURL, { method: 'PUT' === 'x' ? 'PUT' : 'POST',
    headers: { 'Content-Type': 'application/json', Date: new Date().toUTCString() }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error('response URL answered ' + res.status);
};`;

const ZIP = writeZip([{ name: 'index.js', data: Buffer.from(PROVIDER) }]).toString('base64');

export interface LogLine {
  type: string;
  logicalId: string;
  physicalId?: string;
  value?: string;
  old?: string;
  keys: string[];
}

export function template(
  logFile: string,
  options: { customs?: string[]; extraOutputs?: boolean; generation?: string; timeout?: number } = {},
) {
  const customs = options.customs ?? ['Custom'];
  const resources: Record<string, unknown> = {
    Role: {
      Type: 'ALIYUN::RAM::Role',
      Properties: {
        RoleName: { 'Fn::Join': ['-', ['provider', { Ref: 'ALIYUN::StackName' }]] },
        AssumeRolePolicyDocument: {
          Version: '1',
          Statement: [
            { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['fc.aliyuncs.com'] } },
          ],
        },
        Policies: [
          {
            PolicyName: 'describe',
            PolicyDocument: {
              Version: '1',
              Statement: [{ Effect: 'Allow', Action: ['ecs:DescribeImages'], Resource: ['*'] }],
            },
          },
        ],
      },
    },
    Function: {
      Type: 'ALIYUN::FC3::Function',
      DependsOn: ['Role'],
      Properties: {
        FunctionName: { 'Fn::Sub': 'provider-${ALIYUN::StackName}' },
        Runtime: 'nodejs20',
        Handler: 'index.handler',
        Timeout: 20,
        Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
        Code: { ZipFile: ZIP },
      },
    },
  };
  for (const id of customs) {
    resources[id] = {
      Type: id.startsWith('Typed') ? 'Custom::Echo' : 'ALIYUN::ROS::CustomResource',
      DependsOn: ['Function'],
      Properties: {
        ServiceToken: { 'Fn::GetAtt': ['Function', 'ARN'] },
        Timeout: options.timeout ?? 30,
        Parameters: {
          Value: { Ref: 'Value' },
          Fail: { 'Fn::If': ['ShouldFail', { Ref: 'Fail' }, { Ref: 'ALIYUN::NoValue' }] },
          Silent: { Ref: 'Silent' },
          LogFile: logFile,
          Generation: options.generation ?? '0',
        },
      },
    };
  }
  return JSON.stringify({
    ROSTemplateFormatVersion: '2015-09-01',
    Parameters: {
      Value: { Type: 'String', Default: 'a' },
      Fail: { Type: 'String', Default: '' },
      Silent: { Type: 'String', Default: 'no', AllowedValues: ['yes', 'no'] },
      Secret: { Type: 'String', NoEcho: true, Default: 'hunter2-top-secret' },
    },
    Conditions: { ShouldFail: { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'Fail' }, ''] }] } },
    Resources: resources,
    Outputs: {
      Echo: { Value: { 'Fn::GetAtt': [customs[0], 'Echo'] } },
      Region: { Value: { Ref: 'ALIYUN::Region' }, Description: 'the region' },
      Secret: { Value: { Ref: 'Secret' } },
      ...(options.extraOutputs && { RoleArn: { Value: { 'Fn::GetAtt': ['Role', 'Arn'] } } }),
    },
  });
}

/** The provider's log: one line per request it received. */
export function readLog(logFile: string): LogLine[] {
  return fs.existsSync(logFile)
    ? fs
        .readFileSync(logFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as LogLine)
    : [];
}

/**
 * A provider that records every request it gets (and its own pid) to the file `LOG_FILE` names, and answers as
 * its properties say: `Answer` ok | fail | silent (returns without answering) | hang (never returns nor answers);
 * `Id`, the PhysicalResourceId to answer a Create or Update with (an Update without one copies the request's);
 * `FailFirstDelivery`, throw without answering the first time it runs (a marker file says when it ran). A Delete
 * always succeeds.
 */
export const RECORDING_PROVIDER = `
const fs = require('fs');
exports.handler = async (event, context) => {
  const e = JSON.parse(event.toString());
  const p = e.ResourceProperties;
  fs.appendFileSync(process.env.LOG_FILE, JSON.stringify({ fn: context.function.name, type: e.RequestType,
    logicalId: e.LogicalResourceId, hasPhysicalId: 'PhysicalResourceId' in e, physicalId: e.PhysicalResourceId,
    props: p, old: e.OldResourceProperties, pid: process.pid }) + '\\n');
  if (p.FailFirstDelivery && !fs.existsSync(process.env.LOG_FILE + '.ran')) {
    fs.writeFileSync(process.env.LOG_FILE + '.ran', '');
    throw new Error('the first delivery fails without answering');
  }
  const isDelete = e.RequestType === 'Delete';
  if (p.Answer === 'silent' && !isDelete) return 'nobody reads this';
  if (p.Answer === 'hang' && !isDelete) return new Promise(() => setInterval(() => {}, 1000));
  const failed = p.Answer === 'fail' && !isDelete;
  const id = isDelete ? e.PhysicalResourceId || 'deleted' : p.Id || e.PhysicalResourceId;
  const body = { Status: failed ? 'FAILED' : 'SUCCESS', Reason: failed ? 'asked to fail' : undefined,
    PhysicalResourceId: id, StackId: e.StackId, RequestId: e.RequestId, LogicalResourceId: e.LogicalResourceId,
    Data: { Value: String(p.Value) } };
  const res = await fetch(e.ResponseURL, { method: 'POST',
    headers: { 'Content-Type': 'application/json', Date: new Date().toUTCString() }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error('response URL answered ' + res.status);
  return 'ignored';
};`;

/** A request {@link RECORDING_PROVIDER} recorded. */
export interface RecordedRequest {
  fn: string;
  type: string;
  logicalId: string;
  hasPhysicalId: boolean;
  physicalId?: string;
  props: Record<string, string>;
  old?: Record<string, string>;
  pid: number;
}

export interface ProviderTemplateOptions {
  /** Add `Breaker`, a second custom resource ordered after `Custom`, answering as `BreakerAnswer` says. */
  readonly breaker?: boolean;
  /** The custom resources' `Timeout`, seconds. @default 30 */
  readonly timeout?: number;
  readonly failFirstDelivery?: boolean;
  /** Give the functions a RAM role (they need none to answer). @default true */
  readonly role?: boolean;
}

/**
 * A stack of two {@link RECORDING_PROVIDER} functions, `ProviderA` and `ProviderB` (named `a-<stack>` and
 * `b-<stack>`), and the custom resource `Custom`, whose ServiceToken is B's when the parameter `Provider` is `B`,
 * A's otherwise. Parameters: `Id` (default `pid-1`), `Answer` (`ok`), `Value` (`v1`), `Provider` (`A`),
 * `BreakerAnswer` (`ok`). Output `Value`: what `Custom` answered in Data.
 */
export function providerTemplate(logFile: string, options: ProviderTemplateOptions = {}): string {
  const withRole = options.role ?? true;
  const fn = (name: string) => ({
    Type: 'ALIYUN::FC3::Function',
    ...(withRole && { DependsOn: ['Role'] }),
    Properties: {
      FunctionName: { 'Fn::Sub': `${name}-\${ALIYUN::StackName}` },
      Runtime: 'nodejs20',
      Handler: 'index.handler',
      Timeout: 600,
      ...(withRole && { Role: { 'Fn::GetAtt': ['Role', 'Arn'] } }),
      EnvironmentVariables: { LOG_FILE: logFile },
      Code: {
        ZipFile: writeZip([{ name: 'index.js', data: Buffer.from(RECORDING_PROVIDER) }]).toString('base64'),
      },
    },
  });
  const custom = (parameters: Record<string, unknown>, dependsOn: string[]) => ({
    Type: 'ALIYUN::ROS::CustomResource',
    DependsOn: dependsOn,
    Properties: {
      ServiceToken: {
        'Fn::If': ['UseB', { 'Fn::GetAtt': ['ProviderB', 'ARN'] }, { 'Fn::GetAtt': ['ProviderA', 'ARN'] }],
      },
      Timeout: options.timeout ?? 30,
      Parameters: parameters,
    },
  });
  return JSON.stringify({
    ROSTemplateFormatVersion: '2015-09-01',
    Parameters: {
      Id: { Type: 'String', Default: 'pid-1' },
      Answer: { Type: 'String', Default: 'ok' },
      Value: { Type: 'String', Default: 'v1' },
      Provider: { Type: 'String', Default: 'A', AllowedValues: ['A', 'B'] },
      BreakerAnswer: { Type: 'String', Default: 'ok' },
    },
    Conditions: { UseB: { 'Fn::Equals': [{ Ref: 'Provider' }, 'B'] } },
    Resources: {
      ...(withRole && {
        Role: {
          Type: 'ALIYUN::RAM::Role',
          Properties: {
            RoleName: { 'Fn::Sub': 'provider-${ALIYUN::StackName}' },
            AssumeRolePolicyDocument: {
              Version: '1',
              Statement: [
                { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['fc.aliyuncs.com'] } },
              ],
            },
          },
        },
      }),
      ProviderA: fn('a'),
      ProviderB: fn('b'),
      Custom: custom(
        {
          Id: { Ref: 'Id' },
          Answer: { Ref: 'Answer' },
          Value: { Ref: 'Value' },
          ...(options.failFirstDelivery && { FailFirstDelivery: 'yes' }),
        },
        ['ProviderA', 'ProviderB'],
      ),
      ...(options.breaker && {
        Breaker: custom({ Id: 'breaker', Answer: { Ref: 'BreakerAnswer' }, Value: { Ref: 'Value' } }, [
          'Custom',
        ]),
      }),
    },
    Outputs: { Value: { Value: { 'Fn::GetAtt': ['Custom', 'Value'] } } },
  });
}

/** What {@link RECORDING_PROVIDER} recorded for `logicalId`, oldest first. */
export function readRequests(logFile: string, logicalId = 'Custom'): RecordedRequest[] {
  if (!fs.existsSync(logFile)) {
    return [];
  }
  return fs
    .readFileSync(logFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RecordedRequest)
    .filter((r) => r.logicalId === logicalId);
}
