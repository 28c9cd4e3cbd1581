/**
 * How an ImageCopy's create/delete timeouts (minutes, as the user writes them) become the custom resource's
 * `Timeout` and the handler's `CreateTimeoutSeconds`/`DeleteTimeoutSeconds`. Kept apart from the construct so
 * the rule is one small pure function (and stays out of the jsii-facing API, which has no free functions).
 */
import {
  customResourceTimeoutSeconds,
  DEFAULT_CREATE_TIMEOUT_MINUTES,
  DEFAULT_DELETE_TIMEOUT_MINUTES,
  MAX_CUSTOM_RESOURCE_TIMEOUT_SECONDS,
  RESPONSE_MARGIN_SECONDS,
} from './protocol';

// The rule's constants live in protocol.ts, which the handler also reads (it computes the Timeout back).
export { MAX_CUSTOM_RESOURCE_TIMEOUT_SECONDS, RESPONSE_MARGIN_SECONDS };

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
  const timeoutSeconds = customResourceTimeoutSeconds(create, remove);
  const handlerBound = timeoutSeconds - RESPONSE_MARGIN_SECONDS;
  return {
    timeoutSeconds,
    createTimeoutSeconds: Math.min(create, handlerBound),
    deleteTimeoutSeconds: Math.min(remove, handlerBound),
  };
}
