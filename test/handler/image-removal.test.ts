/**
 * Removal against a scripted ECS, for transitions LocalCloud does not produce (the reference leaves open what
 * DescribeImages shows after CancelCopyImage).
 */
import type { EcsApi } from '../../lib/handler/clients';
import type { CustomResourceEvent } from '../../lib/handler/event';
import { Invocation } from '../../lib/handler/invocation';
import { Logger } from '../../lib/handler/log';
import { createOperationContext, type OperationContext } from '../../lib/handler/operation';
import { OperationState } from '../../lib/handler/operation-state';
import { removeImage } from '../../lib/handler/image-removal';
import { FakeClock } from './fake-clock';

type Step = { action: string; answer: Record<string, unknown> | Error };

/** An ECS API that expects the actions of `script` in order and answers each as scripted. */
function scriptedEcs(script: Step[]): EcsApi & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async call(action) {
      calls.push(action);
      const step = script.shift();
      if (!step || step.action !== action) {
        throw new Error(`unexpected ${action} (expected ${step?.action ?? 'nothing'})`);
      }
      if (step.answer instanceof Error) {
        throw step.answer;
      }
      return step.answer as never;
    },
  };
}

const imageIn = (status: string) => ({
  Images: { Image: [{ ImageId: 'm-uf6copy', Status: status, ImageName: 'copy', Progress: '40%' }] },
  TotalCount: 1,
});
const none = { Images: { Image: [] }, TotalCount: 0 };

function contextWith(ecs: EcsApi, clock: FakeClock): OperationContext {
  const invocation = new Invocation(clock, { soft: clock.now() + 600_000, hard: clock.now() + 650_000 });
  const log = new Logger({ info: () => undefined });
  const state = new OperationState('delete', clock.now());
  state.setTimeouts(600, 300);
  return createOperationContext({
    event: {
      RequestType: 'Delete',
      StackId: 's',
      RequestId: 'r',
      LogicalResourceId: 'Copy',
    } as CustomResourceEvent,
    clock,
    invocation,
    log,
    state,
    polling: {},
    ecs,
  });
}

const options = {
  regionId: 'cn-shanghai',
  imageId: 'm-uf6copy',
  force: false,
  role: 'the image',
  timeoutSeconds: 300,
};

describe('removeImage', () => {
  it('deletes a cancelled copy that ECS keeps as CreateFailed instead of waiting for it to vanish', async () => {
    const ecs = scriptedEcs([
      { action: 'DescribeImages', answer: imageIn('Creating') },
      { action: 'CancelCopyImage', answer: {} },
      { action: 'DescribeImages', answer: imageIn('CreateFailed') },
      { action: 'DeleteImage', answer: {} },
      { action: 'DescribeImages', answer: none },
    ]);
    await removeImage(contextWith(ecs, new FakeClock()), options);
    expect(ecs.calls).toEqual([
      'DescribeImages',
      'CancelCopyImage',
      'DescribeImages',
      'DeleteImage',
      'DescribeImages',
    ]);
  });

  it('waits for a cancelled copy that is still winding down (Creating), then finds it gone', async () => {
    const clock = new FakeClock();
    const ecs = scriptedEcs([
      { action: 'DescribeImages', answer: imageIn('Creating') },
      { action: 'CancelCopyImage', answer: {} },
      { action: 'DescribeImages', answer: imageIn('Creating') },
      { action: 'DescribeImages', answer: none },
    ]);
    await removeImage(contextWith(ecs, clock), options);
    expect(clock.sleeps.length).toBe(1);
  });

  it('deletes a copy that finished as it was being cancelled (IncorrectImageStatus)', async () => {
    const refused = Object.assign(new Error('The image copy has completed.'), {
      code: 'IncorrectImageStatus',
      statusCode: 400,
    });
    const ecs = scriptedEcs([
      { action: 'DescribeImages', answer: imageIn('Creating') },
      { action: 'CancelCopyImage', answer: refused },
      { action: 'DescribeImages', answer: imageIn('Available') },
      { action: 'DeleteImage', answer: {} },
      { action: 'DescribeImages', answer: none },
    ]);
    await removeImage(contextWith(ecs, new FakeClock()), options);
    expect(ecs.calls).toContain('DeleteImage');
  });

  it('treats an image that is gone by the time DeleteImage runs as removed', async () => {
    const notFound = Object.assign(new Error('not found'), {
      code: 'InvalidImageId.NotFound',
      statusCode: 404,
    });
    const ecs = scriptedEcs([
      { action: 'DescribeImages', answer: imageIn('Available') },
      { action: 'DeleteImage', answer: notFound },
    ]);
    await expect(removeImage(contextWith(ecs, new FakeClock()), options)).resolves.toBeUndefined();
  });
});
