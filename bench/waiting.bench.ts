/**
 * Benchmark 3, waiting for a copy: copies of 5 s, 30 s and 120 s in LocalCloud, whose Progress and RemainTime are
 * noisy (±30%, `progressNoise: 0.3`). For our handler (the bundled zip running in LocalCloud's Function Compute,
 * answering a Create as ROS delivers it) and for a replay of Terraform's documented wait (bench/terraform-wait.ts):
 * the latency from the moment the image becomes Available to the SUCCESS (ours: the response reaching the
 * response URL; Terraform: its Create returning), and the ECS calls made per copy.
 *
 * Each copy runs in a LocalCloud of its own, so its calls are its own; all of them run at once (a 120 s copy
 * under Terraform takes over two minutes whatever we do), staggered so that copies of one length do not all end in
 * the same instant.
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import { handlerPolicyDocument } from '../lib/handler/policy';
import { LocalCloud } from '../lib/local';
import type { EcsState } from '../lib/local/ecs/images';
import { ImageCopyParameter } from '../lib/protocol';
import type { HandlerBundle } from './bundles';
import { compared, type Figure } from './report';
import { median, round, sleep } from './stats';
import { terraformCreateCopy } from './terraform-wait';

export interface WaitingOptions {
  readonly ours: HandlerBundle;
  readonly durationsSeconds: readonly number[];
  readonly repetitions: number;
  /** Between the starts of two runs, ms. */
  readonly staggerMs: number;
}

const SOURCE_REGION = 'cn-hangzhou';
const DESTINATION_REGION = 'cn-shanghai';
const ROLE_NAME = 'image-copy-bench';
const FUNCTION_NAME = 'image-copy-bench';
const LATENCY_TARGET_MS = 1500;

interface CopyRun {
  readonly latencyMs: number;
  readonly ecsCalls: number;
  /** The ECS calls, `<action>@<seconds since the first call>`. */
  readonly timeline: readonly string[];
}

function timelineOf(calls: ReadonlyArray<{ time: number; action: string }>): string[] {
  const first = calls[0]?.time ?? 0;
  return calls.map((c) => `${c.action}@${round((c.time - first) / 1000, 1)}`);
}

/** When a copy became (or becomes) Available, from LocalCloud's own record of it, ms since the epoch. */
function availableAt(cloud: LocalCloud, imageId: string): number {
  cloud.ecs.getImage(DESTINATION_REGION, imageId); // replays the region's queue, so startedAt is set
  const state = cloud.state.section<EcsState>('ecs', () => {
    throw new Error('LocalCloud has no ECS state');
  });
  const copy = state.images[imageId]?.copy;
  if (!copy || copy.startedAt === undefined) {
    throw new Error(`${imageId} is not a started copy`);
  }
  return copy.startedAt + copy.durationMs;
}

function noisyCloud(durationSeconds: number, seed: number): Promise<LocalCloud> {
  return LocalCloud.start({ port: 0, copyDurationMs: durationSeconds * 1000, progressNoise: 0.3, seed });
}

/** Our handler: one Create delivered to the bundled function; latency to the SUCCESS response. */
async function ourCopy(zipBase64: string, durationSeconds: number, seed: number): Promise<CopyRun> {
  const cloud = await noisyCloud(durationSeconds, seed);
  try {
    cloud.putRole({
      roleName: ROLE_NAME,
      assumeRolePolicyDocument: {
        Version: '1',
        Statement: [
          { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['fc.aliyuncs.com'] } },
        ],
      },
      policies: [handlerPolicyDocument()],
    });
    cloud.fc.createFunction(DESTINATION_REGION, {
      functionName: FUNCTION_NAME,
      runtime: 'nodejs20',
      handler: 'index.handler',
      zipFile: zipBase64,
      timeout: 600,
      memorySize: 256,
      role: cloud.roleArn(ROLE_NAME),
    });
    const stackId = randomUUID();
    const requestId = randomUUID();
    const callback = cloud.createCallback({ expect: { StackId: stackId, RequestId: requestId } });
    const event = {
      RequestType: 'Create',
      ResponseURL: callback.url,
      IntranetResponseURL: callback.intranetUrl,
      StackId: stackId,
      StackName: `bench-${stackId.slice(0, 8)}`,
      ResourceOwnerId: cloud.accountId,
      CallerId: cloud.accountId,
      RegionId: DESTINATION_REGION,
      RequestId: requestId,
      ResourceType: 'Custom::ImageCopy',
      LogicalResourceId: 'Copy',
      ResourceProperties: {
        [ImageCopyParameter.SourceImageId]: 'm-bp1seedgoldenimage01',
        [ImageCopyParameter.SourceRegionId]: SOURCE_REGION,
        [ImageCopyParameter.DestinationRegionId]: DESTINATION_REGION,
        [ImageCopyParameter.ImageName]: `bench-copy-${seed}`,
      },
    };
    const answered = callback.response.then((response) => ({ response, at: Date.now() }));
    await cloud.fc.invoke(DESTINATION_REGION, FUNCTION_NAME, Buffer.from(JSON.stringify(event)), {
      async: true,
    });
    const { response, at } = await answered;
    const imageId = response.Data?.ImageId;
    if (response.Status !== 'SUCCESS' || typeof imageId !== 'string') {
      throw new Error(`our handler answered ${response.Status}: ${response.Reason}`);
    }
    // Every call of the copy, the confirmation of the image after the answer included.
    await cloud.fc.settled();
    const calls = cloud.calls.filter((c) => c.product === 'ecs' && c.principal === 'role');
    return {
      latencyMs: at - availableAt(cloud, imageId),
      ecsCalls: calls.length,
      timeline: timelineOf(calls),
    };
  } finally {
    await cloud.fc.settled();
    await cloud.stop();
  }
}

