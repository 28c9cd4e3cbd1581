/**
 * The two inputs of an invocation: the ROS custom-resource event (ros-custom-resource.md §2), which FC passes as a
 * Buffer, and the FC 3.0 context. Also the continuation marker an invocation adds to the event when it hands the
 * work over to a fresh invocation of itself.
 */
import { CONTINUATION_KEY, type ImageCopyResourceProperties } from '../protocol';
import { ImageCopyError } from './errors';
import type { ResponseBody } from './response';

export type RequestType = 'Create' | 'Update' | 'Delete';

/** A ROS custom-resource request. */
export interface CustomResourceEvent {
  readonly RequestType: RequestType;
  readonly ResponseURL?: string;
  readonly IntranetResponseURL?: string;
  readonly StackId: string;
  readonly StackName?: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly ResourceType?: string;
  readonly RegionId: string;
  readonly ResourceOwnerId?: string;
  readonly CallerId?: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: ImageCopyResourceProperties;
  readonly OldResourceProperties?: ImageCopyResourceProperties;
  /** Present on continued invocations only. */
  readonly [CONTINUATION_KEY]?: ContinuationState;
}

/** Where a continued operation stands. */
export type Phase =
  /** Create/replacement: the copy may not have been started yet. */
  | 'copy'
  /** Create/replacement: waiting for the copy (`imageId`) to become Available. */
  | 'wait'
  /** Replacement: the new copy is Available; removing the old one. */
  | 'remove-old'
  /** Replacement: the old copy is gone; giving the new copy the name the old one held. */
  | 'rename'
  /** In-place update. */
  | 'update'
  /** Delete: removing the physical id's image. */
  | 'delete'
  /** Delete: removing the copies of this resource that the physical id names (see image-copy-resource.ts). */
  | 'sweep'
  /** ImageDistribution: running the plan's stack group steps (see distribution-group.ts). */
  | 'group-run'
  /** ImageDistribution: reading each instance's image id. */
  | 'group-report'
  /** The work is done; only the answer is left to send (no URL accepted it in the invocation that did the work). */
  | 'answer';

/** What makes a copy the resource's image once ROS accepted the answer naming it: its ownership tag, confirmed. */
export interface Confirmation {
  readonly regionId: string;
  readonly imageId: string;
  /** The confirmed ownership tag value to write (see `confirmedOwnershipValue`). */
  readonly value: string;
}

/** An answer handed over to a fresh invocation, with what follows it. */
export interface PendingAnswer {
  /** The response body, as it was to be sent. */
  readonly body: ResponseBody;
  /** Confirm this copy once a URL accepted the answer (SUCCESS of a Create or Update). */
  readonly confirm?: Confirmation;
  /** The copy this request started, removed if ROS refuses the answer and it never became the resource's image. */
  readonly ownCopy?: { readonly regionId: string; readonly imageId: string };
}

/** The continuation marker: what a fresh invocation needs to pick up where the last one stopped. */
export interface ContinuationState {
  readonly phase: Phase;
  /** When the first invocation for this request started the operation (ms since epoch): bounds the timeouts. */
  readonly startedAt: number;
  /** When the current phase started (ms since epoch): bounds the phase's own timeout. */
  readonly phaseStartedAt: number;
  /** How many invocations came before this one. */
  readonly attempt: number;
  /** The copy being waited for or removed, once known. */
  readonly imageId?: string;
  /** Replacement: a temporary name the new copy got because the old copy held the name... */
  readonly temporaryName?: string;
  /** ...and the name it gets once the old copy is gone. */
  readonly finalName?: string;
  /** When the next poll is due (ms since epoch). */
  readonly resumeAt?: number;
  /** The last progress seen and when, so the poll planner keeps its estimate across invocations. */
  readonly progressSample?: { readonly at: number; readonly percent: number };
  /** When this request's CopyImage first answered with the copy (ms since epoch): bounds how long it may stay unseen. */
  readonly copyRequestedAt?: number;
  /** DescribeImages has shown the copy: from now on its absence means it is gone. */
  readonly copySeen?: boolean;
  /** When ECS first refused this request's CopyImage as a concurrent copy of the source (ms since epoch). */
  readonly conflictSince?: number;
  /** How many times ECS refused it so far (the backoff's exponent). */
  readonly conflictRefusals?: number;
  /** When CopyImage first refused the name while no image listed held it (ms since epoch)... */
  readonly nameRefusedSince?: number;
  /** ...and how many times since. */
  readonly nameRefusals?: number;
  /** Update: the resource's image when the update started ('' when it had none). */
  readonly currentImageId?: string;
  /** The copy was made from a peer's copy (`<region>/<image id>`), not from the source itself. */
  readonly copiedFrom?: string;
  /** A copy from a peer failed: copy from the source itself from now on. */
  readonly peerFallback?: boolean;
  /** Phase `answer`: the answer to send. */
  readonly answer?: PendingAnswer;
  /** ImageDistribution: its plan and where it stands (`DistributionProgress` of distribution-group.ts). */
  readonly distribution?: Readonly<Record<string, unknown>>;
}

