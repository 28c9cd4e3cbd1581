/**
 * Following a stack operation to its end: one call per poll (the new stack events), GetStack only when it matters,
 * and what happens told as {@link DeployEvent}s (the typed union the displays read). Time comes from the API's clock.
 */
import { DeployError } from './errors';
import type { RetryNotice } from './retry';
import { sleep } from './retry';
import { ImageCopyProgress, ImageCopyWatcher } from './image-progress';
import type { StackApi } from './stack-api';
import { isInProgress, STACK_RESOURCE_TYPE, type StackDescription, type StackEvent } from './stack-types';

export type StackOperation = 'create' | 'update' | 'delete';

/** What happens while the deploy helper works on a stack; passed to the `onEvent` callback as it happens. */
export type DeployEvent =
  /** An operation was submitted to ROS. `resourceCount` is the number of resources in the template. */
  | {
      readonly type: 'started';
      readonly stackName: string;
      readonly stackId: string;
      readonly operation: StackOperation;
      readonly resourceCount: number;
    }
  /** A new stack event (of the stack or one of its resources), oldest first. */
  | {
      readonly type: 'stack-event';
      readonly stackName: string;
      readonly event: StackEvent;
      readonly constructPath?: string;
    }
  /**
   * After each poll while following: the stack's status (from its latest own event, or from GetStack) and how long
   * the operation has run.
   */
  | { readonly type: 'poll'; readonly stackName: string; readonly status: string; readonly elapsedMs: number }
  /** An ImageCopy's copy progress, read from ECS (best effort). */
  | ({ readonly type: 'image-copy-progress'; readonly stackName: string } & ImageCopyProgress)
  /** An API call is retried (throttling, 5xx, a dropped connection). */
  | { readonly type: 'retry'; readonly stackName: string; readonly notice: RetryNotice }
  /** Anything else worth telling (e.g. "deleting the rolled-back stack before creating it again"). */
  | { readonly type: 'message'; readonly stackName: string; readonly text: string }
  /** An operation of a stack group the stack manages: when it is first seen, and when its status changes. */
  | {
      readonly type: 'stack-group-operation';
      readonly stackName: string;
      readonly stackGroupName: string;
      readonly operationId: string;
      /** `CREATE` | `UPDATE` | `DELETE` | `DETECT_DRIFT`. */
      readonly action: string;
      /** `RUNNING` | `SUCCEEDED` | `FAILED` | `STOPPING` | `STOPPED` | `QUEUED`. */
      readonly status: string;
    }
  /** The result of a stack group operation in one account and region changed (or was first seen). */
  | {
      readonly type: 'stack-instance';
      readonly stackName: string;
      readonly stackGroupName: string;
      readonly operationId: string;
      readonly action: string;
      readonly accountId: string;
      readonly regionId: string;
      /** `RUNNING` | `SUCCEEDED` | `FAILED` | `CANCELLED`. */
      readonly status: string;
      readonly statusReason?: string;
    }
  /** How many of a stack group operation's accounts and regions are done (as ROS lists its results). */
  | {
      readonly type: 'stack-group-progress';
      readonly stackName: string;
      readonly stackGroupName: string;
      readonly operationId: string;
      readonly action: string;
      readonly done: number;
      readonly total: number;
    };

/**
 * What follows the operations of the stack groups a stack manages, alongside its events (see `stack-groups.ts`):
 * read once per poll, with the same clock and backoff.
 */
export interface GroupFollowing {
  /** Reads the groups' operations once, telling what changed as events. Throws only when aborted. */
  poll(): Promise<void>;
  /** Whether an operation seen while following is still going. */
  readonly busy: boolean;
  /** The groups whose operations are still going, for a message. */
  describeBusy(): string;
}

/**
 * The time between polls: a fixed number of milliseconds, or a range `{ min, max }`, in which the wait grows with the
 * operation's age (a tenth of the time run so far), so long operations are polled less often.
 */
export type PollInterval = number | { readonly min: number; readonly max: number };

export const DEFAULT_POLL_INTERVAL_MS = { min: 1000, max: 2000 } as const;

export interface FollowOptions {
  readonly stackName: string;
  readonly onEvent?: (event: DeployEvent) => void;
  /**
   * Time between polls (each one ListStackEvents call, or one GetStack when events are unavailable): a fixed
   * number, or a range: `min` at first, then a tenth of the time the operation has run, at most `max`.
   * @default { min: 1000, max: 2000 }
   */
  readonly pollIntervalMs?: PollInterval;
  readonly signal?: AbortSignal;
  /** Maps a logical id to its construct path, for events. */
  readonly constructPath?: (logicalId: string) => string | undefined;
  readonly imageCopies?: ImageCopyWatcher;
  /**
   * The status that means success (e.g. `CREATE_COMPLETE`): when the stack's own event shows it, the GetStack
   * that confirms it reads the outputs too, so none is needed afterwards.
   */
  readonly successStatus?: string;
  /** The stack groups the stack manages, followed alongside (see `stack-groups.ts`). */
  readonly stackGroups?: GroupFollowing;
}

export interface Followed {
  /** The stack at the end; undefined when it is gone (deleted). */
  readonly stack: StackDescription | undefined;
  /** Whether `stack` was read with its outputs. */
  readonly outputsRead: boolean;
  /** The events of this operation, oldest first. */
  readonly events: StackEvent[];
}

