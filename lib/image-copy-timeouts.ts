/**
 * How an ImageCopy's create/delete timeouts (minutes, as the user writes them) become the custom resource's
 * `Timeout` and the handler's `CreateTimeoutSeconds`/`DeleteTimeoutSeconds`. Kept apart from the construct so
 * the rule is one small pure function (and stays out of the jsii-facing API, which has no free functions).
 */
import {
  DEFAULT_CREATE_TIMEOUT_MINUTES,
  DEFAULT_DELETE_TIMEOUT_MINUTES,
  MAX_TIMEOUT_SECONDS,
} from './protocol';

/**
 * Time the handler keeps for itself after its own create/delete deadline: to cancel a late copy, answer ROS
 * (with retries) and absorb the delay of asynchronous re-invocations. ROS waits this much longer than the
 * handler works, so the handler, not ROS, decides how a timeout ends and can say why.
 */
export const RESPONSE_MARGIN_SECONDS = 300;

/** The custom resource's `Timeout` may not exceed 12 hours (ros-custom-resource.md §1). */
export const MAX_CUSTOM_RESOURCE_TIMEOUT_SECONDS = MAX_TIMEOUT_SECONDS;

/** What the template carries for one ImageCopy's timeouts. */
export interface ComputedTimeouts {
  /** `Timeout` of the `ALIYUN::ROS::CustomResource`, seconds. */
  readonly timeoutSeconds: number;
  /** `CreateTimeoutSeconds` parameter: the handler's bound on a create (and on a replacing copy). */
  readonly createTimeoutSeconds: number;
  /** `DeleteTimeoutSeconds` parameter: the handler's bound on a delete (and on removing a replaced copy). */
  readonly deleteTimeoutSeconds: number;
}

/**
 * The timeout rule:
 *
 * - create and delete default to 10 minutes each (Terraform's defaults) and become whole seconds (rounded up);
 * - `Timeout` = create + delete + {@link RESPONSE_MARGIN_SECONDS}, at most 43200 s. Create and delete add up
 *   because an update that replaces the copy does both in one request (copy anew, then remove the old copy);
 *   a Create or a Delete alone finishes well inside it. A generous `Timeout` costs nothing: the handler always
 *   answers on its own deadline.
 * - the handler's bounds are what the user asked for, but never more than `Timeout` minus the margin, so at
 *   the 12-hour cap the handler still answers before ROS gives up: `min(create, Timeout - margin)`.
 *
 * Inputs must already be validated (finite, more than 0, at most 720 minutes).
 */
export function computeTimeouts(createMinutes?: number, deleteMinutes?: number): ComputedTimeouts {
  const create = Math.ceil((createMinutes ?? DEFAULT_CREATE_TIMEOUT_MINUTES) * 60);
  const remove = Math.ceil((deleteMinutes ?? DEFAULT_DELETE_TIMEOUT_MINUTES) * 60);
  const timeoutSeconds = Math.min(
    MAX_CUSTOM_RESOURCE_TIMEOUT_SECONDS,
    create + remove + RESPONSE_MARGIN_SECONDS,
  );
  const handlerBound = timeoutSeconds - RESPONSE_MARGIN_SECONDS;
  return {
    timeoutSeconds,
    createTimeoutSeconds: Math.min(create, handlerBound),
    deleteTimeoutSeconds: Math.min(remove, handlerBound),
  };
}