/** Terraform's wait, replayed against the same kind of copy. */
async function terraformCopy(durationSeconds: number, seed: number): Promise<CopyRun> {
  const cloud = await noisyCloud(durationSeconds, seed);
  try {
    const result = await terraformCreateCopy(cloud, {
      sourceImageId: 'm-bp1seedgoldenimage01',
      sourceRegionId: SOURCE_REGION,
      destinationRegionId: DESTINATION_REGION,
      imageName: `bench-copy-${seed}`,
    });
    const calls = cloud.calls.filter((c) => c.product === 'ecs' && c.status === 200);
    return {
      latencyMs: result.doneAt - availableAt(cloud, result.imageId),
      ecsCalls: result.calls,
      timeline: timelineOf(calls),
    };
  } finally {
    await cloud.stop();
  }
}

export async function waitingBench(options: WaitingOptions): Promise<Figure[]> {
  const zipBase64 = fs.readFileSync(options.ours.zipFile).toString('base64');
  type Job = { duration: number; side: 'ours' | 'terraform'; run: Promise<CopyRun> };
  const jobs: Job[] = [];
  let slot = 0;
  // Longest copies first, so that everything ends at about the same time; ours and Terraform's alternate.
  for (const duration of [...options.durationsSeconds].sort((a, b) => b - a)) {
    for (let rep = 0; rep < options.repetitions; rep++) {
      const seed = duration * 1000 + rep;
      const order = rep % 2 === 0 ? (['ours', 'terraform'] as const) : (['terraform', 'ours'] as const);
      for (const side of order) {
        const delay = slot++ * options.staggerMs;
        const run = sleep(delay).then(() =>
          side === 'ours' ? ourCopy(zipBase64, duration, seed) : terraformCopy(duration, seed),
        );
        run.catch(() => undefined); // awaited below; avoid an unhandled rejection meanwhile
        jobs.push({ duration, side, run });
      }
    }
  }
  const done = await Promise.all(jobs.map(async (job) => ({ ...job, result: await job.run })));
  const figures: Figure[] = [];
  for (const duration of options.durationsSeconds) {
    const of = (side: Job['side']) => done.filter((j) => j.duration === duration && j.side === side);
    const latency = {
      ours: of('ours').map((j) => round(j.result.latencyMs / 1000, 2)),
      baseline: of('terraform').map((j) => round(j.result.latencyMs / 1000, 2)),
    };
    const calls = {
      ours: of('ours').map((j) => j.result.ecsCalls),
      baseline: of('terraform').map((j) => j.result.ecsCalls),
    };
    figures.push(
      compared({
        bench: '3 waiting',
        figure: `Available → SUCCESS latency, ${duration} s copy`,
        unit: 's',
        ours: median(latency.ours),
        baseline: median(latency.baseline),
        baselineName: 'Terraform wait',
        target: `≤ ${LATENCY_TARGET_MS / 1000} s`,
        met: median(latency.ours) * 1000 <= LATENCY_TARGET_MS,
        samples: latency,
      }),
      compared({
        bench: '3 waiting',
        figure: `ECS calls per copy, ${duration} s copy`,
        unit: '',
        ours: median(calls.ours),
        baseline: median(calls.baseline),
        baselineName: 'Terraform wait',
        ...(duration === Math.max(...options.durationsSeconds) && {
          target: '≤ baseline',
          met: median(calls.ours) <= median(calls.baseline),
        }),
        samples: calls,
        note:
          `One run's calls (action@s after the first): ours ${of('ours')[0].result.timeline.join(' ')}; ` +
          `Terraform ${of('terraform')[0].result.timeline.join(' ')}.`,
      }),
    );
  }
  return figures;
}
