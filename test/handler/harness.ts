/**
 * Runs the bundled handler zip (built by the jest global setup) inside LocalCloud's Function Compute, with a RAM
 * role whose only policy is the provider's `handlerPolicyDocument()`, and delivers it custom-resource events the
 * way ROS does: an FC invocation with the event as bytes and presigned response URLs from `cloud.createCallback`.
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import Ecs, * as $Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { handlerPolicyDocument } from '../../lib/handler/policy';
import {
  ApiError,
  LocalCloud,
  type Callback,
  type CallbackOptions,
  type CustomResourceResponse,
} from '../../lib/local';
import type { InvocationRecord } from '../../lib/local/fc';
import type { CloudVariants } from '../../lib/local/variants';
import { handlerZipPath } from '../../lib/package-root';
import { OWNERSHIP_TAG_KEY, type ImageCopyResourceProperties } from '../../lib/protocol';

export const SOURCE_REGION = 'cn-hangzhou';
export const DESTINATION_REGION = 'cn-shanghai';
export const ROLE_NAME = 'image-copy-handler';

/** Sizes whose copies take long enough to act on while they run (see {@link copyDurationMs}). */
export const SLOW_SIZE_GIB = 500;
/** A copy that outlasts LocalCloud's default listing delay (1.5 s) and the handler's first looks. */
export const STEADY_SIZE_GIB = 300;
/** A copy that outlasts a short (4 s) function invocation. */
export const MEDIUM_SIZE_GIB = 200;
/** A copy that keeps a place in the region's copy queue for a moment. */
export const BRIEF_SIZE_GIB = 100;

/**
 * 20 GiB (the default size): 0.8 s; {@link BRIEF_SIZE_GIB}: 1.5 s; {@link MEDIUM_SIZE_GIB}: 3 s;
 * {@link STEADY_SIZE_GIB}: 6 s; {@link SLOW_SIZE_GIB}: 60 s.
 */
export function copyDurationMs(sizeGiB: number): number {
  if (sizeGiB >= SLOW_SIZE_GIB) {
    return 60_000;
  }
  if (sizeGiB >= STEADY_SIZE_GIB) {
    return 6_000;
  }
  if (sizeGiB >= MEDIUM_SIZE_GIB) {
    return 3_000;
  }
  if (sizeGiB >= BRIEF_SIZE_GIB) {
    return 1_500;
  }
  return 800;
}

/** A fault injected into LocalCloud's API calls, decided per call; swapped by tests as they go. */
export type CallFault = (
  product: string,
  action: string,
) => 'reset' | undefined | Promise<'reset' | undefined>;

export interface Harness {
  readonly cloud: LocalCloud;
  /** An ECS client with the root account's key (the test's own view of the cloud). */
  readonly ecs: Ecs;
  /** Creates a function from the bundled handler zip; returns its name. */
  deployHandler(options?: { timeoutSeconds?: number; functionName?: string; roleName?: string }): string;
  /** The current call fault (undefined: none). */
  fault?: CallFault;
  /** Kills the next invocations of a function after the ms it returns (undefined: let it run). */
  kill?: (functionName: string) => number | undefined;
  stop(): Promise<void>;
}

/**
 * A LocalCloud with the provider's role and the bundled handler zip. `variants` picks the readings of undocumented
 * cloud behaviours it plays (default: the strictest of each, as LocalCloud's own default); `accounts`, how many
 * accounts it has (the handler runs in the first; the others are sharees).
 */
