import type { CallOptions, EcsApi } from '../../lib/handler/clients';
import { ContinuationRequired } from '../../lib/handler/errors';
import { EcsImages, imageView } from '../../lib/handler/images';
import { Invocation } from '../../lib/handler/invocation';
import { Logger } from '../../lib/handler/log';
import { FakeClock } from './fake-clock';

const throttled = () =>
  Object.assign(new Error('Request was denied due to user flow control.'), {
    name: 'ThrottlingError',
    code: 'Throttling.User',
    retryAfter: 3_000,
  });

/** An ECS API that fails the first `failures` calls, then answers an empty image list; records call options. */
function flakyEcs(failures: Array<() => Error>): EcsApi & { options: Array<CallOptions | undefined> } {
  const options: Array<CallOptions | undefined> = [];
  return {
    options,
    async call(_action, _request, callOptions) {
      options.push(callOptions);
      const failure = failures.shift();
      if (failure) {
        throw failure();
      }
      return { Images: { Image: [] }, TotalCount: 0 } as never;
    },
  };
}

describe('EcsImages.call', () => {
  const log = new Logger({ info: () => undefined });

  it('hands a retry that would outlast the invocation over to a fresh invocation instead of failing', async () => {
    const clock = new FakeClock(1_000);
    const invocation = new Invocation(clock, { soft: 2_000, hard: 3_600 });
    const images = new EcsImages(flakyEcs([throttled]), { clock, invocation, deadline: () => 600_000 }, log);
    const error = await images.describe('cn-shanghai', 'm-1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContinuationRequired);
    expect((error as ContinuationRequired).resumeAt).toBe(4_000);
  });

  it("gives up at the operation's deadline with the API error", async () => {
    const clock = new FakeClock(1_000);
    const invocation = new Invocation(clock, { soft: 600_000, hard: 700_000 });
    const images = new EcsImages(flakyEcs([throttled]), { clock, invocation, deadline: () => 2_000 }, log);
    await expect(images.describe('cn-shanghai', 'm-1')).rejects.toMatchObject({ code: 'Throttling.User' });
  });

  it("bounds each call's time by what is left of the invocation", async () => {
    const clock = new FakeClock(0);
    const invocation = new Invocation(clock, { soft: 2_000, hard: 3_600 });
    const ecs = flakyEcs([]);
    await new EcsImages(ecs, { clock, invocation, deadline: () => 600_000 }, log).describe(
      'cn-shanghai',
      'm-1',
    );
    expect(ecs.options).toEqual([{ timeoutMs: 2_800 }]);
  });
});

describe('imageView', () => {
  it('reads progress, the slowest disk and tags from a DescribeImages image', () => {
    expect(
      imageView(
        {
          ImageId: 'm-1',
          Status: 'Creating',
          ImageName: 'web',
          Progress: '42%',
          DiskDeviceMappings: { DiskDeviceMapping: [{ RemainTime: 30 }, { RemainTime: 90 }] },
          Tags: { Tag: [{ TagKey: 'team', TagValue: 'web' }] },
        },
        'cn-shanghai',
      ),
    ).toMatchObject({
      imageId: 'm-1',
      status: 'Creating',
      percent: 42,
      progress: '42%',
      remainSeconds: 90,
      tags: { team: 'web' },
      description: '',
      resourceGroupId: '',
    });
  });

  it('falls back to the least advanced disk when the image reports no progress', () => {
    const view = imageView(
      {
        ImageId: 'm-1',
        DiskDeviceMappings: { DiskDeviceMapping: [{ Progress: '80%' }, { Progress: '30' }] },
      },
      'cn-shanghai',
    );
    expect(view).toMatchObject({ percent: 30, progress: '30%', remainSeconds: undefined });
  });
});
