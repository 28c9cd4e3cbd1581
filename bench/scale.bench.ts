/**
 * Benchmark 6, LocalCloud at scale:
 *
 * - 50 copies requested at once across 10 regions, unevenly (up to 8 in a region, so the five-per-region queue is
 *   in play): every region must show at most five `Creating` and the rest `Waiting` in request order, and every
 *   copy must end `Available`; the time until all are is compared with what the queue model says it should be
 *   (ceil(copies in the busiest region / 5) × one copy's duration).
 * - DescribeImages requests per second LocalCloud sustains, from a load generator in another process (the real
 *   ECS SDK, signing every call), against the same generator talking to a bare HTTP server that answers a canned
 *   DescribeImages body: the ratio is what LocalCloud's signature checks and image catalogue cost.
 */
import { spawn } from 'child_process';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import Ecs, * as $Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { LocalCloud } from '../lib/local';
import { ECS_REGION_IDS, MAX_RUNNING_COPIES_PER_REGION } from '../lib/local/ecs';
import { compared, type Figure } from './report';
import { alternate, median, nowMs, round, sleep } from './stats';

export interface ScaleOptions {
  /** Copies per destination region; their sum is the number of copies. */
  readonly perRegion: readonly number[];
  readonly copyDurationMs: number;
  readonly load: { readonly concurrency: number; readonly durationMs: number; readonly repetitions: number };
}

const SOURCE_REGION = 'cn-hangzhou';
const SOURCE_IMAGE = 'm-bp1seedgoldenimage01';
const LOAD_CHILD = path.join(__dirname, 'load-child.js');

function ecsClient(cloud: LocalCloud, regionId: string): Ecs {
  return new Ecs(
    new $OpenApiUtil.Config({ ...cloud.credentials, regionId, endpoint: cloud.endpoint, protocol: 'http' }),
  );
}

async function statuses(cloud: LocalCloud, regionId: string, imageIds: readonly string[]): Promise<string[]> {
  const answer = await ecsClient(cloud, regionId).describeImages(
    new $Ecs.DescribeImagesRequest({ regionId, status: 'ALL', imageOwnerAlias: 'self', pageSize: 100 }),
  );
  const byId = new Map((answer.body?.images?.image ?? []).map((i) => [i.imageId!, i.status!]));
  return imageIds.map((id) => byId.get(id) ?? 'missing');
}

/** 50 copies at once; checks the queue and the final statuses; returns the time until all were Available. */
async function manyCopies(
  options: ScaleOptions,
): Promise<{ wallMs: number; problems: string[]; copies: number }> {
  // The queue model (five Creating per region, the rest Waiting, read right after the requests) is measured with
  // concurrent copies of one source allowed and new copies listed at once (copyConflict none, copyVisibility
  // immediate): under the default, strictest readings ECS refuses the second copy of a source and lists a new copy
  // only after a delay.
  const cloud = await LocalCloud.start({
    port: 0,
    copyDurationMs: options.copyDurationMs,
    variants: { copyConflict: 'none', copyVisibility: 'immediate' },
  });
  const problems: string[] = [];
  try {
    const regions = ECS_REGION_IDS.filter((r) => r !== SOURCE_REGION).slice(0, options.perRegion.length);
    const source = ecsClient(cloud, SOURCE_REGION);
    const start = nowMs();
    // All requests at once, each region's in a known order (the queue starts them in request order).
    const requested = await Promise.all(
      regions.map(async (regionId, r) => {
        const ids: string[] = [];
        for (let i = 0; i < options.perRegion[r]; i++) {
          const answer = await source.copyImage(
            new $Ecs.CopyImageRequest({
              regionId: SOURCE_REGION,
              imageId: SOURCE_IMAGE,
              destinationRegionId: regionId,
              destinationImageName: `scale-${r}-${i}`,
            }),
          );
          ids.push(answer.body!.imageId!);
        }
        return { regionId, ids };
      }),
    );
    const copies = requested.reduce((n, r) => n + r.ids.length, 0);
    // Right after the requests: the first five of each region Creating, the others Waiting.
    for (const { regionId, ids } of requested) {
      const seen = await statuses(cloud, regionId, ids);
      const expected = ids.map((_, i) => (i < MAX_RUNNING_COPIES_PER_REGION ? 'Creating' : 'Waiting'));
      if (seen.join() !== expected.join()) {
        problems.push(
          `${regionId} right after the requests: ${seen.join(',')} (expected ${expected.join(',')})`,
        );
      }
    }
    // Then poll until every copy is Available; never more than five Creating in a region.
    for (;;) {
      let pending = 0;
      for (const { regionId, ids } of requested) {
        const seen = await statuses(cloud, regionId, ids);
        const creating = seen.filter((s) => s === 'Creating').length;
        if (creating > MAX_RUNNING_COPIES_PER_REGION) {
          problems.push(`${regionId}: ${creating} Creating at once`);
        }
        const bad = seen.filter((s) => !['Creating', 'Waiting', 'Available'].includes(s));
        if (bad.length > 0) {
          problems.push(`${regionId}: unexpected ${bad.join(',')}`);
        }
        pending += seen.filter((s) => s !== 'Available').length;
      }
      if (pending === 0 || problems.length > 0) {
        break;
      }
      await sleep(200);
    }
    return { wallMs: nowMs() - start, problems, copies };
  } finally {
    await cloud.stop();
  }
}

