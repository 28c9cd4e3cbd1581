/**
 * Benchmark 2, the handler: the bundle's zip bytes, and its cold start — a fresh `node` process that loads the
 * bundle and handles one Delete of an image that does not exist (one DescribeImages, then the SUCCESS answer)
 * against LocalCloud — against the same done by the handler bundled with the full ECS SDK
 * (bench/full-sdk-handler.ts). The two alternate; medians of the spawn-to-exit wall time.
 */
import { spawn } from 'child_process';
import { randomUUID } from 'crypto';
import * as path from 'path';
import { handlerPolicyDocument } from '../lib/handler/policy';
import { LocalCloud } from '../lib/local';
import { ImageCopyParameter } from '../lib/protocol';
import type { HandlerBundle } from './bundles';
import { compared, type Figure } from './report';
import { alternate, median, nowMs, round } from './stats';

export interface HandlerBenchOptions {
  readonly ours: HandlerBundle;
  readonly fullSdk: HandlerBundle;
  readonly repetitions: number;
}

const ZIP_TARGET_BYTES = 120 * 1024;
const REGION = 'cn-shanghai';
const CHILD = path.join(__dirname, 'cold-start-child.js');

interface ColdStart {
  /** Spawn to exit, ms. */
  readonly wallMs: number;
  /** `require` of the bundle inside the child, ms. */
  readonly loadMs: number;
  /** The handler's work after loading (one ECS call and the response POST), ms. */
  readonly handleMs: number;
}

/** One fresh process handling one Delete of a missing image; checks that it answered SUCCESS. */
async function coldStart(cloud: LocalCloud, bundle: HandlerBundle): Promise<ColdStart> {
  const stackId = randomUUID();
  const requestId = randomUUID();
  const callback = cloud.createCallback({ expect: { StackId: stackId, RequestId: requestId } });
  const credentials = cloud.issueRoleCredentials('image-copy-bench', handlerPolicyDocument());
  const event = {
    RequestType: 'Delete',
    ResponseURL: callback.url,
    IntranetResponseURL: callback.intranetUrl,
    StackId: stackId,
    StackName: `bench-${stackId.slice(0, 8)}`,
    ResourceOwnerId: cloud.accountId,
    CallerId: cloud.accountId,
    RegionId: REGION,
    RequestId: requestId,
    ResourceType: 'Custom::ImageCopy',
    LogicalResourceId: 'Copy',
    PhysicalResourceId: 'm-uf6doesnotexist00000',
    ResourceProperties: {
      [ImageCopyParameter.SourceImageId]: 'm-bp1seedgoldenimage01',
      [ImageCopyParameter.SourceRegionId]: 'cn-hangzhou',
      [ImageCopyParameter.DestinationRegionId]: REGION,
    },
  };
  const context = {
    requestId: randomUUID(),
    credentials,
    function: { name: 'image-copy-bench', timeout: 60, memory: 256 },
    region: REGION,
    accountId: cloud.accountId,
  };
  const env = {
    ...process.env,
    BENCH_COLD_START: JSON.stringify({ bundle: bundle.jsFile, event, context }),
    ALIBABA_CLOUD_ECS_ENDPOINT: cloud.endpoint,
    ALIBABA_CLOUD_FC_ENDPOINT: cloud.endpoint,
    ALIBABA_CLOUD_ENDPOINT_PROTOCOL: 'http',
  };
  const start = nowMs();
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`cold start exited ${code}: ${stderr}`)),
    );
  });
  const wallMs = nowMs() - start;
  const answer = await callback.response;
  if (answer.Status !== 'SUCCESS') {
    throw new Error(`cold start of ${bundle.jsFile} answered ${answer.Status}: ${answer.Reason}`);
  }
  const reported = JSON.parse(output) as { loadMs: number; handleMs: number };
  return { wallMs, loadMs: reported.loadMs, handleMs: reported.handleMs };
}

export async function handlerBench(options: HandlerBenchOptions): Promise<Figure[]> {
  const cloud = await LocalCloud.start({ port: 0 });
  try {
    // One untimed run each: the OS file cache then holds both bundles, as it would on a warm FC host.
    await coldStart(cloud, options.ours);
    await coldStart(cloud, options.fullSdk);
    const samples = await alternate(
      options.repetitions,
      () => coldStart(cloud, options.ours),
      () => coldStart(cloud, options.fullSdk),
    );
    const pick = (side: readonly ColdStart[], key: keyof ColdStart) => side.map((s) => round(s[key], 1));
    const wall = { ours: pick(samples.ours, 'wallMs'), baseline: pick(samples.baseline, 'wallMs') };
    const load = { ours: pick(samples.ours, 'loadMs'), baseline: pick(samples.baseline, 'loadMs') };
    const { ours, fullSdk } = options;
    return [
      compared({
        bench: '2 handler',
        figure: 'bundle zip bytes',
        unit: 'B',
        ours: ours.zipBytes,
        baseline: fullSdk.zipBytes,
        baselineName: 'full ECS SDK bundle',
        target: `≤ ${ZIP_TARGET_BYTES} B (120 KB)`,
        met: ours.zipBytes <= ZIP_TARGET_BYTES,
        note: `Unzipped code: ${ours.jsBytes} B vs ${fullSdk.jsBytes} B.`,
      }),
      compared({
        bench: '2 handler',
        figure: 'cold start (spawn to exit, one Delete of a missing image)',
        unit: 'ms',
        ours: median(wall.ours),
        baseline: median(wall.baseline),
        baselineName: 'full ECS SDK bundle',
        target: 'faster than the baseline',
        met: median(wall.ours) < median(wall.baseline),
        samples: wall,
        note:
          `Of which loading the bundle: ${median(load.ours)} ms vs ${median(load.baseline)} ms; handling ` +
          `(DescribeImages + response POST): ${round(median(samples.ours.map((s) => s.handleMs)), 1)} ms vs ` +
          `${round(median(samples.baseline.map((s) => s.handleMs)), 1)} ms. Node's own start-up is in both.`,
      }),
      compared({
        bench: '2 handler',
        figure: 'bundle load time (require)',
        unit: 'ms',
        ours: median(load.ours),
        baseline: median(load.baseline),
        baselineName: 'full ECS SDK bundle',
        samples: load,
      }),
    ];
  } finally {
    await cloud.stop();
  }
}
