/**
 * The ROS stack group API and Resource Manager's `ListAccountsForParent`, for `Custom::ImageDistribution`: RPC calls
 * over the SDK core's generic signed client, as `@alicloud/ros20190910` and `@alicloud/resourcemanager20200331` send
 * them (list parameters of the *Shrink* requests JSON-encoded, `Parameters.N.ParameterKey`).
 *
 * Endpoints: `ALIBABA_CLOUD_ROS_ENDPOINT` and `ALIBABA_CLOUD_RESOURCEMANAGER_ENDPOINT` (`host:port`) override the
 * public ones, `ros.aliyuncs.com` and `resourcemanager.aliyuncs.com` (both APIs are global: the region travels as
 * `RegionId`).
 */
import OpenApi, { $OpenApiUtil, OpenApiUtil } from '@alicloud/openapi-core';
import { rpcParams } from '../openapi-rpc';
import type { CallOptions, ClientSettings } from './clients';

/** Environment variables that override the public endpoints of the two APIs. */
export const STACK_GROUP_ENDPOINT_ENVIRONMENT = {
  ros: 'ALIBABA_CLOUD_ROS_ENDPOINT',
  resourceManager: 'ALIBABA_CLOUD_RESOURCEMANAGER_ENDPOINT',
} as const;

const ROS_VERSION = '2019-09-10';
const RESOURCE_MANAGER_VERSION = '2020-03-31';

/** One RPC call: the query parameters as the API spells them, the raw PascalCase JSON body of the answer. */
export interface RpcApi {
  call(
    action: string,
    query: Record<string, unknown>,
    options?: CallOptions,
  ): Promise<Record<string, unknown>>;
}

/** The two APIs a stack group needs. */
export interface StackGroupClients {
  readonly ros: RpcApi;
  readonly resourceManager: RpcApi;
}

/** An RPC API at one endpoint, V3-signed with the function's credentials. */
class OpenApiRpc implements RpcApi {
  private readonly client: OpenApi;

  constructor(
    settings: ClientSettings,
    endpoint: string,
    private readonly version: string,
  ) {
    const { accessKeyId, accessKeySecret, securityToken } = settings.credentials;
    this.client = new OpenApi(
      new $OpenApiUtil.Config({
        accessKeyId,
        accessKeySecret,
        ...(securityToken ? { securityToken } : {}),
        regionId: settings.regionId,
        endpoint,
        protocol: settings.endpoints.protocol,
        connectTimeout: settings.connectTimeoutMs ?? 5_000,
        readTimeout: settings.readTimeoutMs ?? 20_000,
        userAgent: 'ros-cdk-image-copy-handler',
      }),
    );
  }

  async call(
    action: string,
    query: Record<string, unknown>,
    options?: CallOptions,
  ): Promise<Record<string, unknown>> {
    const request = new $OpenApiUtil.OpenApiRequest({ query: OpenApiUtil.query(query) });
    const timeoutMs = options?.timeoutMs;
    const runtime = (
      timeoutMs !== undefined && Number.isFinite(timeoutMs)
        ? { readTimeout: Math.max(1, Math.round(timeoutMs)), connectTimeout: Math.min(5_000, timeoutMs) }
        : {}
    ) as Parameters<OpenApi['callApi']>[2];
    const answer = await this.client.callApi(rpcParams(action, this.version), request, runtime);
    return (answer.body ?? {}) as Record<string, unknown>;
  }
}

/** The clients of one invocation, at the endpoints the environment names (LocalCloud's FC sets both). */
export function createStackGroupClients(
  settings: ClientSettings,
  env: NodeJS.ProcessEnv = process.env,
): StackGroupClients {
  const rosEndpoint = env[STACK_GROUP_ENDPOINT_ENVIRONMENT.ros]?.trim() || 'ros.aliyuncs.com';
  const rmEndpoint =
    env[STACK_GROUP_ENDPOINT_ENVIRONMENT.resourceManager]?.trim() || 'resourcemanager.aliyuncs.com';
  return {
    ros: new OpenApiRpc(settings, rosEndpoint, ROS_VERSION),
    resourceManager: new OpenApiRpc(settings, rmEndpoint, RESOURCE_MANAGER_VERSION),
  };
}
