/**
 * What every step of an operation shares: the event, the clock and the invocation's time budget, the log, the
 * ECS image calls and the operation's state (whose `deadline` is the running phase's create or delete timeout).
 * Built by {@link createOperationContext}, in the handler and in tests alike.
 */
import type { Clock } from '../clock';
import type { EcsApi } from './clients';
import type { CustomResourceEvent } from './event';
import { EcsImages } from './images';
import type { Invocation } from './invocation';
import type { Logger } from './log';
import type { OperationState } from './operation-state';
import type { PollPlannerOptions } from './poll-planner';

export interface OperationContext {
  readonly event: CustomResourceEvent;
  readonly clock: Clock;
  readonly invocation: Invocation;
  readonly log: Logger;
  readonly images: EcsImages;
  readonly state: OperationState;
  readonly polling: PollPlannerOptions;
}

/** What an operation is built from. */
export interface OperationInputs extends Omit<OperationContext, 'images'> {
  /** The ECS API the image calls go through. */
  readonly ecs: EcsApi;
}

/** The context of one operation: its image calls retry within the state's deadline, handing over as they wait. */
export function createOperationContext(inputs: OperationInputs): OperationContext {
  const { ecs, ...shared } = inputs;
  const { clock, invocation, log, state } = shared;
  return {
    ...shared,
    images: new EcsImages(ecs, { clock, invocation, deadline: () => state.deadline }, log),
  };
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
