import { DeployError } from './errors';
import type { RetryNotice } from './retry';
import { sleep } from './retry';
import { ImageCopyProgress, ImageCopyWatcher } from './image-progress';
import { isInProgress, STACK_RESOURCE_TYPE, StackApi, StackDescription, StackEvent } from './stack-api';

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
  /** After each GetStack while following: the status and how long the operation has run. */
  | { readonly type: 'poll'; readonly stackName: string; readonly status: string; readonly elapsedMs: number }
  /** An ImageCopy's copy progress, read from ECS (best effort). */
  | ({ readonly type: 'image-copy-progress'; readonly stackName: string } & ImageCopyProgress)
  /** An API call is retried (throttling, 5xx, a dropped connection). */
  | { readonly type: 'retry'; readonly stackName: string; readonly notice: RetryNotice }
  /** Anything else worth telling (e.g. "deleting the rolled-back stack before creating it again"). */
  | { readonly type: 'message'; readonly stackName: string; readonly text: string };

export interface FollowOptions {
  readonly stackName: string;
  readonly onEvent?: (event: DeployEvent) => void;
  /** Time between polls: starts at `min`, grows to `max`. @default { min: 1000, max: 5000 } */
  readonly pollIntervalMs?: number | { readonly min: number; readonly max: number };
  readonly signal?: AbortSignal;
  /** Maps a logical id to its construct path, for events. */
  readonly constructPath?: (logicalId: string) => string | undefined;
  readonly imageCopies?: ImageCopyWatcher;
}

export interface Followed {
  /** The stack at the end; undefined when it is gone (deleted). */
  readonly stack: StackDescription | undefined;
  /** The events of this operation, oldest first. */
  readonly events: StackEvent[];
}

/**
 * Follows a stack operation to its end: GetStack, then the new ListStackEvents entries (after the GetStack, so
 * the last poll also shows the events that led to the final status), until the status is no longer *_IN_PROGRESS.
 */
export async function followStack(
  api: StackApi,
  stackId: string,
  seen: Set<string>,
  options: FollowOptions,
): Promise<Followed> {
  const started = Date.now();
  const { min, max } =
    typeof options.pollIntervalMs === 'number'
      ? { min: options.pollIntervalMs, max: options.pollIntervalMs }
      : (options.pollIntervalMs ?? { min: 1000, max: 5000 });
  const events: StackEvent[] = [];
  const inProgress = new Set<string>();
  let eventsAvailable = true;
  for (let poll = 0; ; poll++) {
    const stack = await api.get(stackId);
    const fresh = !eventsAvailable
      ? []
      : await api.newEvents(stackId, seen).catch((err: unknown) => {
          if (err instanceof DeployError && err.code === 'Aborted') throw err;
          // A deleted stack may stop answering ListStackEvents; the status is what matters then.
          if (!stack) return [];
          // Events are a view, not the outcome (e.g. the identity may not ListStackEvents): follow the status.
          eventsAvailable = false;
          options.onEvent?.({
            type: 'message',
            stackName: options.stackName,
            text: `stack events are unavailable (${(err as Error).message}); following the stack status only`,
          });
          return [];
        });
    for (const event of fresh) {
      events.push(event);
      if (event.resourceType !== STACK_RESOURCE_TYPE) {
        if (isInProgress(event.status)) inProgress.add(event.logicalResourceId);
        else inProgress.delete(event.logicalResourceId);
      }
      const constructPath = options.constructPath?.(event.logicalResourceId);
      options.onEvent?.({
        type: 'stack-event',
        stackName: options.stackName,
        event,
        ...(constructPath && { constructPath }),
      });
    }
    const status = stack?.status ?? 'DELETE_COMPLETE';
    options.onEvent?.({
      type: 'poll',
      stackName: options.stackName,
      status,
      elapsedMs: Date.now() - started,
    });
    if (!isInProgress(status)) return { stack, events };
    if (options.imageCopies && inProgress.size > 0) {
      for (const progress of await options.imageCopies.progress(stackId, [...inProgress])) {
        options.onEvent?.({ type: 'image-copy-progress', stackName: options.stackName, ...progress });
      }
    }
    await sleep(Math.min(max, Math.round(min * 1.25 ** poll)), options.signal);
  }
}