/** Runs the load generator against an endpoint; returns requests per second. */
async function load(
  endpoint: string,
  credentials: { accessKeyId: string; accessKeySecret: string },
  imageId: string,
  options: ScaleOptions['load'],
): Promise<number> {
  const input = { endpoint, credentials, regionId: SOURCE_REGION, imageId, ...options };
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [LOAD_CHILD], {
      env: { ...process.env, BENCH_LOAD: JSON.stringify(input) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`load generator exited ${code}: ${stderr}`)),
    );
  });
  const result = JSON.parse(output) as { ok: number; failed: number; ms: number };
  if (result.failed > 0) {
    throw new Error(`${result.failed} of ${result.ok + result.failed} DescribeImages calls failed`);
  }
  return result.ok / (result.ms / 1000);
}

/** A bare HTTP server answering every request with `body` (JSON): the floor of what the client and HTTP cost. */
async function bareServer(body: string): Promise<{ endpoint: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json;charset=utf-8', 'x-acs-request-id': 'bench' });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function scaleBench(options: ScaleOptions): Promise<Figure[]> {
  const figures: Figure[] = [];
  const run = await manyCopies(options);
  const busiest = Math.max(...options.perRegion);
  const modelMs = Math.ceil(busiest / MAX_RUNNING_COPIES_PER_REGION) * options.copyDurationMs;
  figures.push(
    compared({
      bench: '6 LocalCloud',
      figure: `${run.copies} copies at once across ${options.perRegion.length} regions: time until all Available`,
      unit: 's',
      ours: round(run.wallMs / 1000, 2),
      baseline: round(modelMs / 1000, 2),
      baselineName: 'queue model',
      target: 'all Available, statuses correct',
      met: run.problems.length === 0,
      note:
        `Copies per region: ${options.perRegion.join(', ')}; each takes ${options.copyDurationMs / 1000} s once ` +
        `started. ${run.problems.length === 0 ? 'At most five Creating per region, the rest Waiting in request order, every copy Available.' : `Problems: ${run.problems.slice(0, 5).join('; ')}`}`,
    }),
  );

  const cloud = await LocalCloud.start({ port: 0 });
  try {
    const imageId = SOURCE_IMAGE;
    const sample = await ecsClient(cloud, SOURCE_REGION).describeImagesWithOptions(
      new $Ecs.DescribeImagesRequest({ regionId: SOURCE_REGION, imageId, status: 'ALL' }),
      {} as Parameters<Ecs['describeImagesWithOptions']>[1],
    );
    const bare = await bareServer(JSON.stringify(sample.body!.toMap()));
    try {
      const samples = await alternate(
        options.load.repetitions,
        () => load(cloud.endpoint, cloud.credentials, imageId, options.load),
        () => load(bare.endpoint, cloud.credentials, imageId, options.load),
      );
      figures.push(
        compared({
          bench: '6 LocalCloud',
          figure: `DescribeImages requests/s (${options.load.concurrency} concurrent)`,
          unit: 'req/s',
          ours: Math.round(median(samples.ours)),
          baseline: Math.round(median(samples.baseline)),
          baselineName: 'bare HTTP server',
          samples: {
            ours: samples.ours.map((v) => Math.round(v)),
            baseline: samples.baseline.map((v) => Math.round(v)),
          },
          note:
            'The load generator is one Node process signing every call with the real ECS SDK; the bare server ' +
            'answers a canned body with no signature check, so the ratio is the share of the floor LocalCloud reaches.',
        }),
      );
    } finally {
      await bare.close();
    }
  } finally {
    await cloud.stop();
  }
  return figures;
}
