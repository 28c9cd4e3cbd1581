/**
 * The cold-start baseline of benchmark 2: the same handler, but its ECS calls go through the full
 * `@alicloud/ecs20140526` client — what an author who imports the ECS SDK ships. The calls themselves are the same
 * signed RPC requests (`callApi` of the full client, which extends the SDK core), so the difference measured is
 * what loading the full SDK costs. Bundled by `bench/bundles.ts` with plain esbuild (no stubs of the SDK core's
 * unused dependencies), never part of the published package.
 */
import Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil, OpenApiUtil } from '@alicloud/openapi-core';
import { createHandler } from '../lib/handler';
import { createCloudClients, type ClientFactory, type EcsApi } from '../lib/handler/clients';

const fullSdkClients: ClientFactory = (settings) => {
  const clients = new Map<string, Ecs>();
  const clientFor = (regionId: string): Ecs => {
    let client = clients.get(regionId);
    if (!client) {
      client = new Ecs(
        new $OpenApiUtil.Config({
          ...settings.credentials,
          regionId,
          endpoint: settings.endpoints.ecs(regionId),
          protocol: settings.endpoints.protocol,
        }),
      );
      clients.set(regionId, client);
    }
    return client;
  };
  const ecs: EcsApi = {
    async call(action, request) {
      const regionId = (request as { RegionId?: string }).RegionId ?? settings.regionId;
      const params = new $OpenApiUtil.Params({
        action,
        version: '2014-05-26',
        protocol: 'HTTPS',
        pathname: '/',
        method: 'POST',
        authType: 'AK',
        style: 'RPC',
        reqBodyType: 'formData',
        bodyType: 'json',
      });
      const answer = await clientFor(regionId).callApi(
        params,
        new $OpenApiUtil.OpenApiRequest({ query: OpenApiUtil.query(request) }),
        {} as Parameters<Ecs['callApi']>[2],
      );
      return answer.body ?? {};
    },
  };
  return { ecs, fc: createCloudClients(settings).fc };
};

export const handler = createHandler({ clients: fullSdkClients });
