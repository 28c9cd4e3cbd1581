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
