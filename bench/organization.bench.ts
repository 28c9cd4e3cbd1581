/**
 * Benchmark 8, organization: `ImageDistribution` of one image to N accounts × R regions (a ROS stack group, one
 * instance per account and region) deployed with `deployStack` on LocalCloud, its wall time divided by that of the
 * same distribution to one account, alternating, each in a fresh LocalCloud (N + 1 accounts with the stack-group
 * roles) whose copies all take the same time, at MaxConcurrentCount N with parallel regions.
 *
 * Measured under the readings where the accounts' copies can run at once (each account's own five-copy queue,
 * `copyQueue per-account`; copies of one shared replica by several accounts not refused, `copyConflict none`) with
 * the target ratio, and under LocalCloud's strictest defaults (one five-copy queue per region for all accounts;
 * concurrent copies of one image refused) for the record. Then the tolerance case: the same distribution with one
 * account whose execution role is missing, at FailureToleranceCount 1: the others complete, the failure is reported
 * (the resource's FailedTargets), and nothing of it is left in that account (no copy, no stack).
 */
import * as ros from '@alicloud/ros-cdk-core';
import { ImageDistribution } from '../lib';
import { deployStack } from '../lib/deploy';
import { LocalCloud } from '../lib/local';
import { ECS_REGION_IDS } from '../lib/local/ecs';
import { OWNERSHIP_TAG_KEY } from '../lib/protocol';
import type { CloudVariants } from '../lib/local/variants';
import { connectionTo, synthTemplate } from './deploy.bench';
import { compared, type Figure } from './report';
import { alternate, median, round } from './stats';

export interface OrganizationOptions {
  /** Target accounts of the large distribution. */
  readonly accounts: number;
  /** Target regions of every account. */
  readonly regions: number;
  readonly repetitions: number;
  readonly copyDurationMs: number;
  /** Also measure under LocalCloud's strictest defaults (slow: the copies queue one after another). */
  readonly strict: boolean;
}

const SOURCE_REGION = 'cn-hangzhou';
const RATIO_TARGET = 1.3;
const POLL_INTERVAL_MS = 500;
const PARALLEL_READINGS: Partial<CloudVariants> = { copyConflict: 'none', copyQueue: 'per-account' };
const EXECUTION_ROLE = 'AliyunROSStackGroupExecutionRole';

interface Run {
  readonly wallMs: number;
  readonly status: string;
  readonly outputs: Record<string, string>;
  /** What the run left in the accounts it names (copies with our ownership tag, live stacks). */
  readonly leftIn: Record<string, string[]>;
}

function distributionTemplate(
  targetAccountIds: readonly string[],
  regions: readonly string[],
  failureToleranceCount: number,
): string {
  return synthTemplate((app) => {
    const stack = new ros.Stack(app, 'OrganizationBench', { env: { region: SOURCE_REGION } });
    const golden = new ImageDistribution(stack, 'Golden', {
      sourceImageId: 'm-bp1seedgoldenimage01',
      sourceRegionId: SOURCE_REGION,
      targetAccountIds: [...targetAccountIds],
      targetRegionIds: [...regions],
      imageName: 'golden-organization',
      operationPreferences: {
        maxConcurrentCount: Math.min(20, Math.max(1, targetAccountIds.length)),
        failureToleranceCount,
        regionConcurrencyType: 'PARALLEL',
      },
    });
    new ros.RosOutput(stack, 'ImageIds', { value: golden.attrImageIds });
    new ros.RosOutput(stack, 'FailedTargets', { value: golden.attrFailedTargets });
    return stack;
  });
}

/** One deploy in a fresh LocalCloud of `targets + 1` accounts; `prepare` may change the cloud before it. */
async function measure(
  options: OrganizationOptions,
  targets: number,
  variants: Partial<CloudVariants>,
  regions: readonly string[],
  failureToleranceCount = 0,
  prepare?: (cloud: LocalCloud) => void,
): Promise<Run> {
  const cloud = await LocalCloud.start({
    accounts: targets + 1,
    stackGroupRoles: true,
    copyDurationMs: options.copyDurationMs,
    variants,
  });
  try {
    prepare?.(cloud);
    const accountIds = cloud.accounts.slice(1).map((a) => a.accountId);
    const template = distributionTemplate(accountIds, regions, failureToleranceCount);
    const started = performance.now();
    const result = await deployStack({
      ...connectionTo(cloud),
      stackName: `organization-${targets}`,
      template,
      pollIntervalMs: POLL_INTERVAL_MS,
      timeoutInMinutes: 60,
    });
    const wallMs = performance.now() - started;
    const outputs = Object.fromEntries(result.outputs.map((o) => [o.key, String(o.value)]));
    const leftIn: Record<string, string[]> = {};
    for (const account of cloud.accounts.slice(1)) {
      const copies = ECS_REGION_IDS.flatMap((regionId) =>
        cloud.ecs
          .listImages(regionId)
          .filter((image) => image.ownerId === account.accountId && OWNERSHIP_TAG_KEY in (image.tags ?? {}))
          .map((image) => `image ${image.imageId} in ${regionId}`),
      );
      const stacks = ECS_REGION_IDS.flatMap((regionId) => account.ros.stacks(regionId))
        .filter((s) => s.status !== 'DELETE_COMPLETE')
        .map((s) => `stack ${s.stackName} ${s.status}`);
      leftIn[account.accountId] = [...copies, ...stacks];
    }
    return { wallMs, status: result.status, outputs, leftIn };
  } finally {
    await cloud.ros.settled();
    await cloud.fc.settled();
    await cloud.stop();
  }
}

