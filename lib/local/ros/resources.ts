import { randomInt, randomUUID } from 'crypto';
import { writeZip } from '../../zip';
import type { CustomResourceResponse } from '../callbacks';
import { ApiError } from '../errors';
import type { FunctionSpec } from '../fc';
import type { PolicyDocument } from '../ram';
import { LaunchTemplateHandler } from './launch-template';
import {
  CloudServices,
  FailedCreate,
  optionalList,
  optionalNumber,
  ProvisionContext,
  Provisioned,
  requireString,
  ResourceError,
  ResourceHandler,
} from './resource-handler';

export { requiresReplacement, ResourceError } from './resource-handler';
export type {
  CloudServices,
  FailedCreate,
  ProvisionContext,
  Provisioned,
  ResourceHandler,
} from './resource-handler';

/** The handler for a resource type, or undefined when LocalCloud does not implement it. */
export function handlerFor(type: string, cloud: CloudServices): ResourceHandler | undefined {
  if (type === 'ALIYUN::RAM::Role') return new RoleHandler(cloud);
  if (type === 'ALIYUN::FC3::Function') return new FunctionHandler(cloud);
  if (type === 'ALIYUN::ROS::CustomResource' || type.startsWith('Custom::'))
    return new CustomResourceHandler(cloud);
  if (type === 'ALIYUN::ECS::LaunchTemplate') return new LaunchTemplateHandler(cloud);
  return undefined;
}

export const SUPPORTED_RESOURCE_TYPES = [
  'ALIYUN::RAM::Role',
  'ALIYUN::FC3::Function',
  'ALIYUN::ROS::CustomResource',
  'Custom::*',
  'ALIYUN::ECS::LaunchTemplate',
] as const;

// ---------------------------------------------------------------------------------------------------------------

class RoleHandler implements ResourceHandler {
  readonly replacementProperties = ['RoleName'];
  constructor(private readonly cloud: CloudServices) {}

  async create(ctx: ProvisionContext, p: Record<string, unknown>): Promise<Provisioned> {
    const roleName = requireString(p, 'RoleName');
    if (!/^[A-Za-z0-9.-]{1,64}$/.test(roleName)) {
      throw new ResourceError(`RoleName "${roleName}" is invalid: 1-64 letters, digits, "." or "-"`);
    }
    if (this.cloud.ram.getRole(roleName) && p.IgnoreExisting !== true && p.IgnoreExisting !== 'true') {
      throw new ResourceError(
        `EntityAlreadyExists.Role: the role ${roleName} already exists in this account`,
      );
    }
    this.put(roleName, p);
    return this.describe(ctx, roleName);
  }

  async update(
    ctx: ProvisionContext,
    current: Provisioned,
    p: Record<string, unknown>,
  ): Promise<Provisioned> {
    this.put(current.physicalId, p);
    return this.describe(ctx, current.physicalId, current.attributes.RoleId as string);
  }

  async delete(_ctx: ProvisionContext, current: Provisioned | undefined): Promise<void> {
    if (current) this.cloud.ram.deleteRole(current.physicalId);
  }

  private put(roleName: string, p: Record<string, unknown>): void {
    const policies = (optionalList(p, 'Policies') ?? []).map((entry, i) => {
      const policy = entry as { PolicyName?: unknown; PolicyDocument?: unknown };
      if (!policy || typeof policy.PolicyName !== 'string' || !policy.PolicyDocument) {
        throw new ResourceError(`Policies[${i}] needs a PolicyName and a PolicyDocument`);
      }
      return policy.PolicyDocument as PolicyDocument;
    });
    if (p.PolicyAttachments !== undefined) {
      throw new ResourceError(
        'PolicyAttachments (system or custom managed policies) are not supported by LocalCloud',
      );
    }
    try {
      this.cloud.ram.putRole({
        roleName,
        assumeRolePolicyDocument: p.AssumeRolePolicyDocument as PolicyDocument,
        policies,
      });
    } catch (err) {
      throw new ResourceError((err as Error).message);
    }
  }

