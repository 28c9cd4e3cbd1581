/**
 * Function Compute 3.0 in LocalCloud, the model: the functions of each region (kept in the state) with FC's rules,
 * and their invocations, run by `runtime.ts`. The ROS engine creates functions and invokes them through it, tests
 * read invocations from it (`cloud.fc`), and the REST API (`api.ts`) serves it to SDK clients.
 */
import { randomUUID } from 'crypto';
import { ApiError } from '../errors';
import type { Ram } from '../ram';
import type { StateStore } from '../state';
import type { CloudVariants } from '../variants';
import {
  checksum,
  describe,
  functionNotFound,
  stripUndefined,
  validateSpec,
  type FunctionInfo,
  type FunctionSpec,
  type StoredFunction,
} from './functions';
import { FunctionRuntime, type InvocationHooks, type InvocationRecord, type InvokeResult } from './runtime';

export interface FunctionComputeOptions {
  readonly accountId: string;
  readonly ram: Ram;
  readonly store: StateStore;
  /** The endpoint a function's code reaches LocalCloud's APIs at (ECS, ROS). */
  readonly endpoint: () => string;
  /** The FC endpoint for a region (FC 3.0 endpoints are regional). */
  readonly regionalEndpoint: (region: string) => Promise<string>;
  readonly hooks?: InvocationHooks;
  /** Echo function logs to this process's stderr. Default: env `LOCALCLOUD_FC_LOGS=1`. */
  readonly echoLogs?: boolean;
  /** Retries of a failed asynchronous invocation (FC's `maxAsyncRetryAttempts`). Default 3, as in FC. */
  readonly maxAsyncRetryAttempts?: number;
  /** How a failed asynchronous invocation is retried (`fcAsyncRetry`). Default: with a new request id. */
  readonly asyncRetry?: () => CloudVariants['fcAsyncRetry'];
  /** How soon ECS lists every new copy, ms, told to functions (see `FunctionRuntimeOptions.listingBoundMs`). */
  readonly listingBoundMs?: () => number | undefined;
}

interface FcState {
  functions: Record<string, Record<string, StoredFunction>>;
}

/**
 * Function Compute 3.0 in LocalCloud: functions created from a zip (by the API or the ROS engine) and run in a
 * child `node` process per invocation, with the event as a Buffer and an FC-like context whose credentials come
 * from the function's RAM role. The timeout is enforced by killing the process.
 */
export class FunctionCompute {
  private readonly state: FcState;
  private readonly runtime: FunctionRuntime;

  constructor(private readonly options: FunctionComputeOptions) {
    this.state = options.store.section<FcState>('fc', () => ({ functions: {} }));
    this.runtime = new FunctionRuntime({
      ...options,
      // A retry runs the function as it is then; one deleted meanwhile is not retried.
      lookup: (regionId, functionName) => this.state.functions[regionId]?.[functionName],
    });
  }

  createFunction(regionId: string, spec: FunctionSpec): FunctionInfo {
    validateSpec(spec);
    const functions = (this.state.functions[regionId] ??= {});
    if (functions[spec.functionName]) {
      throw new ApiError(
        'FunctionAlreadyExists',
        `function '${spec.functionName}' already exists in ${regionId}`,
        409,
      );
    }
    const now = isoNow();
    const stored: StoredFunction = {
      ...spec,
      timeout: spec.timeout ?? 3,
      memorySize: spec.memorySize ?? 128,
      regionId,
      functionId: randomUUID(),
      functionArn: `acs:fc:${regionId}:${this.options.accountId}:functions/${spec.functionName}`,
      codeSize: Buffer.from(spec.zipFile, 'base64').length,
      codeChecksum: checksum(spec.zipFile),
      createdTime: now,
      lastModifiedTime: now,
    };
    functions[spec.functionName] = stored;
    this.options.store.changed();
    return describe(stored);
  }

  updateFunction(regionId: string, functionName: string, changes: Partial<FunctionSpec>): FunctionInfo {
    const current = this.stored(regionId, functionName);
    const merged = { ...current, ...stripUndefined(changes), functionName, lastModifiedTime: isoNow() };
    validateSpec(merged);
    const next: StoredFunction = {
      ...merged,
      codeSize: Buffer.from(merged.zipFile, 'base64').length,
      codeChecksum: checksum(merged.zipFile),
    };
    this.state.functions[regionId][functionName] = next;
    this.options.store.changed();
    return describe(next);
  }

  getFunction(regionId: string, functionName: string): FunctionInfo | undefined {
    const fn = this.state.functions[regionId]?.[functionName];
    return fn && describe(fn);
  }

  /** A function that must exist: `FunctionNotFound` (404) otherwise. */
  requireFunction(regionId: string, functionName: string): FunctionInfo {
    return describe(this.stored(regionId, functionName));
  }

  listFunctions(regionId: string): FunctionInfo[] {
    return Object.values(this.state.functions[regionId] ?? {}).map(describe);
  }

  deleteFunction(regionId: string, functionName: string): void {
    this.stored(regionId, functionName);
    delete this.state.functions[regionId][functionName];
    this.options.store.changed();
  }

  /** The regions that have a function of this name. */
  regionsWith(functionName: string): string[] {
    return Object.keys(this.state.functions).filter((r) => this.state.functions[r][functionName]);
  }

  /** The FC endpoint of a region, for an `@alicloud/fc20230330` client (with `protocol: 'http'`). */
  endpoint(regionId: string): Promise<string> {
    return this.options.regionalEndpoint(regionId);
  }

  /** Invocations so far, oldest first, with their logs. */
  invocations(filter: { regionId?: string; functionName?: string } = {}): InvocationRecord[] {
    return this.runtime.invocations(filter);
  }

  /** Resolves when no invocation is running (async ones included). */
  settled(): Promise<void> {
    return this.runtime.settled();
  }

  /**
   * Invokes a function. Synchronous: resolves with its result. Asynchronous: resolves at once (with an empty
   * payload); the invocation runs in the background, as FC's async invocation does, retried as FC retries one that
   * fails.
   */
  async invoke(
    regionId: string,
    functionName: string,
    event: Buffer,
    options: { async?: boolean } = {},
  ): Promise<InvokeResult> {
    return this.runtime.invoke(this.stored(regionId, functionName), event, options);
  }

  /** Kills every running invocation (when LocalCloud stops). */
  stop(): Promise<void> {
    return this.runtime.stop();
  }

  private stored(regionId: string, functionName: string): StoredFunction {
    const fn = this.state.functions[regionId]?.[functionName];
    if (!fn) {
      throw functionNotFound(functionName, regionId);
    }
    return fn;
  }
}

const isoNow = () => new Date().toISOString();
