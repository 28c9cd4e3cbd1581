import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Ecs, * as $Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { main } from '../../lib/cli/ros-local';
import { findRunningLocalCloud, findRunningServer } from '../../lib/local/discovery';
import { LocalCloud } from '../../lib/local';
import { captureIo } from './cli-fixtures';

/** ros-local's output, collected; `signal` stops a server. */
function captureOutput(cwd: string, signal?: AbortSignal) {
  const captured = captureIo(cwd, { signal });
  return {
    io: captured.io,
    out: captured.out,
    err: captured.errLines,
  };
}

describe('ros-local', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ros-local-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('serves a LocalCloud until stopped, advertising its endpoint and credentials', async () => {
    const stateFile = path.join(dir, 'state.json');
    const stop = new AbortController();
    const io = captureOutput(dir, stop.signal);
    const running = main(['start', '--state', stateFile], io.io);
    try {
      await waitFor(() => findRunningServer(dir));
      const info = findRunningServer(dir)!;
      const text = io.out();
      expect(text).toContain(`LocalCloud serving on http://${info.endpoint}`);
      const accessKeyId = /access key id\s+(\S+)/.exec(text)![1];
      const accessKeySecret = /access key secret\s+(\S+)/.exec(text)![1];
      const ecs = new Ecs(
        new $OpenApiUtil.Config({
          accessKeyId,
          accessKeySecret,
          regionId: 'cn-hangzhou',
          endpoint: info.endpoint,
          protocol: 'http',
        }),
      );
      const regions = await ecs.describeRegions(new $Ecs.DescribeRegionsRequest({}));
      expect(regions.body!.regions!.region!.length).toBeGreaterThan(10);
    } finally {
      stop.abort();
      expect(await running).toBe(0);
    }
    expect(findRunningServer(dir)).toBeUndefined();
    // The state outlives the server: the same account and keys come back.
    const cloud = await LocalCloud.start({ stateFile });
    expect(io.out()).toContain(cloud.credentials.accessKeyId);
    await cloud.stop();
  });

  it("start --accounts 2 serves two accounts and prints the second one's id and key, which signs as that account", async () => {
    const stateFile = path.join(dir, 'state.json');
    const stop = new AbortController();
    const io = captureOutput(dir, stop.signal);
    const running = main(['start', '--state', stateFile, '--accounts', '2'], io.io);
    try {
      await waitFor(() => findRunningServer(dir));
      const info = findRunningServer(dir)!;
      const match = /account 2: id (\d{16}), access key id (\S+), secret (\S+)/.exec(io.out());
      expect(match).not.toBeNull();
      const [, accountId, accessKeyId, accessKeySecret] = match!;
      expect(accountId).not.toBe(info.accountId);
      // A client of the served cloud finds both accounts without starting one.
      expect(findRunningLocalCloud(dir)!.accounts.map((a) => a.accountId)).toEqual([
        info.accountId,
        accountId,
      ]);
      const ecs = new Ecs(
        new $OpenApiUtil.Config({
          accessKeyId,
          accessKeySecret,
          regionId: 'cn-hangzhou',
          endpoint: info.endpoint,
          protocol: 'http',
        }),
      );
      // The second account has none of the first account's seeded images.
      const images = await ecs.describeImages(new $Ecs.DescribeImagesRequest({ regionId: 'cn-hangzhou' }));
      expect(images.body!.totalCount).toBe(0);
    } finally {
      stop.abort();
      expect(await running).toBe(0);
    }
    const cloud = await LocalCloud.start({ stateFile });
    expect(cloud.accounts.map((a) => a.accountId)[1]).toBe(/account 2: id (\d{16})/.exec(io.out())![1]);
    await cloud.stop();
  });

  it('accounts lists the ids a state holds, the first first; --members --ids gives the others comma-separated, for -c', async () => {
    const stateFile = path.join(dir, 'state.json');
    const cloud = await LocalCloud.start({ stateFile, accounts: 3 });
    const ids = cloud.accounts.map((a) => a.accountId);
    await cloud.stop();
    const before = fs.readFileSync(stateFile, 'utf8');
    const table = captureOutput(dir);
    expect(await main(['accounts', '--state', stateFile], table.io)).toBe(0);
    expect(table.out()).toBe(`0 ${ids[0]}\n1 ${ids[1]}\n2 ${ids[2]}\n`);
    const members = captureOutput(dir);
    expect(await main(['accounts', '--state', stateFile, '--members', '--ids'], members.io)).toBe(0);
    expect(members.out()).toBe(`${ids[1]},${ids[2]}\n`);
    // Read, never written: a LocalCloud may be serving it.
    expect(fs.readFileSync(stateFile, 'utf8')).toBe(before);
  });

  it('accounts exits 2 with one line when there is no state yet', async () => {
    const io = captureOutput(dir);
    expect(await main(['accounts'], io.io)).toBe(2);
    expect(io.err.join('')).toBe(
      `ros-local: no LocalCloud state at ${path.join(dir, '.ros-local', 'state.json')}: start one first ` +
        '(ros-local start --accounts N, or ros-deploy --local)\n',
    );
  });

  it.each([
    [['start', '--accounts', '0'], '--accounts "0" is invalid: expected an integer from 1 to 100'],
    [['start', '--port', 'eighty'], '--port "eighty" is invalid: expected an integer from 0 to 65535'],
    [['start', '--bogus'], "Unknown option '--bogus'"],
    [['launch'], 'unknown command "launch"'],
  ])('exits 2 with a message for bad usage: %j', async (argv, message) => {
    const io = captureOutput(dir);
    expect(await main(argv, io.io)).toBe(2);
    expect(io.err.join('')).toContain(message);
    expect(io.err.join('')).toContain('Usage: ros-local');
  });

  it('injects the faults of a --faults file and reports what it injected when stopped', async () => {
    const stateFile = path.join(dir, 'state.json');
    const faultsFile = path.join(dir, 'faults.json');
    fs.writeFileSync(
      faultsFile,
      JSON.stringify({
        seed: 5,
        rules: [{ kind: 'throttle', action: 'DescribeRegions', first: 1, retryAfterMs: 700 }],
      }),
    );
    const stop = new AbortController();
    const io = captureOutput(dir, stop.signal);
    const running = main(['start', '--state', stateFile, '--faults', faultsFile], io.io);
    try {
      await waitFor(() => findRunningServer(dir));
      const info = findRunningServer(dir)!;
      const text = io.out();
      expect(text).toContain('Injecting faults: 1 rule(s), seed 5.');
      const ecs = new Ecs(
        new $OpenApiUtil.Config({
          accessKeyId: /access key id\s+(\S+)/.exec(text)![1],
          accessKeySecret: /access key secret\s+(\S+)/.exec(text)![1],
          regionId: 'cn-hangzhou',
          endpoint: info.endpoint,
          protocol: 'http',
        }),
      );
      await expect(ecs.describeRegions(new $Ecs.DescribeRegionsRequest({}))).rejects.toMatchObject({
        name: 'ThrottlingError',
        code: 'Throttling.User',
        retryAfter: 1, // 700 ms, in whole seconds (the retryAfterUnit variant's default)
      });
      expect((await ecs.describeRegions(new $Ecs.DescribeRegionsRequest({}))).statusCode).toBe(200);
    } finally {
      stop.abort();
      expect(await running).toBe(0);
    }
    expect(io.out()).toContain('Faults injected: throttle 1\n');
  });

  it.each([
    [
      '{"rules": [{"kind": "throttle", "probability": 2}]}',
      'rules[0].probability must be a number from 0 to 1, not 2',
    ],
    ['{"rules": [{"kind": "meteor"}]}', 'rules[0].kind must be one of throttle'],
    ['not json', 'not JSON'],
  ])('exits 2 naming the file and the problem for a bad --faults file: %s', async (content, message) => {
    const faultsFile = path.join(dir, 'faults.json');
    fs.writeFileSync(faultsFile, content);
    const io = captureOutput(dir);
    expect(
      await main(['start', '--state', path.join(dir, 'state.json'), '--faults', faultsFile], io.io),
    ).toBe(2);
    expect(io.err.join('')).toContain(`ros-local: --faults ${faultsFile}: ${message}`);
    expect(io.err.join('')).toContain('--faults FILE');
    expect(findRunningServer(dir)).toBeUndefined();
  });

  it('exits 2 with one line, no stack trace, when the state file has the wrong shape, and leaves it as it is', async () => {
    const stateFile = path.join(dir, 'state.json');
    fs.writeFileSync(stateFile, '{"ros":{"stacks":null}}');
    const io = captureOutput(dir);
    expect(await main(['start', '--state', stateFile], io.io)).toBe(2);
    expect(io.err.join('')).toBe(
      `ros-local: LocalCloud state file ${stateFile} cannot be used: ros.stacks must be an object, not null. ` +
        'It was left as it is: fix it, or delete it (or choose another state file) to start from a fresh cloud.\n',
    );
    expect(fs.readFileSync(stateFile, 'utf8')).toBe('{"ros":{"stacks":null}}');
    expect(findRunningServer(dir)).toBeUndefined();
  });

  it('exits 2 with one line when the port is in use or the state file cannot be written', async () => {
    const taken = await LocalCloud.start();
    const port = taken.endpoint.split(':')[1];
    const io = captureOutput(dir);
    let inUse: number, unwritable: number;
    try {
      inUse = await main(['start', '--state', path.join(dir, 'a', 'state.json'), '--port', port], io.io);
      fs.writeFileSync(path.join(dir, 'file'), '');
      unwritable = await main(['start', '--state', path.join(dir, 'file', 'state.json')], io.io);
    } finally {
      await taken.stop();
    }
    expect([inUse, unwritable]).toEqual([2, 2]);
    expect(io.err).toEqual([
      `ros-local: port ${port} on 127.0.0.1 is in use: choose another --port, or leave it out for any free port\n`,
      expect.stringMatching(
        /^ros-local: cannot write the state file \S+\/file\/state\.json \((EEXIST|ENOTDIR)\): choose a --state FILE in a directory you can write to\n$/,
      ),
    ]);
  });

  it('exits 2 when the --faults file cannot be read', async () => {
    const missing = path.join(dir, 'nope.json');
    const io = captureOutput(dir);
    expect(await main(['start', '--faults', missing], io.io)).toBe(2);
    expect(io.err.join('')).toContain(`ros-local: --faults ${missing}: cannot read the file (ENOENT)`);
  });
});

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > end) {
      throw new Error('timed out waiting');
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}