export async function startHarness(
  options: { variants?: Partial<CloudVariants>; accounts?: number } = {},
): Promise<Harness> {
  const current: { harness?: Harness } = {};
  const cloud = await LocalCloud.start({
    ...(options.variants ? { variants: options.variants } : {}),
    ...(options.accounts ? { accounts: options.accounts } : {}),
    copyDurationMs,
    faults: { beforeCall: async (product, action) => current.harness?.fault?.(product, action) },
    invocationHooks: { killAfterMs: (functionName) => current.harness?.kill?.(functionName) },
  });
  cloud.putRole({
    roleName: ROLE_NAME,
    assumeRolePolicyDocument: {
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['fc.aliyuncs.com'] } }],
    },
    policies: [handlerPolicyDocument()],
  });
  const zipFile = fs.readFileSync(handlerZipPath()).toString('base64');
  const ecs = new Ecs(
    new $OpenApiUtil.Config({
      ...cloud.credentials,
      regionId: SOURCE_REGION,
      endpoint: cloud.endpoint,
      protocol: 'http',
    }),
  );
  let functions = 0;
  const harness: Harness = {
    cloud,
    ecs,
    fault: undefined,
    kill: undefined,
    deployHandler(options = {}) {
      const functionName = options.functionName ?? `image-copy-${++functions}`;
      cloud.fc.createFunction(DESTINATION_REGION, {
        functionName,
        runtime: 'nodejs20',
        handler: 'index.handler',
        zipFile,
        timeout: options.timeoutSeconds ?? 60,
        memorySize: 256,
        role: cloud.roleArn(options.roleName ?? ROLE_NAME),
      });
      return functionName;
    },
    async stop() {
      await cloud.fc.settled();
      await cloud.stop();
    },
  };
  current.harness = harness;
  return harness;
}

/** The fields ROS sends with every request (ros-custom-resource.md §2), for one resource of one stack. */
export interface ResourceIdentity {
  readonly StackId: string;
  readonly StackName: string;
  readonly LogicalResourceId: string;
}

export function newResource(logicalResourceId = 'Copy'): ResourceIdentity {
  const stackId = randomUUID();
  return {
    StackId: stackId,
    StackName: `stack-${stackId.slice(0, 8)}`,
    LogicalResourceId: logicalResourceId,
  };
}

export interface RequestSpec {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResourceProperties: ImageCopyResourceProperties;
  readonly OldResourceProperties?: ImageCopyResourceProperties;
  readonly PhysicalResourceId?: string;
  readonly RequestId?: string;
}

/** A custom-resource event as ROS sends it, answering to `callback`. */
export function eventFor(
  cloud: LocalCloud,
  resource: ResourceIdentity,
  request: RequestSpec,
  callback?: Callback,
): Record<string, unknown> {
  return {
    RequestType: request.RequestType,
    ...(callback ? { ResponseURL: callback.url, IntranetResponseURL: callback.intranetUrl } : {}),
    StackId: resource.StackId,
    StackName: resource.StackName,
    ResourceOwnerId: cloud.accountId,
    CallerId: cloud.accountId,
    RegionId: DESTINATION_REGION,
    RequestId: request.RequestId ?? randomUUID(),
    ResourceType: 'Custom::ImageCopy',
    LogicalResourceId: resource.LogicalResourceId,
    ResourceProperties: request.ResourceProperties,
    ...(request.OldResourceProperties ? { OldResourceProperties: request.OldResourceProperties } : {}),
    ...(request.PhysicalResourceId ? { PhysicalResourceId: request.PhysicalResourceId } : {}),
  };
}

export interface Delivery {
  readonly event: Record<string, unknown>;
  readonly callback: Callback;
  /** The first accepted response. */
  readonly response: Promise<CustomResourceResponse>;
}

/**
 * Delivers a request as ROS does: an asynchronous FC invocation whose payload is the event's JSON bytes, with a
 * fresh pair of presigned response URLs. Resolve `response` to get the answer.
 */
export async function deliver(
  harness: Harness,
  functionName: string,
  resource: ResourceIdentity,
  request: RequestSpec,
  callbackOptions: CallbackOptions = {},
): Promise<Delivery> {
  const event = eventFor(harness.cloud, resource, request);
  const callback = harness.cloud.createCallback({
    expect: {
      StackId: resource.StackId,
      RequestId: String(event.RequestId),
      LogicalResourceId: resource.LogicalResourceId,
    },
    ...callbackOptions,
  });
  const withUrls = { ...event, ResponseURL: callback.url, IntranetResponseURL: callback.intranetUrl };
  await invokeAsync(harness, functionName, withUrls);
  return { event: withUrls, callback, response: callback.response };
}

/** An asynchronous invocation of the function with `payload` (an object is sent as its JSON bytes). */
export async function invokeAsync(harness: Harness, functionName: string, payload: unknown): Promise<void> {
  const bytes = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload));
  await harness.cloud.fc.invoke(DESTINATION_REGION, functionName, bytes, { async: true });
}