/** Without a GetStack for this long, one is asked anyway: a safety net should the events ever miss the end. */
const STATUS_CHECK_MS = 60_000;

/** How long to wait before the next poll, `elapsedMs` into the operation. */
export function pollDelay(interval: PollInterval | undefined, elapsedMs: number): number {
  const { min, max } =
    typeof interval === 'number' ? { min: interval, max: interval } : (interval ?? DEFAULT_POLL_INTERVAL_MS);
  // The end is noticed late by at most a tenth of the time run so far (`min` at first, `max` at most): few calls
  // on long operations.
  return Math.round(Math.min(max, Math.max(min, elapsedMs / 10)));
}

/**
 * Follows a stack operation to its end with one call per poll: the new ListStackEvents entries, which include the
 * stack's own status events (ResourceType `ALIYUN::ROS::Stack`). GetStack is asked only when one of those shows a
 * status that is no longer *_IN_PROGRESS (GetStack has the last word: it confirms the end, or says the operation
 * goes on, e.g. CREATE_FAILED turning into a rollback); on every poll while the events show none of the stack's
 * own or cannot be read (then they are not asked again); and after {@link STATUS_CHECK_MS} without one.
 */
export async function followStack(
  api: StackApi,
  stackId: string,
  operation: StackOperation,
  seen: Set<string>,
  options: FollowOptions,
): Promise<Followed> {
  const clock = api.clock;
  const started = clock.now();
  const events: StackEvent[] = [];
  const inProgress = new Set<string>();
  let status = `${operation.toUpperCase()}_IN_PROGRESS`;
  let eventsAvailable = true;
  /** Whether ListStackEvents has shown the stack's own status; until it does, GetStack is asked on every poll. */
  let ownEventsShown = false;
  let lastCheck = started;
  const isOwn = (event: StackEvent) =>
    event.resourceType === STACK_RESOURCE_TYPE &&
    (event.physicalResourceId === stackId || event.logicalResourceId === options.stackName);
  for (;;) {
    await sleep(pollDelay(options.pollIntervalMs, clock.now() - started), options.signal, clock);
    let check = !eventsAvailable || clock.now() - lastCheck >= STATUS_CHECK_MS;
    let withOutputs = false;
    let eventsError: Error | undefined;
    if (eventsAvailable) {
      let fresh: StackEvent[] = [];
      try {
        fresh = await api.newEvents(stackId, seen);
      } catch (err) {
        if (err instanceof DeployError && err.code === 'Aborted') {
          throw err;
        }
        // A deleted stack may stop answering ListStackEvents; GetStack tells whether that is it.
        eventsError = err as Error;
        check = true;
      }
      for (const event of fresh) {
        events.push(event);
        if (isOwn(event)) {
          ownEventsShown = true;
          status = event.status;
          if (!isInProgress(event.status)) {
            check = true;
            withOutputs = event.status === options.successStatus;
          }
        } else if (event.resourceType !== STACK_RESOURCE_TYPE) {
          if (isInProgress(event.status)) {
            inProgress.add(event.logicalResourceId);
          } else {
            inProgress.delete(event.logicalResourceId);
          }
        }
        const constructPath = options.constructPath?.(event.logicalResourceId);
        options.onEvent?.({
          type: 'stack-event',
          stackName: options.stackName,
          event,
          ...(constructPath && { constructPath }),
        });
      }
      if (!ownEventsShown) {
        check = true;
      }
    }
    if (check) {
      const stack = await api.get(stackId, withOutputs);
      lastCheck = clock.now();
      status = stack?.status ?? 'DELETE_COMPLETE';
      if (eventsError && status !== 'DELETE_COMPLETE') {
        // Events are a view, not the outcome (e.g. the identity may not ListStackEvents): follow the status.
        eventsAvailable = false;
        options.onEvent?.({
          type: 'message',
          stackName: options.stackName,
          text: `stack events are unavailable (${eventsError.message}); following the stack status only`,
        });
      }
      if (!isInProgress(status)) {
        options.onEvent?.({
          type: 'poll',
          stackName: options.stackName,
          status,
          elapsedMs: clock.now() - started,
        });
        await settleGroups(options, started, clock);
        return { stack, outputsRead: withOutputs && stack !== undefined, events };
      }
    }
    options.onEvent?.({
      type: 'poll',
      stackName: options.stackName,
      status,
      elapsedMs: clock.now() - started,
    });
    await options.stackGroups?.poll();
    if (options.imageCopies && inProgress.size > 0) {
      for (const progress of await options.imageCopies.progress(stackId, [...inProgress])) {
        options.onEvent?.({ type: 'image-copy-progress', stackName: options.stackName, ...progress });
      }
    }
  }
}

/**
 * Once the stack has ended: a last reading of its stack groups, then their operations still going are followed to
 * their end (e.g. the deletion of instances a failed create rolls back), with the same clock and backoff.
 */
async function settleGroups(
  options: FollowOptions,
  started: number,
  clock: StackApi['clock'],
): Promise<void> {
  const groups = options.stackGroups;
  if (!groups) {
    return;
  }
  await groups.poll();
  if (groups.busy) {
    options.onEvent?.({
      type: 'message',
      stackName: options.stackName,
      text: `the stack has ended; following ${groups.describeBusy()} to its end`,
    });
  }
  while (groups.busy) {
    await sleep(pollDelay(options.pollIntervalMs, clock.now() - started), options.signal, clock);
    await groups.poll();
  }
}
