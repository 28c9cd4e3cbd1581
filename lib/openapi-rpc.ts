/**
 * The request shape of an RPC-style API call (ECS) over the SDK core's generic client, as the product SDKs send it:
 * every parameter in the query, a JSON answer. Shared by the handler and the deploy helper's progress reader.
 */
import { $OpenApiUtil } from '@alicloud/openapi-core';

/** The `Params` of an RPC call of `action` in API `version` (e.g. `DescribeImages`, `2014-05-26`). */
export function rpcParams(action: string, version: string): $OpenApiUtil.Params {
  return new $OpenApiUtil.Params({
    action,
    version,
    protocol: 'HTTPS',
    pathname: '/',
    method: 'POST',
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
}
