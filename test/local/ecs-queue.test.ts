import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { defaultCopyDurationMs, EcsService } from '../../lib/local/ecs';
import { StateStore } from '../../lib/local/state';
import { ACCOUNT_ID, COPY_MS, ecsFixture, T0, type EcsFixture } from './ecs-fixture';

const HZ = 'cn-hangzhou';
const SH = 'cn-shanghai';

let f: EcsFixture;
beforeEach(() => {
  f = ecsFixture();
});

const statuses = (ids: string[], region = SH) => ids.map((id) => f.ecs.getImage(region, id)?.status);

async function copies(count: number, params: Record<string, string> = {}): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(await f.copy(params));
    f.tick(10); // creation order is request order
  }
  return ids;
}

describe('LocalCloud ECS: copies progress over the clock', () => {
  it('reports Creating with growing Progress and RemainTime, then Available at 100%', async () => {
    const id = await f.copy();
    const mapping = (image: any) => image.DiskDeviceMappings.DiskDeviceMapping[0];

    const start = await f.describe(SH, id);
    expect(start).toMatchObject({ Status: 'Creating', Progress: '0%', Usable: false });
    expect(mapping(start)).toMatchObject({ Progress: '0%', RemainTime: 10 });

    f.tick(2_500);
    const quarter = await f.describe(SH, id);
    expect(quarter).toMatchObject({ Status: 'Creating', Progress: '25%' });
    expect(mapping(quarter)).toMatchObject({ Progress: '25%', RemainTime: 8 });
    expect(f.ecs.getImage(SH, id)).toMatchObject({ status: 'Creating', progress: 25, remainTimeSeconds: 8 });

    f.tick(7_499);
    expect(await f.describe(SH, id)).toMatchObject({ Status: 'Creating', Progress: '99%' });

    f.tick(1);
    const done = await f.describe(SH, id);
    expect(done).toMatchObject({ Status: 'Available', Progress: '100%', Usable: true });
    expect(mapping(done)).toMatchObject({ Progress: '100%', RemainTime: 0 });
    // Now visible without a Status filter.
    const byDefault = await f.call('DescribeImages', { RegionId: SH, ImageId: id });
    expect(byDefault.TotalCount).toBe(1);
  });

  it('by default takes 150 ms per GiB, between 3 and 25 seconds', async () => {
    expect(defaultCopyDurationMs(40)).toBe(6_000);
    expect(defaultCopyDurationMs(1)).toBe(3_000);
    expect(defaultCopyDurationMs(500)).toBe(25_000);
    const g = ecsFixture({ copyDurationMs: undefined });
    const id = await g.copy(); // golden-base is 40 GiB
    g.tick(5_999);
    expect(g.ecs.getImage(SH, id)?.status).toBe('Creating');
    g.tick(1);
    expect(g.ecs.getImage(SH, id)?.status).toBe('Available');
  });

  it('takes its duration from a function of the size in GiB', async () => {
    const sizes: number[] = [];
    const g = ecsFixture({ copyDurationMs: (sizeGiB) => (sizes.push(sizeGiB), sizeGiB * 1000) });
    const id = await g.copy({ ImageId: 'm-bp1seedubuntu220401' });
    expect(sizes).toEqual([20]);
    g.tick(19_999);
    expect(g.ecs.getImage(SH, id)?.status).toBe('Creating');
    g.tick(1);
    expect(g.ecs.getImage(SH, id)?.status).toBe('Available');
  });

  it('ends CreateFailed when the facade fails it', async () => {
    const id = await f.copy();
    f.tick(4_000);
    f.ecs.failCopy(SH, id);
    expect(f.ecs.getImage(SH, id)).toMatchObject({ status: 'CreateFailed', progress: 40 });
    f.tick(60_000);
    expect(await f.describe(SH, id)).toMatchObject({ Status: 'CreateFailed', Usable: false });
    const failed = await f.call('DescribeImages', { RegionId: SH, Status: 'CreateFailed' });
    expect(failed.Images.Image.map((i: any) => i.ImageId)).toEqual([id]);
  });

  it('keeps tags on a copy in progress and through completion', async () => {
    const id = await f.copy();
    await f.call('TagResources', {
      RegionId: SH,
      ResourceType: 'image',
      'ResourceId.1': id,
      'Tag.1.Key': 'k',
    });
    f.tick(COPY_MS);
    expect(f.ecs.getImage(SH, id)).toMatchObject({ status: 'Available', tags: { k: '' } });
  });
});