  private describe(
    ctx: ProvisionContext,
    roleName: string,
    roleId = String(randomInt(100_000_000, 999_999_999)) + String(randomInt(1_000_000, 9_999_999)),
  ): Provisioned {
    return {
      physicalId: roleName,
      attributes: {
        Arn: `acs:ram::${ctx.accountId}:role/${roleName.toLowerCase()}`,
        RoleId: roleId,
        RoleName: roleName,
      },
    };
  }
}

// ---------------------------------------------------------------------------------------------------------------

const UNSUPPORTED_FUNCTION_PROPERTIES = [
  'CustomContainerConfig',
  'CustomRuntimeConfig',
  'GpuConfig',
  'Layers',
  'NasConfig',
  'OssMountConfig',
  'VpcConfig',
];

class FunctionHandler implements ResourceHandler {
  readonly replacementProperties = ['FunctionName'];
  constructor(private readonly cloud: CloudServices) {}

  async create(ctx: ProvisionContext, p: Record<string, unknown>): Promise<Provisioned> {
    const spec = this.spec(p);
    this.call(() => this.cloud.fc.createFunction(ctx.regionId, spec));
    return this.describe(ctx, spec.functionName);
  }

  async update(
    ctx: ProvisionContext,
    current: Provisioned,
    p: Record<string, unknown>,
  ): Promise<Provisioned> {
    const spec = this.spec(p);
    this.call(() => this.cloud.fc.updateFunction(ctx.regionId, current.physicalId, spec));
    return this.describe(ctx, current.physicalId);
  }

  async delete(ctx: ProvisionContext, current: Provisioned | undefined): Promise<void> {
    if (current && this.cloud.fc.getFunction(ctx.regionId, current.physicalId)) {
      this.cloud.fc.deleteFunction(ctx.regionId, current.physicalId);
    }
  }

  private spec(p: Record<string, unknown>): FunctionSpec {
    const unsupported = UNSUPPORTED_FUNCTION_PROPERTIES.filter((name) => p[name] !== undefined);
    if (unsupported.length > 0)
      throw new ResourceError(`${unsupported.join(', ')} not supported by LocalCloud`);
    const code = (p.Code ?? {}) as Record<string, unknown>;
    let zipFile: string;
    if (typeof code.ZipFile === 'string') zipFile = code.ZipFile;
    else if (typeof code.SourceCode === 'string') {
      // ROS writes SourceCode to a file named after the handler's module (index for index.handler).
      const handler = requireString(p, 'Handler');
      const file = `${handler.slice(0, handler.lastIndexOf('.'))}.js`;
      zipFile = writeZip([{ name: file, data: Buffer.from(code.SourceCode) }]).toString('base64');
    } else
      throw new ResourceError('Code needs ZipFile or SourceCode (LocalCloud does not fetch code from OSS)');
    return {
      functionName: requireString(p, 'FunctionName'),
      runtime: requireString(p, 'Runtime'),
      handler: requireString(p, 'Handler'),
      zipFile,
      timeout: optionalNumber(p, 'Timeout'),
      memorySize: optionalNumber(p, 'MemorySize'),
      role: typeof p.Role === 'string' ? p.Role : undefined,
      environmentVariables: p.EnvironmentVariables as Record<string, string> | undefined,
      description: typeof p.Description === 'string' ? p.Description : undefined,
    };
  }

  private call<T>(action: () => T): T {
    try {
      return action();
    } catch (err) {
      if (err instanceof ApiError) throw new ResourceError(`${err.code}: ${err.message}`);
      throw err;
    }
  }

  private describe(ctx: ProvisionContext, functionName: string): Provisioned {
    const fn = this.cloud.fc.getFunction(ctx.regionId, functionName)!;
    return {
      physicalId: functionName,
      attributes: { ARN: fn.functionArn, FunctionId: fn.functionId, FunctionName: functionName },
    };
  }
}

