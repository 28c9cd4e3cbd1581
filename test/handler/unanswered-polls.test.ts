/**
 * ECS stops answering while the handler waits (every DescribeImages fails with 503, even after retries): a missed
 * look is not a failed copy. The wait goes on until its timeout, which then acts as it always does — the create
 * cancels its copy, the delete says its timeout passed — instead of failing at once as an internal error and
 * leaving the copy running. Run one at a time: the fault applies to every DescribeImages.
 */
import { ApiError } from '../../lib/local';
import {
  DESTINATION_REGION,
  type Harness,
  newResource,
  ownedImages,
  putSource,
  run,
  SLOW_SIZE_GIB,
  SOURCE_REGION,
  startCopyAs,
  startHarness,
  stepsOf,
} from './harness';

let h: Harness;
let fn: string;

beforeAll(async () => {
  h = await startHarness();
  fn = h.deployHandler();
});
afterAll(() => h.stop());
afterEach(() => {
  h.fault = undefined;
});

/** The properties of a copy of `source` into the destination region, with `extra`. */
const propertiesFor = (source: string, extra: Record<string, unknown> = {}) => ({
  SourceImageId: source,
  SourceRegionId: SOURCE_REGION,
  DestinationRegionId: DESTINATION_REGION,
  ...extra,
});

/** From now on, every DescribeImages answers 503 once `when()` holds. */
function describeUnavailable(when: () => boolean = () => true): void {
  h.fault = (product, action) => {
    if (product === 'ecs' && action === 'DescribeImages' && when()) {
      throw new ApiError(
        'ServiceUnavailable',
        'The request has failed due to a temporary failure of the server.',
        503,
      );
    }
    return undefined;
  };
}

it('cancels the copy at the create timeout when ECS stops answering DescribeImages after CopyImage', async () => {
  const source = putSource(h, { sizeGiB: SLOW_SIZE_GIB });
  const resource = newResource();
  let copied = false;
  const counts = h.cloud.ecs.callCounts();
  describeUnavailable(() => {
    copied ||= (h.cloud.ecs.callCounts().CopyImage ?? 0) > (counts.CopyImage ?? 0);
    return copied;
  });
  const { response, event } = await run(h, fn, resource, {
    RequestType: 'Create',
    ResourceProperties: propertiesFor(source, { CreateTimeoutSeconds: 3 }),
  });
  expect(response.Status).toBe('FAILED');
  expect(response.Reason).toMatch(
    /^The create timeout of 3 seconds passed with the copy m-\w+ of m-\w+ at 0% \(status not read\); the copy was cancelled\./,
  );
  expect(ownedImages(h, resource)).toEqual([]);
  const steps = stepsOf(h, fn).filter((step) => step.requestId === event.RequestId);
  expect(steps.some((step) => step.step === 'poll-missed')).toBe(true);
});

it('answers the delete timeout, saying ECS could not be read, when DescribeImages keeps failing', async () => {
  const source = putSource(h, { sizeGiB: SLOW_SIZE_GIB });
  const imageId = await startCopyAs(h, source, {});
  describeUnavailable();
  const { response } = await run(h, fn, newResource(), {
    RequestType: 'Delete',
    PhysicalResourceId: imageId,
    ResourceProperties: propertiesFor(source, { DeleteTimeoutSeconds: 2 }),
  });
  expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: imageId });
  expect(response.Reason).toMatch(
    new RegExp(
      `^The delete timeout of 2 seconds passed before the image ${imageId} in cn-shanghai was gone\\. ECS could not be read at the end: DescribeImages failed: ServiceUnavailable: .*Try again, or raise DeleteTimeoutSeconds`,
    ),
  );
  // ECS answers again: a retried Delete removes the copy.
  h.fault = undefined;
  const { response: retried } = await run(h, fn, newResource(), {
    RequestType: 'Delete',
    PhysicalResourceId: imageId,
    ResourceProperties: propertiesFor(source),
  });
  expect(retried).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: imageId });
  expect(h.cloud.ecs.getImage(DESTINATION_REGION, imageId)).toBeUndefined();
});
