/**
 * A LocalCloud killed in the middle of a stack operation keeps no phantom operation. In the real cloud the
 * operation would go on; a LocalCloud started again on the same state file cannot carry it on, so it marks the
 * stack failed, saying LocalCloud stopped during it, and the next deploy or destroy proceeds. A destroy sends its
 * Delete to every custom resource that may have started a copy, so no copy of ours is left behind.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Ecs, * as $Ecs from '@alicloud/ecs20140526';
import Ros, * as $Ros from '@alicloud/ros20190910';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { ImageCopy } from '../../lib';
import { LocalCloud, SEEDED_IMAGES } from '../../lib/local';
import { OWNERSHIP_TAG_KEY } from '../../lib/protocol';
import { cliPath } from '../cli-paths';
import { newStack, Template } from '../construct/template';
import { providerTemplate, readRequests } from './ros-fixture';
import { withCloud } from '../support/cloud';

const SOURCE_REGION = 'cn-hangzhou';
const DESTINATION_REGION = 'cn-shanghai';

interface Served {
  readonly child: ChildProcess;
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
}

/** `ros-local start` in a child process, as a user runs it; resolves once it says where it serves. */
function startRosLocal(stateFile: string, extra: string[] = []): Promise<Served> {
  const child = spawn(process.execPath, [cliPath('ros-local'), 'start', '--state', stateFile, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) =>
      reject(new Error(`ros-local exited (${code}) before serving: ${out}${err}`)),
    );
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const endpoint = /serving on http:\/\/(\S+)/.exec(out)?.[1];
      const accessKeyId = /access key id\s+(\S+)/.exec(out)?.[1];
      const accessKeySecret = /access key secret\s+(\S+)/.exec(out)?.[1];
      if (endpoint && accessKeyId && accessKeySecret) {
        resolve({ child, endpoint, accessKeyId, accessKeySecret });
      }
    });
  });
}

function clients(endpoint: string, key: { accessKeyId: string; accessKeySecret: string }) {
  const config = (regionId: string) =>
    new $OpenApiUtil.Config({ ...key, regionId, endpoint, protocol: 'http' });
  return { ros: new Ros(config(SOURCE_REGION)), ecs: new Ecs(config(DESTINATION_REGION)) };
}

/** The template of a stack with one ImageCopy of a seeded image into another region. */
function imageCopyTemplate(): string {
  const stack = newStack('Killed');
  const source = SEEDED_IMAGES.find((image) => image.regionId === SOURCE_REGION)!;
  new ImageCopy(stack, 'Copy', {
    sourceImageId: source.imageId,
    sourceRegionId: SOURCE_REGION,
    destinationRegionId: DESTINATION_REGION,
    imageName: 'killed-mid-copy',
  });
  return JSON.stringify(Template.fromStack(stack).json);
}

/** Copies tagged as ours in the destination region, whatever their status (through the ECS API). */
async function ourCopies(ecs: Ecs): Promise<$Ecs.DescribeImagesResponseBodyImagesImage[]> {
  const res = await ecs.describeImages(
    new $Ecs.DescribeImagesRequest({
      regionId: DESTINATION_REGION,
      imageOwnerAlias: 'self',
      status: 'Creating,Waiting,Available,CreateFailed,UnAvailable',
      tag: [new $Ecs.DescribeImagesRequestTag({ key: OWNERSHIP_TAG_KEY })],
      pageSize: 100,
    }),
  );
  return res.body!.images?.image ?? [];
}

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ros-restart-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

