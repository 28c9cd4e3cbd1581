/**
 * `ALIYUN::ROS::CustomResource` and `Custom::*`
 * (https://www.alibabacloud.com/help/en/ros/developer-reference/aliyun-ros-customresource): the ROS custom-resource
 * protocol from ROS's side, delivering request events to an FC 3.0 function and waiting for its answer at a response
 * URL.
 */
import { randomUUID } from 'crypto';
import type { CustomResourceResponse } from '../../callbacks';
import type { Clock } from '../../clock';
import {
  optionalNumber,
  requireString,
  ResourceError,
  type CloudServices,
  type FailedCreate,
  type ProvisionContext,
  type Provisioned,
  type ResourceHandler,
} from './handler';

/**
 * `ALIYUN::ROS::CustomResource` / `Custom::*`: sends the provider the request event of the ROS protocol (through
 * an FC invocation, asynchronous or synchronous as `customResourceInvocation` says) and waits for its answer at the
 * response URL up to `Timeout` seconds.
 *
 * What ROS does where its documentation is silent follows the variants: an Update answered with another
 * PhysicalResourceId (`physicalIdChange`), and the PhysicalResourceId of the Delete that follows a failed or
 * unanswered Create (`deleteAfterFailedCreate`).
 */
export class CustomResourceHandler implements ResourceHandler {
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
    if (account !== ctx.accountId) {
      throw new ResourceError(`ServiceToken names account ${account}, not this account`);
    }
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
    if (strayKeys.length > 0) {
      throw new ResourceError(`Unknown properties for ${ctx.resourceType}: ${strayKeys.join(', ')}`);
    }
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
      for (let i = 0; i < deliveries; i++) {
        await this.deliver(fnRegion, functionName, payload);
      }
      const waitSeconds = Math.min(timeoutSeconds, ctx.secondsLeft());
      const answer = await waitForAnswer(callback.response, waitSeconds, ctx.signal, this.cloud.clock);
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

/**
 * The provider's answer; or `timeout` once `seconds` have passed on ROS's clock; or `aborted` when the stack's
 * operation times out first (`signal`).
 */
function waitForAnswer(
  response: Promise<CustomResourceResponse>,
  seconds: number,
  signal: AbortSignal,
  clock: Clock,
): Promise<CustomResourceResponse | 'timeout' | 'aborted'> {
  return new Promise((resolve) => {
    const over = new AbortController();
    const onAbort = () => finish('aborted');
    const finish = (value: CustomResourceResponse | 'timeout' | 'aborted') => {
      over.abort();
      signal.removeEventListener('abort', onAbort);
      resolve(value);
    };
    if (signal.aborted) {
      finish('aborted');
      return;
    }
    clock.sleep(Math.max(0, seconds) * 1000, over.signal).then(
      () => finish('timeout'),
      () => undefined,
    );
    signal.addEventListener('abort', onAbort, { once: true });
    void response.then(finish);
  });
}
