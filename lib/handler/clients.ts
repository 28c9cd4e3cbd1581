/**
 * The handler's only way out to the cloud: an ECS API and a Function Compute invoker, both built on the SDK
 * core's generic signed client (`callApi`), V3-signed with the function's temporary credentials. This module is
 * the test seam: `createHandler({ clients })` may swap the factory, while the default one talks to whatever the
 * endpoint overrides point at (LocalCloud in tests, the public endpoints in Function Compute).
 *
 * Endpoints: `ALIBABA_CLOUD_ECS_ENDPOINT`, `ALIBABA_CLOUD_FC_ENDPOINT` (`host:port`, no scheme) and
 * `ALIBABA_CLOUD_ENDPOINT_PROTOCOL` (`http` | `https`) override the public ones, `ecs.<region>.aliyuncs.com` and
 * `<accountId>.<region>.fc.aliyuncs.com`.
 */
import { Readable } from 'stream';
import OpenApi, { $OpenApiUtil, OpenApiUtil } from '@alicloud/openapi-core';
import { rpcParams } from '../openapi-rpc';
import type { EcsAction, EcsRequest, EcsResponse } from './wire';

/** The function's temporary credentials, from the FC context. */
export interface Credentials {
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
  readonly securityToken?: string;
}

/** Where the APIs are. */
export interface Endpoints {
  /** `host[:port]` for ECS in a region. */
  ecs(regionId: string): string;
  /** `host[:port]` for FC 3.0 of an account in a region. */
  fc(accountId: string, regionId: string): string;
  readonly protocol: 'http' | 'https';
}

/** Environment variables that override the public endpoints. */
export const ENDPOINT_ENVIRONMENT = {
  ecs: 'ALIBABA_CLOUD_ECS_ENDPOINT',
  fc: 'ALIBABA_CLOUD_FC_ENDPOINT',
  protocol: 'ALIBABA_CLOUD_ENDPOINT_PROTOCOL',
} as const;

/** Endpoints from the environment's overrides, the public regional endpoints otherwise. */
export function endpointsFromEnvironment(env: NodeJS.ProcessEnv = process.env): Endpoints {
  const ecsOverride = env[ENDPOINT_ENVIRONMENT.ecs]?.trim();
  const fcOverride = env[ENDPOINT_ENVIRONMENT.fc]?.trim();
  const protocol = env[ENDPOINT_ENVIRONMENT.protocol]?.trim().toLowerCase() === 'http' ? 'http' : 'https';
  return {
    ecs: (regionId) => (ecsOverride ? ecsOverride : `ecs.${regionId}.aliyuncs.com`),
    fc: (accountId, regionId) => (fcOverride ? fcOverride : `${accountId}.${regionId}.fc.aliyuncs.com`),
    protocol,
  };
}

/** Per-call settings. */
export interface CallOptions {
  /** The call may take at most this long (connect and read), ms: the caller bounds it by its invocation's time. */
  readonly timeoutMs?: number;
}

/** One ECS call, no retry (the caller retries): the raw PascalCase JSON body of the answer. */
export interface EcsApi {
  call<A extends EcsAction>(
    action: A,
    request: EcsRequest<A>,
    options?: CallOptions,
  ): Promise<EcsResponse<A>>;
}

/** Starts a function asynchronously (FC 3.0 InvokeFunction, `x-fc-invocation-type: Async`). */
export interface FunctionInvoker {
  invokeAsync(functionName: string, payload: Buffer, options?: CallOptions): Promise<void>;
}

/** What the handler talks to. */
export interface CloudClients {
  readonly ecs: EcsApi;
  readonly fc: FunctionInvoker;
}

/** What a client factory gets to build the clients of one invocation. */
export interface ClientSettings {
  readonly credentials: Credentials;
  /** The function's account and region, for the FC endpoint. */
  readonly accountId: string;
  readonly regionId: string;
  readonly endpoints: Endpoints;
  /** Per-request socket timeouts, ms. */
  readonly connectTimeoutMs?: number;
  readonly readTimeoutMs?: number;
}

