/**
 * Where the current operation stands: its phase, when it started, the copy it works on. Seeded from the
 * continuation marker on a continued invocation, updated as the operation goes, and written back into the
 * marker when the work is handed over to a fresh invocation.
 */
import type { ContinuationState, PendingAnswer, Phase } from './event';
import type { ProgressSample } from './poll-planner';

export class OperationState {
  phase: Phase;
  /** When the operation started (first invocation), ms since epoch. */
  readonly startedAt: number;
  /** When the current phase started, ms since epoch. */
  phaseStartedAt: number;
  /** Invocations before this one. */
  readonly attempt: number;
  /** The copy this request started, adopted or is waiting for. */
  imageId?: string;
  temporaryName?: string;
  finalName?: string;
  resumeAt?: number;
  progressSample?: ProgressSample;
  /**
   * Whether this invocation's `CopyImage` has just answered with the copy (not handed over: a wait that spans
   * invocations is carried by `resumeAt`). The wait then starts with a planned delay, as the copy cannot be
   * Available yet.
   */
  justRequested = false;
  /** When this request's `CopyImage` first answered with the copy: an unseen copy is pending for a bounded time. */
  copyRequestedAt?: number;
  /** DescribeImages has shown the copy. */
  copySeen?: boolean;
  /** When ECS first refused this request's `CopyImage` as a concurrent copy of the source. */
  conflictSince?: number;
  conflictRefusals?: number;
  /**
   * When ECS first refused this request's `CopyImage` for its name while no image with that name was listed: the
   * holder may be a copy not listed yet (a duplicate delivery's), so the refusal is pending for a bounded time.
   */
  nameHiddenSince?: number;
  /** Update: the resource's image when the update started ('' when none). */
  currentImageId?: string;
  /** The copy was made from a peer's copy (`<region>/<image id>`), not from the source itself. */
  copiedFrom?: string;
  /** A copy from a peer failed: copy from the source itself from now on. */
  peerFallback?: boolean;
  /** Phase `answer`: what is left to send. */
  answer?: PendingAnswer;
  /** Whether this invocation resumed a handed-over operation. */
  readonly continued: boolean;

  constructor(initialPhase: Phase, now: number, continuation?: ContinuationState) {
    this.continued = continuation !== undefined;
    this.phase = continuation?.phase ?? initialPhase;
    this.startedAt = continuation?.startedAt ?? now;
    this.phaseStartedAt = continuation?.phaseStartedAt ?? now;
    this.attempt = continuation?.attempt ?? 0;
    this.imageId = continuation?.imageId;
    this.temporaryName = continuation?.temporaryName;
    this.finalName = continuation?.finalName;
    this.resumeAt = continuation?.resumeAt;
    this.progressSample = continuation?.progressSample;
    this.copyRequestedAt = continuation?.copyRequestedAt;
    this.copySeen = continuation?.copySeen;
    this.conflictSince = continuation?.conflictSince;
    this.conflictRefusals = continuation?.conflictRefusals;
    this.nameHiddenSince = continuation?.nameHiddenSince;
    this.currentImageId = continuation?.currentImageId;
    this.copiedFrom = continuation?.copiedFrom;
    this.peerFallback = continuation?.peerFallback;
    this.answer = continuation?.answer;
  }

  /** Moves to `phase` (a no-op when already there), restarting the phase clock and forgetting the poll plan. */
  enter(phase: Phase, now: number): void {
    if (this.phase === phase) {
      return;
    }
    this.phase = phase;
    this.phaseStartedAt = now;
    this.resumeAt = undefined;
    this.progressSample = undefined;
  }

  /** The marker for the next invocation. */
  toContinuation(): ContinuationState {
    return {
      phase: this.phase,
      startedAt: this.startedAt,
      phaseStartedAt: this.phaseStartedAt,
      attempt: this.attempt + 1,
      ...(this.imageId !== undefined ? { imageId: this.imageId } : {}),
      ...(this.temporaryName !== undefined ? { temporaryName: this.temporaryName } : {}),
      ...(this.finalName !== undefined ? { finalName: this.finalName } : {}),
      ...(this.resumeAt !== undefined ? { resumeAt: this.resumeAt } : {}),
      ...(this.progressSample !== undefined ? { progressSample: this.progressSample } : {}),
      ...(this.copyRequestedAt !== undefined ? { copyRequestedAt: this.copyRequestedAt } : {}),
      ...(this.copySeen ? { copySeen: true } : {}),
      ...(this.conflictSince !== undefined ? { conflictSince: this.conflictSince } : {}),
      ...(this.conflictRefusals !== undefined ? { conflictRefusals: this.conflictRefusals } : {}),
      ...(this.nameHiddenSince !== undefined ? { nameHiddenSince: this.nameHiddenSince } : {}),
      ...(this.currentImageId !== undefined ? { currentImageId: this.currentImageId } : {}),
      ...(this.copiedFrom !== undefined ? { copiedFrom: this.copiedFrom } : {}),
      ...(this.peerFallback ? { peerFallback: true } : {}),
      ...(this.answer !== undefined ? { answer: this.answer } : {}),
    };
  }
}
