import { EcsService, type EcsOptions, type EcsVariants } from '../../lib/local/ecs';
import type { RequestContext } from '../../lib/local/service';
import { StateStore } from '../../lib/local/state';

export const ACCOUNT_ID = '1234567890123456';
export const T0 = Date.parse('2026-01-01T00:00:00Z');

/** A 10 s copy, whatever the size, unless a test says otherwise. */
export const COPY_MS = 10_000;

export interface AuthorizeCall {
  readonly action: string;
  readonly resources: string[];
}

/**
 * The most lenient reading of each undocumented ECS behaviour: the fixture's default, so that a test of something
 * else (the queue, names, tags) is not refused as a concurrent copy of the seeded source or kept from seeing its new
 * copy. `ecs-variants.test.ts` tests each reading; LocalCloud itself plays the strictest by default.
 */
export const LENIENT_ECS_VARIANTS: EcsVariants = {
  copyConflict: 'none',
  copyVisibility: 'immediate',
  copyVisibilityDelayMs: 0,
  clientTokenReplay: 'forever',
  hiddenCopyActions: 'work',
  shareAccountsOverTen: 'first-ten',
  sharedImageDelete: 'force-deletes',
  sharedImageTags: 'shown',
  repeatedImageStatus: 'accepted',
  copyQueue: 'per-account',
};

/**
 * An EcsService on an in-memory (or file-backed) state with an injected clock, driven through `handle` with a
 * fake request context that records every `authorize` call (and can be told to refuse).
 */
export function ecsFixture(options: EcsOptions & { stateFile?: string; startAt?: number } = {}) {
  const clock = { now: options.startAt ?? T0 };
  const store = new StateStore(options.stateFile);
  const ecs = new EcsService(store, ACCOUNT_ID, {
    now: () => clock.now,
    copyDurationMs: COPY_MS,
    ...options,
    variants: { ...LENIENT_ECS_VARIANTS, ...options.variants },
  });
  const authorized: AuthorizeCall[] = [];
  let refuse: Error | undefined;
  const ctx: RequestContext = {
    requestId: 'test-request',
    principal: { kind: 'root', accessKeyId: 'LTAItest' },
    accountId: ACCOUNT_ID,
    authorize(action, resources) {
      authorized.push({ action, resources });
      if (refuse) {
        throw refuse;
      }
    },
  };
  const call = (action: string, params: Record<string, string> = {}): Promise<any> =>
    ecs.handle(action, params, ctx);
  return {
    ecs,
    store,
    clock,
    authorized,
    call,
    /** Moves the injected clock forward. */
    tick(ms: number) {
      clock.now += ms;
    },
    /** Makes every following `authorize` throw `error`. */
    refuseWith(error: Error | undefined) {
      refuse = error;
    },
    /** The error of a call that must fail. */
    async errorOf(action: string, params: Record<string, string> = {}): Promise<any> {
      try {
        await call(action, params);
      } catch (err) {
        return err;
      }
      throw new Error(`expected ${action} to fail`);
    },
    /** DescribeImages of one image in any status, or undefined. */
    async describe(regionId: string, imageId: string): Promise<any> {
      const res = await call('DescribeImages', { RegionId: regionId, ImageId: imageId, Status: 'ALL' });
      return res.Images.Image[0];
    },
    /** A copy from a seeded image with a fresh name; returns the new id. */
    async copy(params: Record<string, string> = {}): Promise<string> {
      const res = await call('CopyImage', {
        RegionId: 'cn-hangzhou',
        ImageId: 'm-bp1seedgoldenimage01',
        DestinationRegionId: 'cn-shanghai',
        DestinationImageName: `copy-${Math.random().toString(36).slice(2, 10)}`,
        ...params,
      });
      return res.ImageId;
    },
  };
}

export type EcsFixture = ReturnType<typeof ecsFixture>;
