/**
 * The region each stack is deployed to: the one given for that stack, else the one the app pinned it to (its
 * `env.region`), else the one given for all stacks, else `ALIBABA_CLOUD_REGION_ID`, else the aliyun CLI profile's
 * `region_id`, else the target's default (LocalCloud's cn-hangzhou).
 */
import { DeployError } from './errors';
import { profileRegion } from './profile';

export interface RegionOptions {
  /** The region of the stacks the app does not pin and `stackRegions` does not name. */
  readonly regionId?: string;
  /** The region of particular stacks, by stack name. It may not contradict a region the app pinned. */
  readonly stackRegions?: Readonly<Record<string, string>>;
  /** Where `ALIBABA_CLOUD_REGION_ID`, `ALIBABA_CLOUD_PROFILE` and `HOME` are read. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** The aliyun CLI profile whose `region_id` is a fallback. */
  readonly profile?: string;
  /** The region when nothing else gives one (a LocalCloud target's default). */
  readonly defaultRegionId?: string;
}

/** Finds the region of a stack by name, given the region its app pinned it to; see the module comment. */
export type RegionResolver = (stackName: string, pinned?: string) => string;

/**
 * A {@link RegionResolver}. It throws `RegionMismatch` for a `stackRegions` entry that contradicts the app's
 * pinned region (the template was made for that region), and `MissingRegion` when nothing gives a region.
 */
export function regionResolver(options: RegionOptions = {}): RegionResolver {
  const env = options.env ?? process.env;
  const fallback =
    options.regionId ??
    env.ALIBABA_CLOUD_REGION_ID ??
    profileRegion(env, options.profile) ??
    options.defaultRegionId;
  return (stackName, pinned) => {
    const explicit = options.stackRegions?.[stackName];
    if (explicit && pinned && explicit !== pinned) {
      throw new DeployError(
        'RegionMismatch',
        (w) =>
          `${w.option('stackRegions', { stackName, value: explicit })} contradicts the app, which pins ${stackName} ` +
          `to ${pinned} (its env.region) and made its template for that region: drop the ${w.optionNoun}, or change ` +
          "the stack's env in the app",
      );
    }
    const region = explicit ?? pinned ?? fallback;
    if (!region) {
      throw new DeployError(
        'MissingRegion',
        (w) =>
          `no region for stack ${stackName}: pass ${w.option('regionId')} ` +
          `(or ${w.option('stackRegions', { stackName })}), or set ALIBABA_CLOUD_REGION_ID, or a region_id in your ` +
          'aliyun CLI profile',
      );
    }
    return region;
  };
}