// ---------------------------------------------------------------------------------------------------------------

/**
 * `ALIYUN::ROS::CustomResource` / `Custom::*`: sends the provider the request event of the ROS protocol (through
 * an FC invocation, asynchronous or synchronous as `customResourceInvocation` says) and waits for its answer at the
 * response URL up to `Timeout` seconds.
 *
 * What ROS does where its documentation is silent follows the variants: an Update answered with another
 * PhysicalResourceId (`physicalIdChange`), and the PhysicalResourceId of the Delete that follows a failed or
 * unanswered Create (`deleteAfterFailedCreate`).
 */
class CustomResourceHandler implements ResourceHandler {
  readonly replacementProperties = ['ServiceToken'];
  constructor(private readonly cloud: CloudServices) {}

  async create(ctx: ProvisionContext, p: Record<string, unknown>): Promise<Provisioned> {
    return this.request(ctx, 'Create', p);
  }

  async update(
    ctx: ProvisionContext,
    current: Provisioned,
    p: Record<string, unknown>,
    old: Record<string, unknown>,
  ) {
    return this.request(ctx, 'Update', p, current.physicalId, old);
  }

  async delete(
    ctx: ProvisionContext,
    current: Provisioned | undefined,
    p: Record<string, unknown>,
    failedCreate: FailedCreate = {},
  ): Promise<void> {
    const physicalId = current?.physicalId ?? this.idAfterFailedCreate(ctx, failedCreate);
    // Without an id (`empty`), the event has no PhysicalResourceId field at all.
    await this.request(ctx, 'Delete', p, physicalId);
  }

  /** The PhysicalResourceId of the Delete after a Create that failed or was never answered (undocumented). */
  private idAfterFailedCreate(ctx: ProvisionContext, failedCreate: FailedCreate): string | undefined {
    switch (this.cloud.variants.deleteAfterFailedCreate) {
      case 'logical-id':
        return ctx.logicalId;
      case 'empty':
        return undefined;
      case 'answered':
        return failedCreate.answeredPhysicalId ?? `${ctx.logicalId}-never-created`;
    }
  }

