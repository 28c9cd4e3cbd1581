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
  /** When CopyImage first refused the name while no image listed held it (ms since epoch). */
  nameRefusedSince?: number;
  nameRefusals?: number;
  /** Update: the resource's image when the update started ('' when none). */
  currentImageId?: string;
  /** The copy was made from a peer's copy (`<region>/<image id>`), not from the source itself. */
  copiedFrom?: string;
  /** A copy from a peer failed: copy from the source itself from now on. */
  peerFallback?: boolean;
  /** Phase `answer`: what is left to send. */
  answer?: PendingAnswer;
  /** ImageDistribution: its plan and where it stands. */
  distribution?: Record<string, unknown>;
  /** Whether this invocation resumed a handed-over operation. */
  readonly continued: boolean;
  /** The create and delete timeouts, ms: set once, when the operation has read its properties. */
  private timeouts?: { readonly createMs: number; readonly deleteMs: number };
  /** The answer is being sent: ECS calls are bounded by the invocation alone. */
  private answering = false;
  /** Past the create timeout, cancelling the copy may retry until then (ms since epoch). */
  cancelGraceUntil?: number;

  /**
   * @param invocationEnd when this invocation must be over (its hard deadline): what bounds ECS calls before the
   *   timeouts are known and while the answer is sent.
   */
  constructor(
    initialPhase: Phase,
    now: number,
    continuation?: ContinuationState,
    private readonly invocationEnd = Number.POSITIVE_INFINITY,
  ) {
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
    this.nameRefusedSince = continuation?.nameRefusedSince;
    this.nameRefusals = continuation?.nameRefusals;
    this.currentImageId = continuation?.currentImageId;
    this.copiedFrom = continuation?.copiedFrom;
    this.peerFallback = continuation?.peerFallback;
    this.answer = continuation?.answer;
    this.distribution = continuation?.distribution ? { ...continuation.distribution } : undefined;
  }

  /** Sets the create and delete timeouts, seconds (once: the operation's deadline follows from them). */
  setTimeouts(createSeconds: number, deleteSeconds: number): void {
    this.timeouts ??= { createMs: createSeconds * 1000, deleteMs: deleteSeconds * 1000 };
  }

  /** From now on the answer is being sent: ECS calls (the confirmation, a discard) are bounded by the invocation. */
  beginAnswer(): void {
    this.answering = true;
  }

  /**
   * When the running phase must be over (ms since epoch); ECS calls do not retry past it. A copy and its wait (and
   * an in-place update) get the create timeout from the operation's start; removing a replaced copy and renaming
   * the new one get the delete timeout from the removal's start; a Delete gets the delete timeout from its start.
   */
  get deadline(): number {
    if (this.timeouts === undefined || this.answering || this.phase === 'answer') {
      return this.invocationEnd;
    }
    const { createMs, deleteMs } = this.timeouts;
    const phaseDeadline =
      this.phase === 'remove-old' || this.phase === 'rename'
        ? this.phaseStartedAt + deleteMs
        : this.phase === 'delete' || this.phase === 'sweep'
          ? this.startedAt + deleteMs
          : this.startedAt + createMs;
    return Math.max(phaseDeadline, this.cancelGraceUntil ?? Number.NEGATIVE_INFINITY);
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
      ...(this.nameRefusedSince !== undefined ? { nameRefusedSince: this.nameRefusedSince } : {}),
      ...(this.nameRefusals !== undefined ? { nameRefusals: this.nameRefusals } : {}),
      ...(this.currentImageId !== undefined ? { currentImageId: this.currentImageId } : {}),
      ...(this.copiedFrom !== undefined ? { copiedFrom: this.copiedFrom } : {}),
      ...(this.peerFallback ? { peerFallback: true } : {}),
      ...(this.answer !== undefined ? { answer: this.answer } : {}),
      ...(this.distribution !== undefined ? { distribution: this.distribution } : {}),
    };
  }
}
