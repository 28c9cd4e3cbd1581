/** What an RPC API is to LocalCloud's server (`RpcService`), and what it learns of a caller (`RequestContext`). */
import type { Principal } from './ram';

/** What a service handler learns about the caller and the request. */
export interface RequestContext {
  /** The request id LocalCloud answers with (also in error bodies). */
  readonly requestId: string;
  /** Who signed the request: the root account or a role's temporary credentials. */
  readonly principal: Principal;
  /** The account the caller belongs to: the account whose root key or role credentials signed the request. */
  readonly accountId: string;
  /**
   * Fails with `Forbidden.RAM` unless the caller's policy allows `action` (e.g. `ecs:CopyImage`) on every
   * resource ARN given (e.g. `acs:ecs:cn-hangzhou:<account>:image/m-123`). Root is always allowed.
   */
  authorize(action: string, resources: string[]): void;
}

/**
 * An RPC-style API (ECS 2014-05-26, ROS 2019-09-10): parameters are flat strings from the query (and the form
 * body); the answer is a JSON object (PascalCase) that LocalCloud completes with `RequestId`.
 */
export interface RpcService {
  /** The product code, as in RAM actions: `ecs`, `ros`. */
  readonly product: string;
  /** The API version routed to this service by `x-acs-version` / `Version`. */
  readonly version: string;
  /** The host name of the real service, used in error bodies (`HostId`). */
  readonly hostId: string;
  /** Handles one action; throws `ApiError` for API errors. Unknown actions must throw `InvalidAction.NotFound`. */
  handle(
    action: string,
    params: Record<string, string>,
    ctx: RequestContext,
  ): Promise<Record<string, unknown>>;
}
