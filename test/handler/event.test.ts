import { ImageCopyError } from '../../lib/handler/errors';
import { decodeEvent, eventSummary, readEvent } from '../../lib/handler/event';
import { CONTINUATION_KEY } from '../../lib/protocol';

const event = {
  RequestType: 'Create',
  ResponseURL: 'https://ros-callback.example/abc?Signature=secret-signature',
  IntranetResponseURL: 'https://ros-callback-intranet.example/abc?Signature=secret-signature',
  StackId: 'stack-1',
  StackName: 'demo',
  RequestId: 'request-1',
  LogicalResourceId: 'Copy',
  RegionId: 'cn-shanghai',
  ResourceType: 'Custom::ImageCopy',
  ResourceProperties: { SourceImageId: 'm-bp1source', SourceRegionId: 'cn-hangzhou' },
};

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return error instanceof ImageCopyError ? `${error.code}: ${error.message}` : String(error);
  }
  return undefined;
};

describe('decodeEvent', () => {
  it('decodes a Buffer, as Function Compute passes the event', () => {
    expect(decodeEvent(Buffer.from(JSON.stringify(event)))).toEqual(event);
  });

  it('decodes a Uint8Array, a JSON string, an object and an event serialised twice', () => {
    expect(decodeEvent(new TextEncoder().encode(JSON.stringify(event)))).toEqual(event);
    expect(decodeEvent(JSON.stringify(event))).toEqual(event);
    expect(decodeEvent(event)).toBe(event);
    expect(decodeEvent(Buffer.from(JSON.stringify(JSON.stringify(event))))).toEqual(event);
  });

  it('refuses what is not a JSON object', () => {
    expect(codeOf(() => decodeEvent(Buffer.from('{"RequestType":')))).toBe(
      'InvalidEvent: the event is not valid JSON',
    );
    expect(codeOf(() => decodeEvent('[1]'))).toBe('InvalidEvent: the event is not a JSON object');
    expect(codeOf(() => decodeEvent(Buffer.from('null')))).toBe(
      'InvalidEvent: the event is not a JSON object',
    );
    expect(codeOf(() => decodeEvent(undefined))).toBe('InvalidEvent: the event is not a JSON object');
    expect(codeOf(() => decodeEvent(42))).toBe('InvalidEvent: the event is not a JSON object');
    // Valid JSON holding a plain string is not an object either (it was reported as "not valid JSON").
    expect(codeOf(() => decodeEvent(Buffer.from('"Create"')))).toBe(
      'InvalidEvent: the event is not a JSON object',
    );
  });
});

describe('readEvent', () => {
  it('reads a well-formed event', () => {
    const read = readEvent({ ...event });
    expect(read).toMatchObject({
      RequestType: 'Create',
      StackId: 'stack-1',
      ResourceProperties: event.ResourceProperties,
    });
    expect(read[CONTINUATION_KEY]).toBeUndefined();
  });

  it('names the RequestType it does not know and the first missing field', () => {
    expect(codeOf(() => readEvent({ ...event, RequestType: 'Upsert' }))).toBe(
      'InvalidEvent: RequestType "Upsert" is not one of Create, Update, Delete',
    );
    const { RequestId: _missing, ...withoutRequestId } = event;
    expect(codeOf(() => readEvent(withoutRequestId))).toBe('InvalidEvent: the event has no RequestId');
    expect(codeOf(() => readEvent({ ...event, LogicalResourceId: '' }))).toBe(
      'InvalidEvent: the event has no LogicalResourceId',
    );
  });

  it('reads ResourceProperties that are not a map as empty (validation then names what is missing)', () => {
    expect(readEvent({ ...event, ResourceProperties: 'nonsense' }).ResourceProperties).toEqual({});
    expect(readEvent({ ...event, OldResourceProperties: [1] }).OldResourceProperties).toBeUndefined();
  });

  it('reads the PhysicalResourceId as text, whatever type it arrives as', () => {
    expect(readEvent({ ...event, PhysicalResourceId: 'm-uf6copy' }).PhysicalResourceId).toBe('m-uf6copy');
    expect(readEvent({ ...event, PhysicalResourceId: 42 }).PhysicalResourceId).toBe('42');
    expect(readEvent({ ...event, PhysicalResourceId: { id: 1 } }).PhysicalResourceId).toBeUndefined();
    expect(readEvent({ ...event, PhysicalResourceId: '' }).PhysicalResourceId).toBeUndefined();
  });

  it('reads a continuation marker, filling in what an older marker lacks, and ignores a malformed one', () => {
    const continued = readEvent({
      ...event,
      [CONTINUATION_KEY]: { phase: 'wait', startedAt: 1000, imageId: 'm-uf6copy' },
    });
    expect(continued[CONTINUATION_KEY]).toEqual({
      phase: 'wait',
      startedAt: 1000,
      phaseStartedAt: 1000,
      attempt: 1,
      imageId: 'm-uf6copy',
    });
    expect(
      readEvent({ ...event, [CONTINUATION_KEY]: { phase: 'dance', startedAt: 1 } })[CONTINUATION_KEY],
    ).toBeUndefined();
    expect(readEvent({ ...event, [CONTINUATION_KEY]: 'wait' })[CONTINUATION_KEY]).toBeUndefined();
  });

  it('summarises an event for the logs without its URLs', () => {
    const summary = JSON.stringify(eventSummary(readEvent({ ...event })));
    expect(summary).toContain('request-1');
    expect(summary).not.toContain('Signature');
    expect(summary).not.toContain('ros-callback');
  });
});