/** An FC 3.0 Node.js context, the parts the handler reads. */
export interface FcContext {
  readonly requestId?: string;
  readonly credentials?: {
    readonly accessKeyId?: string;
    readonly accessKeySecret?: string;
    readonly securityToken?: string;
  };
  readonly function?: {
    readonly name?: string;
    /** Seconds. */
    readonly timeout?: number;
    readonly memory?: number;
  };
  readonly region?: string;
  readonly accountId?: string;
  readonly logger?: {
    info(...args: unknown[]): void;
    warn?(...args: unknown[]): void;
    error?(...args: unknown[]): void;
  };
}

const REQUEST_TYPES: readonly RequestType[] = ['Create', 'Update', 'Delete'];

/** Decodes the raw event: a Buffer (as FC passes it), a JSON string (also one serialised twice), or an object. */
export function decodeEvent(raw: unknown): Record<string, unknown> {
  let value: unknown = raw;
  if (Buffer.isBuffer(value)) {
    value = value.toString('utf8');
  } else if (value instanceof Uint8Array) {
    value = Buffer.from(value).toString('utf8');
  }
  // A string is JSON text; an event serialised twice (a JSON string holding the JSON) is unwrapped once more.
  for (let depth = 0; depth < 2 && typeof value === 'string'; depth++) {
    try {
      value = JSON.parse(value);
    } catch {
      // At depth 1 the payload was valid JSON: a string that is not itself JSON, e.g. "Create".
      throw new ImageCopyError(
        'InvalidEvent',
        depth === 0 ? 'the event is not valid JSON' : 'the event is not a JSON object',
      );
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ImageCopyError('InvalidEvent', 'the event is not a JSON object');
  }
  return value as Record<string, unknown>;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function properties(value: unknown): ImageCopyResourceProperties | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as ImageCopyResourceProperties)
    : undefined;
}

/** Reads a decoded event; throws {@link ImageCopyError} `InvalidEvent` naming the first missing field. */
export function readEvent(decoded: Record<string, unknown>): CustomResourceEvent {
  const requestType = decoded.RequestType;
  if (!REQUEST_TYPES.includes(requestType as RequestType)) {
    throw new ImageCopyError(
      'InvalidEvent',
      `RequestType ${JSON.stringify(requestType)} is not one of ${REQUEST_TYPES.join(', ')}`,
    );
  }
  for (const field of ['StackId', 'RequestId', 'LogicalResourceId', 'RegionId'] as const) {
    if (text(decoded[field]) === undefined) {
      throw new ImageCopyError('InvalidEvent', `the event has no ${field}`);
    }
  }
  return {
    ...(decoded as unknown as CustomResourceEvent),
    ResourceProperties: properties(decoded.ResourceProperties) ?? {},
    OldResourceProperties: properties(decoded.OldResourceProperties),
    // Every response must copy it; a number (should one arrive) is copied as its text, anything else dropped.
    PhysicalResourceId:
      typeof decoded.PhysicalResourceId === 'number'
        ? String(decoded.PhysicalResourceId)
        : text(decoded.PhysicalResourceId),
    [CONTINUATION_KEY]: readContinuation(decoded[CONTINUATION_KEY]),
  };
}

function readContinuation(value: unknown): ContinuationState | undefined {
  if (typeof value !== 'object' || value === null) {
    return undefined;
  }
  const state = value as Partial<ContinuationState>;
  const phases: readonly Phase[] = [
    'copy',
    'wait',
    'remove-old',
    'rename',
    'update',
    'delete',
    'sweep',
    'group-run',
    'group-report',
    'answer',
  ];
  if (!phases.includes(state.phase as Phase) || typeof state.startedAt !== 'number') {
    return undefined;
  }
  const answer = state.answer as Partial<PendingAnswer> | undefined;
  if (state.phase === 'answer' && (typeof answer !== 'object' || answer === null || !answer.body)) {
    return undefined;
  }
  return {
    ...(state as ContinuationState),
    phaseStartedAt: typeof state.phaseStartedAt === 'number' ? state.phaseStartedAt : state.startedAt,
    attempt: typeof state.attempt === 'number' ? state.attempt : 1,
  };
}

/** The identifying fields of an event, safe to log (no URLs). */
export function eventSummary(event: CustomResourceEvent): Record<string, unknown> {
  return {
    requestType: event.RequestType,
    requestId: event.RequestId,
    stackId: event.StackId,
    logicalResourceId: event.LogicalResourceId,
    physicalResourceId: event.PhysicalResourceId,
    regionId: event.RegionId,
  };
}
