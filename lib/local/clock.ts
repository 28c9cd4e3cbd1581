/**
 * The clock LocalCloud's ROS model runs on (stack timeouts, custom-resource waits, change-set computation, the
 * times it shows, ClientToken lifetimes), injectable so that tests move time forward instead of sleeping
 * (`LocalCloud.start({ ros: { clock } })`): the shared clock of `lib/clock.ts` without randomness, which LocalCloud's
 * ROS does not need.
 */
import { type Clock as SharedClock, sleepFor } from '../clock';

/** `now` and an abortable `sleep` (see `lib/clock.ts`). */
export type Clock = Pick<SharedClock, 'now' | 'sleep'>;

/**
 * The real clock: `Date.now` and `setTimeout`. A wait does not keep the process alive on its own: LocalCloud's
 * server does while it serves, and a stopped LocalCloud leaves no timer behind.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleepFor(ms, signal, { unref: true }),
};
