import Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import Ros from '@alicloud/ros20190910';
import {
  LocalCloud,
  type AccessKey,
  type LocalCloudOptions,
  type TemporaryCredentials,
} from '../../lib/local';

/** Test helpers around a LocalCloud: one started for a test body and stopped after it, and SDK clients for it. */

/**
 * Runs `body` with a LocalCloud started with `options` (none: the defaults), and stops the LocalCloud afterwards,
 * whether the body passed or failed.
 */
export async function withCloud<T>(body: (cloud: LocalCloud) => Promise<T>): Promise<T>;
export async function withCloud<T>(
  options: LocalCloudOptions,
  body: (cloud: LocalCloud) => Promise<T>,
): Promise<T>;
export async function withCloud<T>(
  first: LocalCloudOptions | ((cloud: LocalCloud) => Promise<T>),
  second?: (cloud: LocalCloud) => Promise<T>,
): Promise<T> {
  const [options, body] = typeof first === 'function' ? [{}, first] : [first, second!];
  const cloud = await LocalCloud.start(options);
  try {
    return await body(cloud);
  } finally {
    await cloud.stop();
  }
}

/** An access key (the root account's, or a role's temporary credentials with their `securityToken`). */
type Credentials = AccessKey | TemporaryCredentials;

/** The connection settings of a real SDK client for `cloud`: plain HTTP, the root credentials unless given. */
export function clientConfig(
  cloud: LocalCloud,
  regionId = 'cn-hangzhou',
  credentials: Credentials = cloud.credentials,
): $OpenApiUtil.Config {
  return new $OpenApiUtil.Config({
    ...credentials,
    regionId,
    endpoint: cloud.endpoint,
    protocol: 'http',
  });
}

/** The real ROS client (`@alicloud/ros20190910`) for `cloud`, with its root credentials unless given. */
export function rosClient(cloud: LocalCloud, regionId = 'cn-hangzhou', credentials?: Credentials): Ros {
  return new Ros(clientConfig(cloud, regionId, credentials));
}

/** The real ECS client (`@alicloud/ecs20140526`) for `cloud`, with its root credentials unless given. */
export function ecsClient(cloud: LocalCloud, regionId = 'cn-hangzhou', credentials?: Credentials): Ecs {
  return new Ecs(clientConfig(cloud, regionId, credentials));
}
