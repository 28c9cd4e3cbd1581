/**
 * Where and as whom the deploy helper calls ROS: the connection options, the credentials (explicit, an aliyun CLI
 * profile, or the default chain, checked to exist before any call) and the ROS client built from them.
 */
import Credential, { CLIProfileCredentialsProvider, Config as CredentialConfig } from '@alicloud/credentials';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import Ros from '@alicloud/ros20190910';
import { type Clock, systemClock } from '../clock';
import { DeployError, LIBRARY_WORDING, type Wording } from './errors';
import { missingProfile } from './profile';
import type { RetryNotice, RetryOptions } from './retry';

export { missingProfile };

/** An access key (with a security token for STS credentials). */
export interface AccessKeyCredentials {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken?: string;
}

/** Where and as whom the deploy helper calls ROS. */
export interface ConnectionOptions {
  /** The region of the stack, e.g. `cn-hangzhou`. ROS needs it on every request. */
  readonly regionId: string;
  /**
   * The API endpoint as `host[:port]`, without a scheme (e.g. LocalCloud's `127.0.0.1:8123`).
   * @default ros.aliyuncs.com (and ecs.<region>.aliyuncs.com for image copy progress)
   */
  readonly endpoint?: string;
  /**
   * The ECS endpoint (`host[:port]`) for image copy progress.
   * @default `endpoint` when that is given (LocalCloud serves both), else ecs.<region>.aliyuncs.com
   */
  readonly ecsEndpoint?: string;
  /** @default 'https' */
  readonly protocol?: 'http' | 'https';
  /**
   * Explicit credentials: an access key, or an `@alicloud/credentials` `Credential`.
   * @default the default credential chain (environment, OIDC, aliyun CLI profile, credentials file, ECS RAM role)
   */
  readonly credentials?: AccessKeyCredentials | Credential;
  /** An aliyun CLI profile (`~/.aliyun/config.json`) to take credentials from, instead of the default chain. */
  readonly profile?: string;
  /** Backoff for throttling, 5xx and dropped connections. */
  readonly retry?: RetryOptions;
  /** Told before each retry (e.g. to show "throttled, retrying in 4 s"). */
  readonly onRetry?: (notice: RetryNotice) => void;
  /** Time for waits (retries, polls) and randomness (jitter). @default the system clock */
  readonly clock?: Clock;
}

/** A connection to ROS in one region, with credentials that were checked to exist. */
export interface RosConnection {
  readonly ros: Ros;
  readonly regionId: string;
  /** Config for other products' clients (ECS, for image copy progress) with the same credentials. */
  readonly config: (product: 'ecs', regionId: string) => $OpenApiUtil.Config;
  readonly retry: RetryOptions & { onRetry?: (notice: RetryNotice) => void };
  readonly clock: Clock;
}

/** How to provide credentials, naming the options as `wording` does. */
export function missingCredentialsHelp(wording: Wording): string {
  return [
    'No Alibaba Cloud credentials found. Provide them in one of these ways:',
    '  - environment: ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN for STS)',
    `  - an aliyun CLI profile: run \`aliyun configure\`; choose one with ${wording.option('profile')} or ALIBABA_CLOUD_PROFILE`,
    '  - a credentials file: ~/.alibabacloud/credentials (or ALIBABA_CLOUD_CREDENTIALS_FILE)',
    '  - in CI, OIDC: ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE',
    '  - on ECS, the instance RAM role (ALIBABA_CLOUD_ECS_METADATA)',
    `Or try everything without an account against LocalCloud: add ${wording.option('local')}.`,
  ].join('\n');
}

/** {@link missingCredentialsHelp} in the library's words. */
export const MISSING_CREDENTIALS_HELP = missingCredentialsHelp(LIBRARY_WORDING);

/** Resolves the credentials (failing with one clear `MissingCredentials` message) and builds the ROS client. */
export async function connect(options: ConnectionOptions): Promise<RosConnection> {
  if (!options.regionId) {
    throw new DeployError('MissingRegion', (w) => `No region: pass ${w.option('regionId')}.`);
  }
  const credential = await resolveCredential(options);
  const base = {
    credential,
    regionId: options.regionId,
    ...(options.protocol && { protocol: options.protocol }),
    connectTimeout: 10_000,
    readTimeout: 90_000,
    userAgent: 'ros-cdk-image-copy-deploy',
  };
  const ros = new Ros(
    new $OpenApiUtil.Config({ ...base, ...(options.endpoint && { endpoint: options.endpoint }) }),
  );
  return {
    ros,
    regionId: options.regionId,
    config: (_product, regionId) =>
      new $OpenApiUtil.Config({
        ...base,
        regionId,
        readTimeout: 20_000,
        endpoint: options.ecsEndpoint ?? options.endpoint ?? `ecs.${regionId}.aliyuncs.com`,
      }),
    retry: { ...options.retry, onRetry: options.onRetry },
    clock: options.clock ?? systemClock,
  };
}

async function resolveCredential(options: ConnectionOptions): Promise<Credential> {
  const given = options.credentials;
  let credential: Credential;
  if (given instanceof Credential) {
    credential = given;
  } else if (given) {
    credential = new Credential(
      new CredentialConfig({
        type: given.securityToken ? 'sts' : 'access_key',
        accessKeyId: given.accessKeyId,
        accessKeySecret: given.accessKeySecret,
        ...(given.securityToken && { securityToken: given.securityToken }),
      }),
    );
  } else if (options.profile) {
    const problem = missingProfile(options.profile);
    if (problem) {
      throw new DeployError('MissingCredentials', problem);
    }
    credential = new Credential(
      null,
      CLIProfileCredentialsProvider.builder().withProfileName(options.profile).build(),
    );
  } else {
    credential = new Credential();
  }
  try {
    const resolved = await credential.getCredential();
    if (!resolved.accessKeyId && !resolved.bearerToken) {
      throw new Error('empty credentials');
    }
  } catch (err) {
    const why = options.profile ? `\n(profile "${options.profile}": ${firstLine(err)})` : '';
    throw new DeployError('MissingCredentials', (w) => missingCredentialsHelp(w) + why);
  }
  return credential;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}