/** Delivers a request, waits for the answer and for every invocation it caused to end. */
export async function run(
  harness: Harness,
  functionName: string,
  resource: ResourceIdentity,
  request: RequestSpec,
  callbackOptions: CallbackOptions = {},
): Promise<{ response: CustomResourceResponse; callback: Callback; event: Record<string, unknown> }> {
  const delivery = await deliver(harness, functionName, resource, request, callbackOptions);
  const response = await answered(delivery.callback);
  await harness.cloud.fc.settled();
  return { response, callback: delivery.callback, event: delivery.event };
}

/** The first answer posted to `callback`; fails (rather than hang) when none comes within `timeoutMs`. */
export async function answered(callback: Callback, timeoutMs = 40_000): Promise<CustomResourceResponse> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no response posted within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([callback.response, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The invocations of a function, and all their log lines. */
export function invocationsOf(harness: Harness, functionName: string): InvocationRecord[] {
  return harness.cloud.fc.invocations({ regionId: DESTINATION_REGION, functionName });
}

export function logsOf(harness: Harness, functionName: string): string[] {
  return invocationsOf(harness, functionName).flatMap((record) => record.logs);
}

/** The structured lines (the handler's JSON) of a function's logs, parsed. */
export function stepsOf(harness: Harness, functionName: string): Array<Record<string, unknown>> {
  return logsOf(harness, functionName).flatMap((line) => {
    const start = line.indexOf('{"time"');
    if (start < 0) {
      return [];
    }
    try {
      return [JSON.parse(line.slice(start)) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

/** The image a SUCCESS answer names: `Data.ImageId` (the physical id is the resource instance's, not an image). */
export function imageIdOf(response: CustomResourceResponse): string {
  const imageId = response.Data?.ImageId;
  if (typeof imageId !== 'string') {
    throw new Error(`the answer names no image: ${JSON.stringify(response)}`);
  }
  return imageId;
}

/** Images of the destination region that carry this resource's ownership tag. */
export function ownedImages(harness: Harness, resource: ResourceIdentity, regionId = DESTINATION_REGION) {
  const prefix = `${resource.StackId}/${resource.LogicalResourceId}#`;
  return harness.cloud.ecs
    .listImages(regionId)
    .filter((image) => (image.tags[OWNERSHIP_TAG_KEY] ?? '').startsWith(prefix));
}

/** Whether DescribeImages (as the handler calls it) lists the image yet: ECS may list a new copy late. */
export async function isListed(
  harness: Harness,
  imageId: string,
  regionId = DESTINATION_REGION,
): Promise<boolean> {
  const answer = await harness.ecs.describeImages(
    new $Ecs.DescribeImagesRequest({ regionId, imageId, status: 'ALL' }),
  );
  return (answer.body?.totalCount ?? 0) > 0;
}

/** Polls `condition` every 50 ms until it holds (or `timeoutMs` passes, failing the test). */
export async function until<T>(condition: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = condition();
    if (value) {
      return value;
    }
    if (Date.now() > end) {
      throw new Error(`condition not met within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Polls an asynchronous `condition` every 50 ms until it holds (or `timeoutMs` passes, failing the test). */
export async function untilAsync(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) {
      throw new Error(`condition not met within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A source image in the source region; `sizeGiB` decides how long its copies take. */
export function putSource(
  harness: Harness,
  spec: { sizeGiB?: number; imageName?: string; status?: 'Available' | 'UnAvailable' } = {},
): string {
  return harness.cloud.ecs.putImage(SOURCE_REGION, {
    imageName: spec.imageName ?? `golden-${randomUUID().slice(0, 8)}`,
    sizeGiB: spec.sizeGiB ?? 20,
    ...(spec.status ? { status: spec.status } : {}),
  });
}

/** Starts a copy directly (as the root account), tagged as a copy of `resource` started by `requestId`. */
export async function startCopyAs(
  harness: Harness,
  sourceImageId: string,
  tags: Record<string, string>,
  imageName = `direct-${randomUUID().slice(0, 8)}`,
): Promise<string> {
  const answer = await harness.ecs.copyImage(
    new $Ecs.CopyImageRequest({
      regionId: SOURCE_REGION,
      imageId: sourceImageId,
      destinationRegionId: DESTINATION_REGION,
      destinationImageName: imageName,
      tag: Object.entries(tags).map(([key, value]) => new $Ecs.CopyImageRequestTag({ key, value })),
    }),
  );
  return answer.body!.imageId!;
}

export { ApiError };
