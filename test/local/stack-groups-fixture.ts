/**
 * Stack group tests' helpers: a ROS client per account (the real `@alicloud/ros20190910`), the documented
 * self-managed roles ("Step 1: Grant self-managed permissions"), small instance templates, and waiting for an
 * operation to end.
 */
import * as fs from 'fs';
import Ros, * as $Ros from '@alicloud/ros20190910';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import type { LocalAccount, LocalCloud } from '../../lib/local';
import { writeZip } from '../../lib/zip';

export const REGION = 'cn-hangzhou';
export const ADMINISTRATION_ROLE = 'AliyunROSStackGroupAdministrationRole';
export const EXECUTION_ROLE = 'AliyunROSStackGroupExecutionRole';

export function rosClient(cloud: LocalCloud, account: LocalAccount = cloud.accounts[0]): Ros {
  return new Ros(
    new $OpenApiUtil.Config({
      ...account.credentials,
      regionId: REGION,
      endpoint: cloud.endpoint,
      protocol: 'http',
    }),
  );
}

/** The administration role in `admin` (trusted by ROS, allowed to assume the execution role anywhere). */
export function putAdministrationRole(admin: LocalAccount, executionRole = EXECUTION_ROLE): void {
  admin.putRole({
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
          { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: `acs:ram::*:role/${executionRole}` },
        ],
      },
    ],
  });
}

/** The execution role in `target`, trusting the administrator account. */
export function putExecutionRole(target: LocalAccount, adminAccountId: string): void {
  target.putRole({
    roleName: EXECUTION_ROLE,
    assumeRolePolicyDocument: {
      Version: '1',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { RAM: [`acs:ram::${adminAccountId}:root`] },
        },
      ],
    },
    policies: [{ Version: '1', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }],
  });
}

/** The documented self-managed roles: the administration role in the first account, execution roles in all. */
export function grantSelfManaged(cloud: LocalCloud): void {
  putAdministrationRole(cloud.accounts[0]);
  for (const account of cloud.accounts) {
    putExecutionRole(account, cloud.accountId);
  }
}

/**
 * An instance template: a RAM role (named after the stack) whose ARN is an output, and a `Name` parameter; with
 * `failIn`, a launch template whose image does not exist fails the stack in those regions.
 */
export function instanceTemplate(options: { failWhen?: string } = {}): string {
  const resources: Record<string, unknown> = {
    Role: {
      Type: 'ALIYUN::RAM::Role',
      Properties: {
        RoleName: {
          'Fn::Join': [
            '-',
            [
              'r',
              { Ref: 'Name' },
              { 'Fn::Select': ['0', { 'Fn::Split': ['-', { Ref: 'ALIYUN::StackId' }] }] },
            ],
          ],
        },
        AssumeRolePolicyDocument: {
          Version: '1',
          Statement: [
            { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['fc.aliyuncs.com'] } },
          ],
        },
      },
    },
  };
  if (options.failWhen !== undefined) {
    resources.Broken = {
      Type: 'ALIYUN::ECS::LaunchTemplate',
      Condition: 'Fail',
      Properties: { LaunchTemplateName: { Ref: 'ALIYUN::StackName' }, ImageId: 'm-doesnotexist' },
    };
  }
  return JSON.stringify({
    ROSTemplateFormatVersion: '2015-09-01',
    Parameters: {
      Name: { Type: 'String', Default: 'app' },
      Fail: { Type: 'String', Default: 'no' },
    },
    ...(options.failWhen !== undefined && {
      Conditions: { Fail: { 'Fn::Equals': [{ Ref: 'Fail' }, options.failWhen] } },
    }),
    Resources: resources,
    Outputs: {
      RoleArn: { Value: { 'Fn::GetAtt': ['Role', 'Arn'] } },
      Region: { Value: { Ref: 'ALIYUN::Region' } },
      Name: { Value: { Ref: 'Name' } },
    },
  });
}

