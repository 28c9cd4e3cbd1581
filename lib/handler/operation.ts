/**
 * What every step of an operation shares: the event, the clock and the invocation's time budget, the log, the
 * ECS image calls, the operation's state and its current deadline (the create or delete timeout).
 */
import type { CustomResourceEvent } from './event';
import type { EcsImages } from './images';
import type { Invocation } from './invocation';
import type { Logger } from './log';
import type { OperationState } from './operation-state';
import type { PollPlannerOptions } from './poll-planner';
import type { Clock } from './retry';

export interface OperationContext {
  readonly event: CustomResourceEvent;
  readonly clock: Clock;
  readonly invocation: Invocation;
  readonly log: Logger;
  readonly images: EcsImages;
  readonly state: OperationState;
  readonly polling: PollPlannerOptions;
  /** When the running phase must be over (ms since epoch); ECS calls do not retry past it. */
  deadline: number;
}

/** `10 minutes`, `90 seconds`, `1 minute 30 seconds`: a timeout as a person reads it. */
export function formatDuration(seconds: number): string {
  const whole = Math.round(seconds);
  const minutes = Math.floor(whole / 60);
  const rest = whole % 60;
  const unit = (count: number, name: string) => `${count} ${name}${count === 1 ? '' : 's'}`;
  if (minutes === 0) {
    return unit(rest, 'second');
  }
  return rest === 0 ? unit(minutes, 'minute') : `${unit(minutes, 'minute')} ${unit(rest, 'second')}`;
}
