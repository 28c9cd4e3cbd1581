/**
 * The handler called in this process against a LocalCloud that shares its clock: a `FakeClock` whose sleeps return
 * at once, moving time forward. What takes minutes of cloud time (a copy ECS lists two minutes late, a late delivery
 * that waits for a copy that never appears) runs in a moment. One request at a time: the clock is shared.
 */
import { randomUUID } from 'crypto';
import { createHandler } from '../../lib/handler';
import type { FcContext } from '../../lib/handler/event';
import { handlerPolicyDocument } from '../../lib/handler/policy';
import { LocalCloud } from '../../lib/local';
import type { FaultHook } from '../../lib/local/server';
import type { CloudVariants } from '../../lib/local/variants';
import { FakeClock } from './fake-clock';
import {
  copyDurationMs,
  DESTINATION_REGION,
  eventFor,
  type RequestSpec,
  type ResourceIdentity,
} from './harness';

export interface VirtualCloud {
  readonly cloud: LocalCloud;
  readonly clock: FakeClock;
  /** The handler's structured log lines, parsed. */
  readonly steps: Array<Record<string, unknown>>;
  /** Delivers a request in process (as FC would, without hand-overs: the function has an hour) to `responseUrl`. */
  deliver(resource: ResourceIdentity, request: RequestSpec, responseUrl: string): Promise<unknown>;
  stop(): Promise<void>;
}

export async function startVirtualCloud(
  variants: Partial<CloudVariants> = {},
  options: { faults?: FaultHook; env?: NodeJS.ProcessEnv } = {},
): Promise<VirtualCloud> {
  const clock = new FakeClock(Date.now());
  const cloud = await LocalCloud.start({
    variants,
    copyDurationMs,
    now: () => clock.now(),
    ...(options.faults ? { faults: options.faults } : {}),
  });
  const env = {
    ALIBABA_CLOUD_ECS_ENDPOINT: cloud.endpoint,
    ALIBABA_CLOUD_FC_ENDPOINT: await cloud.fc.endpoint(DESTINATION_REGION),
    ALIBABA_CLOUD_ENDPOINT_PROTOCOL: 'http',
    ...options.env,
  };
  const steps: Array<Record<string, unknown>> = [];
  const record = (line: string) => steps.push(JSON.parse(line) as Record<string, unknown>);
  const handler = createHandler({ env, clock, sink: { info: record, warn: record, error: record } });
  const credentials = cloud.issueRoleCredentials('image-copy-handler', handlerPolicyDocument(), 24 * 3600);
  const context = (): FcContext => ({
    requestId: randomUUID(),
    credentials,
    function: { name: 'image-copy', timeout: 3600, memory: 256 },
    region: DESTINATION_REGION,
    accountId: cloud.accountId,
  });
  return {
    cloud,
    clock,
    steps,
    deliver: (resource, request, responseUrl) =>
      handler(
        Buffer.from(JSON.stringify({ ...eventFor(cloud, resource, request), ResponseURL: responseUrl })),
        context(),
      ),
    stop: () => cloud.stop(),
  };
}