describe('LocalCloud ECS: at most five copies run per region', () => {
  it('queues the sixth and seventh copy as Waiting at 0%, and starts them as running ones finish', async () => {
    const ids = await copies(7);
    expect(statuses(ids)).toEqual([...Array(5).fill('Creating'), 'Waiting', 'Waiting']);
    const waiting = await f.describe(SH, ids[5]);
    expect(waiting).toMatchObject({ Status: 'Waiting', Progress: '0%', IsCopied: true });
    const listed = await f.call('DescribeImages', { RegionId: SH, Status: 'Waiting' });
    expect(listed.Images.Image.map((i: any) => i.ImageId)).toEqual([ids[6], ids[5]]);

    // The first copy finishes at T0 + 10 s; the sixth starts then, the seventh when the second finishes.
    f.clock.now = T0 + COPY_MS;
    expect(statuses(ids)).toEqual(['Available', ...Array(4).fill('Creating'), 'Creating', 'Waiting']);
    f.clock.now = T0 + COPY_MS + 10;
    expect(statuses(ids)).toEqual([
      'Available',
      'Available',
      ...Array(3).fill('Creating'),
      'Creating',
      'Creating',
    ]);
    expect(f.ecs.getImage(SH, ids[5])?.progress).toBe(0);

    f.clock.now = T0 + COPY_MS + 50 + COPY_MS / 2;
    expect(f.ecs.getImage(SH, ids[5])?.progress).toBe(50);
    f.clock.now = T0 + 2 * COPY_MS + 60;
    expect(statuses(ids)).toEqual(Array(7).fill('Available'));
  });

  it('derives the same queue however rarely it is read', async () => {
    const ids = await copies(12);
    f.tick(3 * COPY_MS + 1_000); // nothing read in between: all twelve have run in three waves
    expect(statuses(ids)).toEqual(Array(12).fill('Available'));

    const g = ecsFixture();
    const again = await (async () => {
      const out: string[] = [];
      for (let i = 0; i < 12; i++) {
        out.push(await g.copy());
        g.tick(10);
      }
      return out;
    })();
    g.tick(2 * COPY_MS + 500); // the third wave is half way
    const progress = again.map((id) => g.ecs.getImage(SH, id)!.progress);
    expect(progress.slice(0, 10)).toEqual(Array(10).fill(100));
    expect(progress.slice(10).every((p) => p > 0 && p < 100)).toBe(true);
  });

  it('starts the first waiting copy as soon as a running one is cancelled', async () => {
    const ids = await copies(6);
    f.tick(1_000);
    await f.call('CancelCopyImage', { RegionId: SH, ImageId: ids[2] });
    expect(statuses(ids)).toEqual(['Creating', 'Creating', undefined, 'Creating', 'Creating', 'Creating']);
    expect(f.ecs.getImage(SH, ids[5])?.progress).toBe(0);
    f.tick(COPY_MS);
    expect(f.ecs.getImage(SH, ids[5])?.status).toBe('Available');
  });

  it('starts the first waiting copy as soon as a running one fails', async () => {
    const ids = await copies(6);
    f.ecs.failCopy(SH, ids[0]);
    expect(statuses(ids)).toEqual(['CreateFailed', ...Array(5).fill('Creating')]);
  });

  it('lets a waiting copy be cancelled without disturbing the others', async () => {
    const ids = await copies(7);
    await f.call('CancelCopyImage', { RegionId: SH, ImageId: ids[5] });
    f.clock.now = T0 + COPY_MS;
    expect(statuses(ids)).toEqual(['Available', ...Array(4).fill('Creating'), undefined, 'Creating']);
  });

  it('lets a waiting copy fail: it ends CreateFailed without ever running', async () => {
    const ids = await copies(6);
    f.ecs.failCopy(SH, ids[5]);
    expect(f.ecs.getImage(SH, ids[5])).toMatchObject({ status: 'CreateFailed', progress: 0 });
    f.tick(COPY_MS);
    expect(f.ecs.getImage(SH, ids[5])?.status).toBe('CreateFailed');
  });

  it('refuses to delete a waiting copy', async () => {
    const ids = await copies(6);
    const err = await f.errorOf('DeleteImage', { RegionId: SH, ImageId: ids[5] });
    expect(err).toMatchObject({ code: 'OperationDenied.ImageCopying', httpStatus: 403 });
  });

  it('queues per destination region', async () => {
    const toShanghai = await copies(5);
    const toBeijing = await copies(2, { DestinationRegionId: 'cn-beijing' });
    expect(statuses(toShanghai)).toEqual(Array(5).fill('Creating'));
    expect(statuses(toBeijing, 'cn-beijing')).toEqual(['Creating', 'Creating']);
  });

  it('does not count images that are not copies, nor finished copies', async () => {
    const early = await copies(5);
    f.tick(COPY_MS);
    const later = await copies(5);
    expect(statuses(early)).toEqual(Array(5).fill('Available'));
    expect(statuses(later)).toEqual(Array(5).fill('Creating'));
  });
});

