/**
 * The FC 3.0 REST API (2023-03-30) LocalCloud serves to the `@alicloud/fc20230330` client: each path and method is
 * an action (CreateFunction, ListFunctions, GetFunction, UpdateFunction, DeleteFunction, InvokeFunction); an action
 * reads its request (`params.ts`), is authorized on the function's ARN, asks the model (`function-compute.ts`) and
 * answers in FC's shape (JSON bodies, 202 / 204, `x-fc-request-id`, `x-fc-error-type`).
 */
import { ApiError } from '../errors';
import type { IncomingCall, Route, RouteResponse } from '../server';
import type { RequestContext } from '../service';
import type { FunctionCompute } from './function-compute';
import { functionNotFound } from './functions';
import { decodePathSegment, parseJson, specFromInput } from './params';

const API_PREFIX = '/2023-03-30/functions';

/** The FC 3.0 API, mounted on LocalCloud's server under `/2023-03-30/functions`. */
export class FcApi implements Route {
  readonly prefix = API_PREFIX;
  readonly product = 'fc';
  readonly signed = true;

  constructor(
    private readonly fc: FunctionCompute,
    private readonly accountId: string,
  ) {}

  /**
   * The API a call is, from its path and method: `NotFound` for a path FC 3.0 does not have, `Unknown` for a
   * method the path does not take.
   */
  actionOf(call: IncomingCall): string {
    const rest = call.pathname.slice(API_PREFIX.length);
    if (rest !== '' && !rest.startsWith('/')) {
      return 'NotFound';
    }
    const segments = rest
      .replace(/^\/|\/$/g, '')
      .split('/')
      .filter((s, _i, all) => s !== '' || all.length > 1);
    const byMethod = (actions: Record<string, string>) => actions[call.method] ?? 'Unknown';
    if (segments.length === 0) {
      return byMethod({ GET: 'ListFunctions', POST: 'CreateFunction' });
    }
    if (segments.some((s) => s === '')) {
      return 'NotFound';
    }
    if (segments.length === 1) {
      return byMethod({ GET: 'GetFunction', PUT: 'UpdateFunction', DELETE: 'DeleteFunction' });
    }
    if (segments.length === 2 && segments[1] === 'invocations') {
      return byMethod({ POST: 'InvokeFunction' });
    }
    return 'NotFound';
  }

  async handle(call: IncomingCall, ctx: RequestContext | undefined): Promise<RouteResponse> {
    const action = this.actionOf(call);
    const rest = call.pathname.slice(API_PREFIX.length).replace(/^\//, '');
    const name = decodePathSegment(rest.split('/')[0] ?? '');
    const regionOf = (): string => this.regionFor(call, name);
    const authorize = (region: string, fnName: string) =>
      ctx!.authorize(`fc:${action}`, [`acs:fc:${region}:${this.accountId}:functions/${fnName}`]);
    switch (action) {
      case 'CreateFunction': {
        const region = requireRegion(call);
        const input = parseJson(call.body) as Record<string, any>;
        authorize(region, String(input.functionName ?? ''));
        const spec = specFromInput(input);
        return { body: this.fc.createFunction(region, spec) };
      }
      case 'ListFunctions': {
        const region = requireRegion(call);
        authorize(region, '*');
        return { body: { functions: this.fc.listFunctions(region) } };
      }
      case 'GetFunction': {
        const region = regionOf();
        authorize(region, name);
        return { body: this.fc.requireFunction(region, name) };
      }
      case 'UpdateFunction': {
        const region = regionOf();
        authorize(region, name);
        const input = parseJson(call.body) as Record<string, any>;
        return {
          body: this.fc.updateFunction(region, name, specFromInput({ ...input, functionName: name }, true)),
        };
      }
      case 'DeleteFunction': {
        const region = regionOf();
        authorize(region, name);
        this.fc.deleteFunction(region, name);
        return { status: 204 };
      }
      case 'InvokeFunction': {
        const region = regionOf();
        authorize(region, name);
        const isAsync = (call.headers['x-fc-invocation-type'] ?? '').toLowerCase() === 'async';
        const result = await this.fc.invoke(region, name, call.body, { async: isAsync });
        const headers: Record<string, string> = { 'x-fc-request-id': result.requestId };
        if (isAsync) {
          return { status: 202, headers };
        }
        if (result.errorType) {
          headers['x-fc-error-type'] = result.errorType;
        }
        return { status: 200, headers, body: result.payload };
      }
      case 'NotFound':
        throw new ApiError('NotFound', `${call.pathname} is not an FC 3.0 API path.`, 404);
      default:
        throw new ApiError(
          'MethodNotAllowed',
          `${call.method} ${call.pathname} is not an FC 3.0 API LocalCloud serves.`,
          405,
        );
    }
  }

  /** The region of a function call: the endpoint's, or on the shared endpoint the only region holding the name. */
  private regionFor(call: IncomingCall, functionName: string): string {
    if (call.endpointRegion) {
      return call.endpointRegion;
    }
    const regions = this.fc.regionsWith(functionName);
    if (regions.length === 1) {
      return regions[0];
    }
    if (regions.length === 0) {
      throw functionNotFound(functionName, 'any region');
    }
    return requireRegion(call);
  }
}

/** FC 3.0 endpoints are regional: a call that lists or creates must come in on its region's endpoint. */
function requireRegion(call: IncomingCall): string {
  if (!call.endpointRegion) {
    throw new ApiError(
      'InvalidArgument',
      "FC 3.0 endpoints are regional: call the region's endpoint (LocalCloud: cloud.fc.endpoint(regionId)).",
      400,
    );
  }
  return call.endpointRegion;
}