  private async request(
    ctx: ProvisionContext,
    requestType: 'Create' | 'Update' | 'Delete',
    p: Record<string, unknown>,
    physicalId?: string,
    oldProperties?: Record<string, unknown>,
  ): Promise<Provisioned> {
    const token = requireString(p, 'ServiceToken');
    const match = /^acs:fc:([a-z0-9-]+):(\d+):functions\/([A-Za-z0-9_-]+)$/.exec(token);
    if (!match) {
      throw new ResourceError(
        `ServiceToken "${token}" is not supported by LocalCloud: only FC 3.0 functions (acs:fc:<region>:<account>:functions/<name>)`,
      );
    }
    const [, fnRegion, account, functionName] = match;
    if (account !== ctx.accountId)
      throw new ResourceError(`ServiceToken names account ${account}, not this account`);
    if (!this.cloud.fc.getFunction(fnRegion, functionName)) {
      throw new ResourceError(
        `FunctionNotFound: the ServiceToken's function ${functionName} does not exist in ${fnRegion}`,
      );
    }
    const timeoutSeconds = optionalNumber(p, 'Timeout') ?? 60;
    const requestId = randomUUID();
    const callback = this.cloud.createCallback({
      expect: { StackId: ctx.stackId, RequestId: requestId, LogicalResourceId: ctx.logicalId },
    });
    const { ServiceToken: _token, Timeout: _timeout, Parameters, ...rest } = p;
    const strayKeys = Object.keys(rest).filter((k) => k !== 'HttpConfig');
    if (strayKeys.length > 0)
      throw new ResourceError(`Unknown properties for ${ctx.resourceType}: ${strayKeys.join(', ')}`);
    const event = {
      RequestType: requestType,
      ResponseURL: callback.url,
      IntranetResponseURL: callback.intranetUrl,
      StackId: ctx.stackId,
      StackName: ctx.stackName,
      ResourceOwnerId: ctx.accountId,
      CallerId: ctx.accountId,
      RegionId: ctx.regionId,
      RequestId: requestId,
      ResourceType: ctx.resourceType,
      LogicalResourceId: ctx.logicalId,
      ResourceProperties: Parameters ?? {},
      ...(physicalId !== undefined && { PhysicalResourceId: physicalId }),
      ...(oldProperties !== undefined && { OldResourceProperties: oldProperties.Parameters ?? {} }),
    };
    const payload = Buffer.from(JSON.stringify(event));
    try {
      const deliveries = Math.max(1, this.cloud.deliveries?.(ctx.logicalId, requestType) ?? 1);
      for (let i = 0; i < deliveries; i++) await this.deliver(fnRegion, functionName, payload);
      const waitSeconds = Math.min(timeoutSeconds, ctx.secondsLeft());
      const answer = await waitForAnswer(callback.response, waitSeconds, ctx.signal);
      if (answer === 'aborted' || (answer === 'timeout' && waitSeconds < timeoutSeconds)) {
        throw new ResourceError(
          `The stack timed out (its TimeoutInMinutes passed) while waiting for the custom resource's answer to ${requestType}, before the resource's own Timeout of ${timeoutSeconds} seconds`,
        );
      }
      if (answer === 'timeout') {
        throw new ResourceError(
          `No response from the custom resource provider within ${timeoutSeconds} seconds (the provider must post to ResponseURL)`,
        );
      }
      return this.outcome(requestType, answer, physicalId);
    } finally {
      this.cloud.discardCallback(callback.id);
    }
  }

  /**
   * Sends the request event to the function. Asynchronously (FC retries a failed invocation as its retry policy
   * says), or synchronously: no FC retries, and the function's return value is ignored; either way ROS waits for
   * the answer at the response URL.
   */
  private async deliver(region: string, functionName: string, payload: Buffer): Promise<void> {
    if (this.cloud.variants.customResourceInvocation === 'async') {
      await this.cloud.fc.invoke(region, functionName, payload, { async: true });
      return;
    }
    void this.cloud.fc.invoke(region, functionName, payload, { async: false }).catch(() => undefined);
  }

  private outcome(requestType: string, answer: CustomResourceResponse, physicalId?: string): Provisioned {
    if (answer.Status === 'FAILED') {
      throw new ResourceError(
        answer.Reason || `The custom resource provider answered FAILED to ${requestType}`,
        answer.PhysicalResourceId,
      );
    }
    let id = answer.PhysicalResourceId ?? physicalId!;
    if (requestType === 'Update' && physicalId !== undefined && id !== physicalId) {
      switch (this.cloud.variants.physicalIdChange) {
        case 'refuse':
          throw new ResourceError(
            `The custom resource provider answered the Update with PhysicalResourceId "${id}", not the request's ` +
              `"${physicalId}": the PhysicalResourceId must be copied from the request on Update`,
          );
        case 'keep':
          id = physicalId;
          break;
        case 'replace':
          break;
      }
    }
    return { physicalId: id, attributes: { Outputs: answer.Data ?? {}, ...(answer.Data ?? {}) } };
  }
}

function waitForAnswer(
  response: Promise<CustomResourceResponse>,
  seconds: number,
  signal: AbortSignal,
): Promise<CustomResourceResponse | 'timeout' | 'aborted'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish('timeout'), Math.max(0, seconds) * 1000);
    timer.unref();
    const onAbort = () => finish('aborted');
    const finish = (value: CustomResourceResponse | 'timeout' | 'aborted') => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    };
    if (signal.aborted) return finish('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    void response.then(finish);
  });
}