it('ros-local killed (SIGKILL) mid-copy: started again, the stack shows failed, and a destroy leaves no copy of ours', async () => {
  const stateFile = path.join(dir, 'state.json');
  const served = await startRosLocal(stateFile, ['--copy-duration-ms', '60000']);
  let stackId: string;
  try {
    const { ros, ecs } = clients(served.endpoint, served);
    const created = await ros.createStack(
      new $Ros.CreateStackRequest({
        regionId: SOURCE_REGION,
        stackName: 'killed-mid-copy',
        templateBody: imageCopyTemplate(),
        timeoutInMinutes: 30,
      }),
    );
    stackId = created.body!.stackId!;
    // The handler has started its copy, which will run for a minute.
    const [copy] = await eventually('the copy to start', async () => {
      const copies = await ourCopies(ecs);
      return copies.length > 0 ? copies : undefined;
    });
    expect(copy.status).toMatch(/^(Creating|Waiting)$/);
  } finally {
    served.child.kill('SIGKILL');
    await new Promise((resolve) => served.child.once('exit', resolve));
  }

  await withCloud({ stateFile }, async (cloud) => {
    const { ros, ecs } = clients(cloud.endpoint, cloud.credentials);
    const getStack = async () =>
      (await ros.getStack(new $Ros.GetStackRequest({ regionId: SOURCE_REGION, stackId }))).body!;
    const stopped = await getStack();
    expect(stopped.status).toBe('CREATE_FAILED');
    expect(stopped.statusReason).toContain('LocalCloud stopped while this operation was in progress');
    // The copy is still there and goes on over the wall clock, as ECS's would.
    expect((await ourCopies(ecs)).map((image) => image.status)).toEqual([
      expect.stringMatching(/Creating|Waiting/),
    ]);

    await ros.deleteStack(new $Ros.DeleteStackRequest({ regionId: SOURCE_REGION, stackId }));
    await cloud.ros.settled();
    const deleted = await getStack();
    expect([deleted.status, deleted.statusReason]).toEqual(['DELETE_COMPLETE', expect.any(String)]);
    // The Delete went to the custom resource (with the id deleteAfterFailedCreate says: its logical id).
    const events = await ros.listStackEvents(
      new $Ros.ListStackEventsRequest({
        regionId: SOURCE_REGION,
        stackId,
        logicalResourceId: ['Copy'],
        pageSize: 50,
      }),
    );
    expect(events.body!.events!.map((e) => e.status)).toContain('DELETE_COMPLETE');
    expect(await ourCopies(ecs)).toEqual([]);
    for (const region of [SOURCE_REGION, DESTINATION_REGION]) {
      expect(cloud.ecs.listImages(region).filter((image) => OWNERSHIP_TAG_KEY in image.tags)).toEqual([]);
    }
  });
});

