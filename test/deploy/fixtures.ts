import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Clock } from '../../lib/clock';
import { LocalCloud, LocalCloudOptions } from '../../lib/local';
import type { ConnectionOptions } from '../../lib/deploy';

export const REGION = 'cn-hangzhou';

/**
 * A clock on which waits take no real time: each moves virtual time forward by the amount asked and lets the event
 * loop turn once. `random` is fixed (jitter at its middle). For code that talks to something scripted, not running.
 */
export class VirtualClock implements Clock {
  readonly sleeps: number[] = [];

  constructor(public time = Date.parse('2026-01-01T00:00:00Z')) {}

  now(): number {
    return this.time;
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.time += Math.max(0, ms);
    await new Promise((resolve) => setImmediate(resolve));
  }

  random(): number {
    return 0.5;
  }
}

/**
 * A virtual clock for code that talks to a LocalCloud, which works in real time: each wait moves virtual time
 * forward by the amount asked but lasts at most `realMs` for real, long enough for LocalCloud to get on with its work
 * between two polls without being flooded, far shorter than the backoff and poll intervals the code asks for.
 */
export class CompressedClock extends VirtualClock {
  constructor(private readonly realMs = 5) {
    super();
  }

  override async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.time += Math.max(0, ms);
    await new Promise((resolve) => setTimeout(resolve, Math.min(ms, this.realMs)));
  }
}

/**
 * A LocalCloud for one test file, and connection options that reach it: `connection` with the default backoff and
 * polls on a {@link CompressedClock}, `fast` the same.
 */
export async function startCloud(options: LocalCloudOptions = {}) {
  const cloud = await LocalCloud.start({ port: 0, ...options });
  const connection: ConnectionOptions = {
    regionId: REGION,
    endpoint: cloud.endpoint,
    protocol: 'http',
    credentials: cloud.credentials,
    clock: new CompressedClock(),
  };
  return { cloud, connection, fast: connection };
}

/** Runs `body` with a LocalCloud of its own (see {@link startCloud}), stopped afterwards whatever happens. */
export async function withCloud<T>(
  options: LocalCloudOptions,
  body: (started: Awaited<ReturnType<typeof startCloud>>) => Promise<T>,
): Promise<T> {
  const started = await startCloud(options);
  try {
    return await body(started);
  } finally {
    await started.cloud.stop();
  }
}

const TRUST = {
  Version: '1',
  Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['fc.aliyuncs.com'] } }],
};

/** A RAM role resource (fast in LocalCloud: no custom resource involved). */
export function role(roleName: string, extra: Record<string, unknown> = {}) {
  return {
    Type: 'ALIYUN::RAM::Role',
    Properties: { RoleName: roleName, AssumeRolePolicyDocument: TRUST, ...extra },
  };
}

/** A template of RAM roles, with an output per role (its ARN). */
export function rolesTemplate(roles: Record<string, string>, extra: Record<string, unknown> = {}) {
  return {
    ROSTemplateFormatVersion: '2015-09-01',
    Resources: Object.fromEntries(Object.entries(roles).map(([id, name]) => [id, role(name)])),
    Outputs: Object.fromEntries(
      Object.keys(roles).map((id) => [
        `${id}Arn`,
        { Value: { 'Fn::GetAtt': [id, 'Arn'] }, Description: `ARN of ${id}` },
      ]),
    ),
    ...extra,
  };
}

/**
 * A custom resource held in progress until the test opens its gate (creates the file `gate`): its provider, an FC
 * function, polls for the file, then answers SUCCESS. Keeps a stack `*_IN_PROGRESS` for as long as a test needs.
 */
export function gatedTemplate(gate: string, functionName: string) {
  const source = `
const fs = require('fs');
exports.handler = async (payload) => {
  const event = JSON.parse(payload.toString());
  // Also ends when the test's directory is gone, so no process outlives a test.
  while (!fs.existsSync(${JSON.stringify(gate)}) && fs.existsSync(${JSON.stringify(path.dirname(gate))})) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await fetch(event.ResponseURL, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      Status: 'SUCCESS', PhysicalResourceId: 'gated-' + event.LogicalResourceId, StackId: event.StackId,
      RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId, Data: { Opened: 'yes' },
    }),
  });
};`;
  return {
    ROSTemplateFormatVersion: '2015-09-01',
    Resources: {
      Provider: {
        Type: 'ALIYUN::FC3::Function',
        Properties: {
          FunctionName: functionName,
          Runtime: 'nodejs20',
          Handler: 'index.handler',
          Timeout: 600,
          Code: { SourceCode: source },
        },
      },
      Gated: {
        Type: 'ALIYUN::ROS::CustomResource',
        Properties: { ServiceToken: { 'Fn::GetAtt': ['Provider', 'ARN'] }, Timeout: 600, Parameters: {} },
      },
    },
    Outputs: { Opened: { Value: { 'Fn::GetAtt': ['Gated', 'Opened'] } } },
  };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Polls `probe` until it returns a value (no timing assertion: the test's own timeout bounds it). */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Custom resources whose provider (one FC function) answers SUCCESS at once, each with the `Timeout` (seconds) given
 * and its dependencies: `dependsOn` (DependsOn) and `getAtt` (a property that reads another's attribute).
 */
export function customResourcesTemplate(
  functionName: string,
  resources: Record<string, { timeout?: number; dependsOn?: string[]; getAtt?: string }>,
) {
  const source = `
exports.handler = async (payload) => {
  const event = JSON.parse(payload.toString());
  await fetch(event.ResponseURL, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      Status: 'SUCCESS', PhysicalResourceId: 'quick-' + event.LogicalResourceId, StackId: event.StackId,
      RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId, Data: { Done: 'yes' },
    }),
  });
};`;
  return {
    ROSTemplateFormatVersion: '2015-09-01',
    Resources: {
      Provider: {
        Type: 'ALIYUN::FC3::Function',
        Properties: {
          FunctionName: functionName,
          Runtime: 'nodejs20',
          Handler: 'index.handler',
          Timeout: 60,
          Code: { SourceCode: source },
        },
      },
      ...Object.fromEntries(
        Object.entries(resources).map(([id, r]) => [
          id,
          {
            Type: 'ALIYUN::ROS::CustomResource',
            ...(r.dependsOn && { DependsOn: r.dependsOn }),
            Properties: {
              ServiceToken: { 'Fn::GetAtt': ['Provider', 'ARN'] },
              ...(r.timeout !== undefined && { Timeout: r.timeout }),
              Parameters: r.getAtt ? { After: { 'Fn::GetAtt': [r.getAtt, 'Done'] } } : {},
            },
          },
        ]),
      ),
    },
  };
}