describe('LocalCloud ECS: persistence', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecs-state-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('sees the same images after a restart, with progress continued over the time it was down', async () => {
    const stateFile = path.join(dir, 'state.json');
    const first = ecsFixture({ stateFile });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push(await first.copy({ DestinationImageName: `persisted-${i}` }));
      first.tick(10);
    }
    await first.call('DeleteImage', { RegionId: HZ, ImageId: 'm-bp1seedubuntu220401' });
    await first.call('TagResources', {
      RegionId: SH,
      ResourceType: 'image',
      'ResourceId.1': ids[0],
      'Tag.1.Key': 'kept',
      'Tag.1.Value': 'yes',
    });
    first.ecs.setCancelSupported(SH, ids[6], false);
    first.tick(2_500 - 70);

    // A new process, 5 s later, on the same file.
    const second = ecsFixture({ stateFile, startAt: T0 + 7_500 });
    expect(second.ecs.listImages(SH).map((i) => i.imageName)).toEqual([
      'golden-base',
      ...ids.map((_, i) => `persisted-${i}`),
    ]);
    expect(second.ecs.getImage(SH, ids[0])).toMatchObject({
      status: 'Creating',
      progress: 75,
      tags: { kept: 'yes' },
    });
    expect(second.ecs.getImage(SH, ids[5])?.status).toBe('Waiting');
    expect(second.ecs.getImage(HZ, 'm-bp1seedubuntu220401')).toBeUndefined(); // not re-seeded

    // The waiting copies started while nobody was looking, at the moments slots freed.
    const third = ecsFixture({ stateFile, startAt: T0 + COPY_MS + 5_000 });
    expect(third.ecs.getImage(SH, ids[5])).toMatchObject({ status: 'Creating', progress: 50 });
    expect(third.ecs.getImage(SH, ids[6])).toMatchObject({ status: 'Creating', progress: 49 });
    const err = await third.errorOf('CancelCopyImage', { RegionId: SH, ImageId: ids[6] });
    expect(err.code).toBe('CancelNotSupported');
  });

  it('writes the state file on every change', async () => {
    const stateFile = path.join(dir, 'state.json');
    const g = ecsFixture({ stateFile });
    const id = await g.copy({ DestinationImageName: 'on-disk' });
    const onDisk = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    expect(onDisk.ecs.images[id]).toMatchObject({ imageName: 'on-disk', regionId: SH });
    await g.call('ModifyImageAttribute', { RegionId: SH, ImageId: id, ImageName: 'renamed-on-disk' });
    expect(JSON.parse(fs.readFileSync(stateFile, 'utf8')).ecs.images[id].imageName).toBe('renamed-on-disk');
  });

  it('remembers ClientTokens across restarts', async () => {
    const stateFile = path.join(dir, 'state.json');
    const request = {
      RegionId: HZ,
      ImageId: 'm-bp1seedgoldenimage01',
      DestinationRegionId: SH,
      DestinationImageName: 'token-copy',
      ClientToken: 'tok-1',
    };
    const first = (await ecsFixture({ stateFile }).call('CopyImage', request)).ImageId;
    const again = (await ecsFixture({ stateFile, startAt: T0 + 1_000 }).call('CopyImage', request)).ImageId;
    expect(again).toBe(first);
  });

  it('shares the state with other services in the same store', () => {
    const store = new StateStore();
    store.section('ram', () => ({ keys: {} }));
    const ecs = new EcsService(store, ACCOUNT_ID);
    expect(ecs.listImages(HZ)).toHaveLength(2);
    expect(Object.keys(store.section('ecs', () => ({})))).toContain('images');
  });
});

describe('LocalCloud ECS: progress noise', () => {
  it('perturbs only the reported figures, deterministically, keeping Progress within 0..99 while Creating', async () => {
    const g = ecsFixture({ progressNoise: 0.3, seed: 7, copyDurationMs: 100_000 });
    const id = await g.copy({ DestinationImageName: 'noisy' });
    let previous = 0;
    let perturbed = 0;
    for (let t = 1_000; t < 100_000; t += 3_000) {
      g.clock.now = T0 + t;
      const truth = g.ecs.getImage(SH, id)!;
      const image = await g.describe(SH, id);
      const reported = Number(image.Progress.slice(0, -1));
      expect(truth.progress).toBe(Math.floor(t / 1_000));
      expect(reported).toBeGreaterThanOrEqual(Math.floor(truth.progress * 0.7) - 1);
      expect(reported).toBeLessThanOrEqual(truth.progress);
      expect(reported).toBeGreaterThanOrEqual(0);
      expect(reported).toBeLessThanOrEqual(99);
      expect(reported).toBeGreaterThanOrEqual(previous * 0.7 - 1); // never back by more than the noise
      const remain = image.DiskDeviceMappings.DiskDeviceMapping[0].RemainTime;
      expect(Number.isInteger(remain)).toBe(true);
      expect(remain).toBeGreaterThanOrEqual(Math.floor(truth.remainTimeSeconds * 0.7));
      expect(remain).toBeLessThanOrEqual(Math.ceil(truth.remainTimeSeconds * 1.3));
      if (reported !== truth.progress) {
        perturbed++;
      }
      previous = reported;
      // The same seed, image and second always give the same figures.
      expect((await g.describe(SH, id)).Progress).toBe(image.Progress);
    }
    expect(perturbed).toBeGreaterThan(5);
    // The real completion time is untouched.
    g.clock.now = T0 + 100_000;
    expect(await g.describe(SH, id)).toMatchObject({ Status: 'Available', Progress: '100%' });
  });

  it('adds no noise by default', async () => {
    const id = await f.copy();
    f.tick(3_300);
    expect((await f.describe(SH, id)).Progress).toBe('33%');
  });
});
