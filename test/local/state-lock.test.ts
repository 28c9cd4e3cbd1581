import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LocalCloud, StateLockedError } from '../../lib/local';
import { StateLock } from '../../lib/local/state-lock';

describe('one LocalCloud per state file', () => {
  let dir: string;
  let stateFile: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'state-lock-'));
    stateFile = path.join(dir, 'state.json');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses a second LocalCloud on a held state file, naming the holder, and lets one start once it stopped', async () => {
    const first = await LocalCloud.start({ stateFile, lockPurpose: 'the first test cloud' });
    let refusal: unknown;
    try {
      await LocalCloud.start({ stateFile });
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(StateLockedError);
    expect((refusal as Error).message).toMatch(
      new RegExp(
        `^the state file ${stateFile} is in use by the first test cloud \\(pid ${process.pid}, since [\\dT:.Z-]+\\): ` +
          'one LocalCloud at a time may use a state file$',
      ),
    );
    await first.stop();
    expect(fs.existsSync(StateLock.fileOf(stateFile))).toBe(false);
    const second = await LocalCloud.start({ stateFile });
    expect(second.accountId).toBe(first.accountId);
    await second.stop();
  });

  it('takes over a lock left by a process that is gone', async () => {
    // A process that held the state file and was killed: its pid no longer runs.
    const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const pid = Number(gone.stdout.trim());
    writeLock({ pid, hostname: os.hostname(), purpose: 'ros-deploy --local', since: 'then', token: 'dead' });
    const cloud = await LocalCloud.start({ stateFile });
    expect(JSON.parse(fs.readFileSync(StateLock.fileOf(stateFile), 'utf8'))).toMatchObject({
      pid: process.pid,
    });
    await cloud.stop();
  });

  it('takes over a lock whose pid now runs another process (Linux: its start time differs)', async () => {
    if (process.platform !== 'linux') {
      return expect(process.platform).not.toBe('linux');
    }
    const parent = process.ppid; // alive, but not the holder: started at another time than the lock says
    writeLock({
      pid: parent,
      hostname: os.hostname(),
      purpose: 'LocalCloud',
      since: 'then',
      token: 'reused',
      processStart: '1',
    });
    const cloud = await LocalCloud.start({ stateFile });
    await cloud.stop();
  });

  it('never lets the state be written after the LocalCloud stopped (another may hold it by then)', async () => {
    const cloud = await LocalCloud.start({ stateFile });
    await cloud.stop();
    const written = fs.readFileSync(stateFile, 'utf8');
    cloud.putRole({
      roleName: 'late',
      assumeRolePolicyDocument: { Version: '1', Statement: [] },
      policies: [],
    });
    expect(fs.readFileSync(stateFile, 'utf8')).toBe(written);
  });

  function writeLock(holder: Record<string, unknown>): void {
    fs.writeFileSync(StateLock.fileOf(stateFile), JSON.stringify(holder));
  }
});