/** Polls GetStackGroupOperation until the operation is no longer RUNNING or STOPPING. */
export async function waitForOperation(ros: Ros, operationId: string, timeoutMs = 40_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const op = (
      await ros.getStackGroupOperation(
        new $Ros.GetStackGroupOperationRequest({ regionId: REGION, operationId }),
      )
    ).body!.stackGroupOperation!;
    if (op.status !== 'RUNNING' && op.status !== 'STOPPING') {
      return op;
    }
    if (Date.now() > deadline) {
      throw new Error(`operation ${operationId} still ${op.status} after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every result of an operation, as `account/region → status`. */
export async function operationResults(ros: Ros, operationId: string) {
  const body = (
    await ros.listStackGroupOperationResults(
      new $Ros.ListStackGroupOperationResultsRequest({ regionId: REGION, operationId, pageSize: 50 }),
    )
  ).body!;
  return body.stackGroupOperationResults ?? [];
}

export async function createGroup(
  ros: Ros,
  name: string,
  templateBody: string,
  extra: Partial<$Ros.CreateStackGroupRequest> = {},
): Promise<string> {
  const response = await ros.createStackGroup(
    new $Ros.CreateStackGroupRequest({ regionId: REGION, stackGroupName: name, templateBody, ...extra }),
  );
  return response.body!.stackGroupId!;
}

export async function createInstances(
  ros: Ros,
  name: string,
  accountIds: string[],
  regionIds: string[],
  extra: Partial<$Ros.CreateStackInstancesRequest> = {},
): Promise<string> {
  const response = await ros.createStackInstances(
    new $Ros.CreateStackInstancesRequest({
      regionId: REGION,
      stackGroupName: name,
      accountIds,
      regionIds,
      ...extra,
    }),
  );
  return response.body!.operationId!;
}

/**
 * A custom resource's provider that logs when each Create starts and ends (ms, with its stack's account and region)
 * to the parameter `LogFile`, sleeps `DelayMs`, then answers: FAILED in the account `FailAccount` names, SUCCESS
 * elsewhere.
 */
const SLEEPER = `
const fs = require('fs');
exports.handler = async (event) => {
  const e = JSON.parse(event.toString());
  const p = e.ResourceProperties;
  const start = Date.now();
  if (e.RequestType === 'Create') await new Promise((r) => setTimeout(r, Number(p.DelayMs)));
  if (e.RequestType === 'Create') fs.appendFileSync(p.LogFile, JSON.stringify({ account: p.Account, region: p.Region,
    stackId: e.StackId, start, end: Date.now() }) + '\\n');
  const failed = p.FailAccount === p.Account && e.RequestType !== 'Delete';
  const body = { Status: failed ? 'FAILED' : 'SUCCESS', Reason: failed ? 'asked to fail in ' + p.Account : undefined,
    PhysicalResourceId: e.PhysicalResourceId || 'sleeper', StackId: e.StackId, RequestId: e.RequestId,
    LogicalResourceId: e.LogicalResourceId, Data: {} };
  const res = await fetch(e.ResponseURL, { method: 'POST',
    headers: { 'Content-Type': 'application/json', Date: new Date().toUTCString() }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error('response URL answered ' + res.status);
};`;

const SLEEPER_ZIP = writeZip([{ name: 'index.js', data: Buffer.from(SLEEPER) }]).toString('base64');

/**
 * An instance template whose creation takes `DelayMs` (a custom resource backed by a function of the stack's own
 * account) and logs when it ran to `LogFile`; the parameter `FailAccount` fails it in that account (the reason
 * names the account).
 */
export function slowTemplate(logFile: string, delayMs: number): string {
  return JSON.stringify({
    ROSTemplateFormatVersion: '2015-09-01',
    Parameters: {
      FailAccount: { Type: 'String', Default: 'none' },
      DelayMs: { Type: 'String', Default: String(delayMs) },
    },
    Resources: {
      Function: {
        Type: 'ALIYUN::FC3::Function',
        Properties: {
          FunctionName: { 'Fn::Sub': 'sleeper-${ALIYUN::StackName}' },
          Runtime: 'nodejs20',
          Handler: 'index.handler',
          Timeout: 60,
          Code: { ZipFile: SLEEPER_ZIP },
        },
      },
      Sleeper: {
        Type: 'Custom::Sleeper',
        Properties: {
          ServiceToken: { 'Fn::GetAtt': ['Function', 'ARN'] },
          Timeout: 60,
          Parameters: {
            LogFile: logFile,
            DelayMs: { Ref: 'DelayMs' },
            FailAccount: { Ref: 'FailAccount' },
            Account: { Ref: 'ALIYUN::AccountId' },
            Region: { Ref: 'ALIYUN::Region' },
          },
        },
      },
    },
    Outputs: { Region: { Value: { Ref: 'ALIYUN::Region' } } },
  });
}

export interface SleeperRun {
  account: string;
  region: string;
  stackId: string;
  start: number;
  end: number;
}

export function readSleeperLog(logFile: string): SleeperRun[] {
  return fs.existsSync(logFile)
    ? fs
        .readFileSync(logFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as SleeperRun)
    : [];
}

/** The most runs that overlapped in time. */
export function maxOverlap(runs: readonly SleeperRun[]): number {
  const edges = runs.flatMap((r) => [
    { t: r.start, d: 1 },
    { t: r.end, d: -1 },
  ]);
  edges.sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let most = 0;
  for (const e of edges) {
    now += e.d;
    most = Math.max(most, now);
  }
  return most;
}