export type ClientFactory = (settings: ClientSettings) => CloudClients;

const ECS_VERSION = '2014-05-26';
const FC_VERSION = '2023-03-30';
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_READ_TIMEOUT_MS = 20_000;

/** `callApi`'s runtime options; the fields the core reads are all optional, so an empty object is enough. */
type RuntimeOptions = Parameters<OpenApi['callApi']>[2];

/** Runtime options bounding one call's connect and read time (the core reads both in ms). */
function runtimeFor(options: CallOptions | undefined): RuntimeOptions {
  const timeoutMs = options?.timeoutMs;
  if (timeoutMs === undefined || !Number.isFinite(timeoutMs)) {
    return {} as RuntimeOptions;
  }
  const bounded = Math.max(1, Math.round(timeoutMs));
  return {
    readTimeout: bounded,
    connectTimeout: Math.min(bounded, DEFAULT_CONNECT_TIMEOUT_MS),
  } as RuntimeOptions;
}

function openApiClient(settings: ClientSettings, endpoint: string, regionId: string): OpenApi {
  const { accessKeyId, accessKeySecret, securityToken } = settings.credentials;
  return new OpenApi(
    new $OpenApiUtil.Config({
      accessKeyId,
      accessKeySecret,
      ...(securityToken ? { securityToken } : {}),
      regionId,
      endpoint,
      protocol: settings.endpoints.protocol,
      connectTimeout: settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      readTimeout: settings.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS,
      userAgent: 'ros-cdk-image-copy-handler',
    }),
  );
}

/** ECS over the generic client: RPC style, every parameter in the query, as the ECS SDK sends it. */
export class OpenApiEcs implements EcsApi {
  private readonly clients = new Map<string, OpenApi>();

  constructor(private readonly settings: ClientSettings) {}

  async call<A extends EcsAction>(
    action: A,
    request: EcsRequest<A>,
    options?: CallOptions,
  ): Promise<EcsResponse<A>> {
    const regionId = (request as { RegionId?: string }).RegionId ?? this.settings.regionId;
    const params = rpcParams(action, ECS_VERSION);
    const openApiRequest = new $OpenApiUtil.OpenApiRequest({ query: OpenApiUtil.query(request) });
    const answer = await this.client(regionId).callApi(params, openApiRequest, runtimeFor(options));
    return (answer.body ?? {}) as EcsResponse<A>;
  }

  private client(regionId: string): OpenApi {
    let client = this.clients.get(regionId);
    if (!client) {
      client = openApiClient(this.settings, this.settings.endpoints.ecs(regionId), regionId);
      this.clients.set(regionId, client);
    }
    return client;
  }
}

/** FC 3.0 InvokeFunction over the generic client: ROA style, the payload as the body, as `@alicloud/fc20230330` sends it. */
export class OpenApiFunctionInvoker implements FunctionInvoker {
  constructor(private readonly settings: ClientSettings) {}

  async invokeAsync(functionName: string, payload: Buffer, options?: CallOptions): Promise<void> {
    const { accountId, regionId, endpoints } = this.settings;
    const client = openApiClient(this.settings, endpoints.fc(accountId, regionId), regionId);
    const params = new $OpenApiUtil.Params({
      action: 'InvokeFunction',
      version: FC_VERSION,
      protocol: 'HTTPS',
      pathname: `/${FC_VERSION}/functions/${encodeURIComponent(functionName)}/invocations`,
      method: 'POST',
      authType: 'AK',
      style: 'ROA',
      reqBodyType: 'json',
      bodyType: 'string',
    });
    const request = new $OpenApiUtil.OpenApiRequest({
      headers: { 'x-fc-invocation-type': 'Async' },
      stream: Readable.from([payload]),
    });
    await client.callApi(params, request, runtimeFor(options));
  }
}

/** The default factory: real signed clients against {@link ClientSettings.endpoints}. */
export const createCloudClients: ClientFactory = (settings) => ({
  ecs: new OpenApiEcs(settings),
  fc: new OpenApiFunctionInvoker(settings),
});