describe('a stack operation cut off by a kill, with a recording provider', () => {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  /**
   * Runs `during` against a ros-local child and SIGKILLs it, then `after` with a fresh LocalCloud on the same state
   * file (stopped afterwards).
   */
  async function killedDuring(
    during: (ros: Ros, logFile: string) => Promise<string>,
    after: (t: { cloud: LocalCloud; ros: Ros; stackId: string; logFile: string }) => Promise<void>,
  ): Promise<void> {
    const stateFile = path.join(dir, 'state.json');
    const logFile = path.join(dir, 'provider.log');
    const served = await startRosLocal(stateFile);
    let stackId: string;
    try {
      stackId = await during(clients(served.endpoint, served).ros, logFile);
    } finally {
      served.child.kill('SIGKILL');
      await new Promise((resolve) => served.child.once('exit', resolve));
    }
    await withCloud({ stateFile }, (cloud) =>
      after({ cloud, ros: clients(cloud.endpoint, cloud.credentials).ros, stackId, logFile }),
    );
  }

  const settledStack = async (cloud: LocalCloud, ros: Ros, stackId: string) => {
    await cloud.ros.settled();
    return (await ros.getStack(new $Ros.GetStackRequest({ regionId: SOURCE_REGION, stackId }))).body!;
  };

  it('a Create cut off by the kill still gets its Delete, and the function instance dies with LocalCloud', async () => {
    await killedDuring(
      async (ros, logFile) => {
        const created = await ros.createStack(
          new $Ros.CreateStackRequest({
            regionId: SOURCE_REGION,
            stackName: 'cut-create',
            // No role: the instance issues no credentials, so nothing else writes the state before the kill.
            templateBody: providerTemplate(logFile, { role: false, timeout: 600 }),
            parameters: [
              new $Ros.CreateStackRequestParameters({ parameterKey: 'Answer', parameterValue: 'hang' }),
            ],
          }),
        );
        await eventually('the Create to reach the provider', async () =>
          readRequests(logFile).length > 0 ? true : undefined,
        );
        return created.body!.stackId!;
      },
      async ({ cloud, ros, stackId, logFile }) => {
        const [create] = readRequests(logFile);
        expect(create.type).toBe('Create');
        // The instance that was running the Create went with its LocalCloud.
        await eventually(
          'the function instance to exit',
          async () => (alive(create.pid) ? undefined : true),
          10_000,
        );

        const stopped = await settledStack(cloud, ros, stackId);
        expect(stopped.status).toBe('CREATE_FAILED');
        expect(stopped.statusReason).toContain('LocalCloud stopped while this operation was in progress');
        await ros.deleteStack(new $Ros.DeleteStackRequest({ regionId: SOURCE_REGION, stackId }));
        expect((await settledStack(cloud, ros, stackId)).status).toBe('DELETE_COMPLETE');
        // No answer was recorded: the Delete carries the id deleteAfterFailedCreate says (the logical id).
        expect(readRequests(logFile).map((r) => [r.type, r.physicalId])).toEqual([
          ['Create', undefined],
          ['Delete', 'Custom'],
        ]);
      },
    );
  });

  it('a replacement cut off by the kill: the destroy deletes the old instance too', async () => {
    await killedDuring(
      async (ros, logFile) => {
        const created = await ros.createStack(
          new $Ros.CreateStackRequest({
            regionId: SOURCE_REGION,
            stackName: 'cut-replacement',
            templateBody: providerTemplate(logFile, { role: false, timeout: 600 }),
          }),
        );
        const id = created.body!.stackId!;
        await eventually('the stack to be created', async () => {
          const stack = await ros.getStack(
            new $Ros.GetStackRequest({ regionId: SOURCE_REGION, stackId: id }),
          );
          return stack.body!.status === 'CREATE_COMPLETE' ? true : undefined;
        });
        // A new ServiceToken: ROS creates the replacement first; its provider never answers.
        await ros.updateStack(
          new $Ros.UpdateStackRequest({
            regionId: SOURCE_REGION,
            stackId: id,
            templateBody: providerTemplate(logFile, { role: false, timeout: 600 }),
            parameters: ['Provider=B', 'Answer=hang', 'Id=pid-b'].map((pair) => {
              const [parameterKey, parameterValue] = pair.split('=');
              return new $Ros.UpdateStackRequestParameters({ parameterKey, parameterValue });
            }),
            replacementOption: 'Enabled',
          }),
        );
        await eventually('the replacement Create to reach its provider', async () =>
          readRequests(logFile).length > 1 ? true : undefined,
        );
        return id;
      },
      async ({ cloud, ros, stackId, logFile }) => {
        expect((await settledStack(cloud, ros, stackId)).status).toBe('UPDATE_FAILED');
        await ros.deleteStack(new $Ros.DeleteStackRequest({ regionId: SOURCE_REGION, stackId }));
        expect((await settledStack(cloud, ros, stackId)).status).toBe('DELETE_COMPLETE');
        expect(readRequests(logFile).map((r) => [r.fn, r.type, r.physicalId])).toEqual([
          ['a-cut-replacement', 'Create', undefined],
          ['b-cut-replacement', 'Create', undefined],
          // The old instance (kept in the state file as one to delete), then the replacement that never answered.
          ['a-cut-replacement', 'Delete', 'pid-1'],
          ['b-cut-replacement', 'Delete', 'Custom'],
        ]);
      },
    );
  });
});