export async function organizationBench(options: OrganizationOptions): Promise<Figure[]> {
  const regions = [SOURCE_REGION, ...ECS_REGION_IDS.filter((r) => r !== SOURCE_REGION)].slice(
    0,
    options.regions,
  );
  const figures: Figure[] = [];
  const readings: Array<[string, Partial<CloudVariants>]> = [['parallel', PARALLEL_READINGS]];
  if (options.strict) {
    readings.push(['strictest', {}]);
  }
  for (const [name, variants] of readings) {
    const run = (targets: number) => async () => {
      const r = await measure(options, targets, variants, regions);
      if (r.status !== 'CREATE_COMPLETE') {
        throw new Error(`the distribution to ${targets} accounts ended ${r.status}`);
      }
      return r;
    };
    // The strictest readings queue every account's copies: one pair of deploys says enough, and takes long.
    const samples = await alternate(
      name === 'strictest' ? 1 : options.repetitions,
      run(options.accounts),
      run(1),
    );
    const wall = {
      ours: samples.ours.map((r) => round(r.wallMs / 1000, 2)),
      baseline: samples.baseline.map((r) => round(r.wallMs / 1000, 2)),
    };
    const ratio = median(wall.ours) / median(wall.baseline);
    figures.push(
      compared({
        bench: '8 organization',
        figure:
          `ImageDistribution wall time, ${options.accounts} accounts × ${regions.length} regions vs 1 account` +
          (name === 'strictest' ? ', strictest readings' : ''),
        unit: 's',
        ours: median(wall.ours),
        baseline: median(wall.baseline),
        baselineName: `1 account × ${regions.length} regions`,
        ...(name === 'parallel' ? { target: `ratio ≤ ${RATIO_TARGET}`, met: ratio <= RATIO_TARGET } : {}),
        samples: wall,
        note:
          `${name === 'parallel' ? 'copyQueue per-account, copyConflict none' : 'LocalCloud defaults: one copy queue per region for all accounts, concurrent copies of one image refused'}. ` +
          `MaxConcurrentCount ${options.accounts}, PARALLEL regions; each copy takes ${options.copyDurationMs / 1000} s ` +
          `and a distribution makes two in a row (the replica in the owner's account, then each account's own). ` +
          `Ratio ${round(ratio, 2)}.`,
      }),
    );
  }
  // One account without its execution role, tolerated: the others complete, the failure is reported, nothing is left.
  let broken = '';
  const tolerated = await measure(options, options.accounts, PARALLEL_READINGS, regions, 1, (cloud) => {
    const account = cloud.accounts[cloud.accounts.length - 1];
    broken = account.accountId;
    account.services.ram.deleteRole(EXECUTION_ROLE);
  });
  const imageIds = JSON.parse(tolerated.outputs.ImageIds ?? '{}') as Record<string, Record<string, string>>;
  const completed = Object.entries(imageIds).filter(
    ([accountId, byRegion]) => accountId !== broken && Object.keys(byRegion).length === regions.length,
  ).length;
  const failedTargets = tolerated.outputs.FailedTargets ?? '';
  const reported = failedTargets.includes(broken);
  const leftBehind = tolerated.leftIn[broken] ?? [];
  const othersWithCopies = Object.entries(tolerated.leftIn).filter(
    ([accountId, left]) =>
      accountId !== broken && left.filter((l) => l.startsWith('image ')).length === regions.length,
  ).length;
  figures.push({
    bench: '8 organization',
    figure: `one of ${options.accounts} accounts failing, FailureToleranceCount 1: accounts completed`,
    unit: 'accounts',
    ours: completed,
    target: `${options.accounts - 1} complete, the failure reported, nothing left in the failed account`,
    met:
      tolerated.status === 'CREATE_COMPLETE' &&
      completed === options.accounts - 1 &&
      reported &&
      leftBehind.length === 0,
    note:
      `Stack ${tolerated.status} in ${round(tolerated.wallMs / 1000, 1)} s; the account without its execution role ` +
      `${reported ? 'is' : 'is NOT'} in FailedTargets; left in it: ${leftBehind.length === 0 ? 'nothing' : leftBehind.join(', ')}; ` +
      `${othersWithCopies} other accounts hold a copy in each region.`,
  });
  return figures;
}
