'use strict';
/**
 * Benchmark 6's load generator, in a process of its own so that it does not share a thread with the server it
 * measures: `concurrency` loops of signed DescribeImages calls through the real ECS SDK for `durationMs`.
 * Input (JSON in BENCH_LOAD): { endpoint, credentials, regionId, imageId, concurrency, durationMs }.
 * Prints one JSON line: { ok, failed, ms }.
 */
const Ecs = require('@alicloud/ecs20140526');
const { $OpenApiUtil } = require('@alicloud/openapi-core');

const input = JSON.parse(process.env.BENCH_LOAD || '{}');
const client = new Ecs.default(
  new $OpenApiUtil.Config({
    ...input.credentials,
    regionId: input.regionId,
    endpoint: input.endpoint,
    protocol: 'http',
  }),
);
const request = new Ecs.DescribeImagesRequest({
  regionId: input.regionId,
  imageId: input.imageId,
  status: 'ALL',
});

async function main() {
  let ok = 0;
  let failed = 0;
  const start = Date.now();
  const end = start + input.durationMs;
  const worker = async () => {
    while (Date.now() < end) {
      try {
        await client.describeImages(request);
        ok++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: input.concurrency }, worker));
  process.stdout.write(`${JSON.stringify({ ok, failed, ms: Date.now() - start })}\n`, () => process.exit(0));
}

main().catch((error) => {
  process.stderr.write(`${error && error.stack ? error.stack : String(error)}\n`);
  process.exit(1);
});
