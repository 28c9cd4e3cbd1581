'use strict';
/**
 * Benchmark 2's fresh process: loads a handler bundle and handles one event, then exits. Plain JavaScript so that
 * nothing but Node itself and the bundle is loaded. Input (JSON in BENCH_COLD_START): { bundle, event, context }.
 * Prints one JSON line: { loadMs, handleMs, summary }.
 */
const { Buffer } = require('buffer');

const started = process.hrtime.bigint();
const input = JSON.parse(process.env.BENCH_COLD_START || '{}');
const { handler } = require(input.bundle);
const loaded = process.hrtime.bigint();
const silent = { info() {}, warn() {}, error() {} };
handler(Buffer.from(JSON.stringify(input.event)), { ...input.context, logger: silent })
  .then((summary) => {
    const done = process.hrtime.bigint();
    process.stdout.write(
      `${JSON.stringify({ loadMs: Number(loaded - started) / 1e6, handleMs: Number(done - loaded) / 1e6, summary })}\n`,
      () => process.exit(0),
    );
  })
  .catch((error) => {
    process.stderr.write(`${error && error.stack ? error.stack : String(error)}\n`);
    process.exit(1);
  });
