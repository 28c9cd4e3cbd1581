import { ChildProcess, spawn } from 'child_process';
import { createHash, randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readZip } from '../zip';
import { ApiError } from './errors';
import type { Ram, TemporaryCredentials } from './ram';
import type { IncomingCall, Route, RouteResponse } from './server';
import type { RequestContext } from './service';
import type { StateStore } from './state';
import type { CloudVariants } from './variants';

/** What CreateFunction takes (FC 3.0's `CreateFunctionInput`, the subset LocalCloud runs). */
export interface FunctionSpec {
  readonly functionName: string;
  /** `nodejs*`: LocalCloud runs the code with its own `node`. */
  readonly runtime: string;
  /** `<file>.<export>`, e.g. `index.handler`. */
  readonly handler: string;
  /** Base64 of a zip archive holding the code. */
  readonly zipFile: string;
  /** Seconds, 1-86400. Default 3, as in FC. */
  readonly timeout?: number;
  /** MB, 128-32768. Default 128. Sets the child's V8 heap limit. */
  readonly memorySize?: number;
  /** ARN of the RAM role the function assumes: `acs:ram::<account>:role/<name>`. */
  readonly role?: string;
  readonly environmentVariables?: Record<string, string>;
  readonly description?: string;
}

export interface FunctionInfo extends Omit<FunctionSpec, 'zipFile'> {
  readonly regionId: string;
  readonly functionId: string;
  readonly functionArn: string;
  readonly codeSize: number;
  readonly codeChecksum: string;
  readonly createdTime: string;
  readonly lastModifiedTime: string;
}

interface StoredFunction extends FunctionInfo {
  zipFile: string;
}

interface FcState {
  functions: Record<string, Record<string, StoredFunction>>;
}

/** One invocation, as LocalCloud ran it. */
export interface InvocationRecord {
  readonly requestId: string;
  readonly regionId: string;
  readonly functionName: string;
  readonly async: boolean;
  /** 0 for the first delivery, then 1, 2, 3 for FC's retries of a failed asynchronous invocation. */
  readonly attempt: number;
  /** A retry: the request id of the first delivery (which this one shares under `fcAsyncRetry: same-request-id`). */
  readonly retryOf?: string;
  readonly startedAt: number;
  endedAt?: number;
  outcome?: 'succeeded' | 'failed' | 'timed out' | 'killed';
  /** The error message of a failed invocation. */
  error?: string;
  /** stdout and stderr lines, in order. */
  readonly logs: string[];
}

export interface InvokeResult {
  readonly requestId: string;
  readonly payload: Buffer;
  /** `UnhandledInvocationError` or `FunctionTimeout` when the invocation did not succeed. */
  readonly errorType?: string;
}

/** Test and fault hooks for invocations. */
export interface InvocationHooks {
  /** Kill the invocation after this many ms (a crashed or frozen instance), if a number is returned. */
  killAfterMs?(functionName: string): number | undefined;
  /** Told when an invocation was killed by `killAfterMs` (not when it finished first). */
  onKilled?(functionName: string): void;
}

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
}

const DEFAULT_ASYNC_RETRY_ATTEMPTS = 3;

const API_PREFIX = '/2023-03-30/functions';
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

/**
 * Function Compute 3.0 in LocalCloud: functions created from a zip (by the API or the ROS engine) and run in a
 * child `node` process per invocation, with the event as a Buffer and an FC-like context whose credentials come
 * from the function's RAM role. The timeout is enforced by killing the process.
 */
export class FunctionCompute implements Route {
  readonly prefix = API_PREFIX;
  readonly product = 'fc';
  readonly signed = true;
  private readonly state: FcState;
  private readonly running = new Set<ChildProcess>();
  private stopping = false;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly records: InvocationRecord[] = [];

  constructor(private readonly options: FunctionComputeOptions) {
    this.state = options.store.section<FcState>('fc', () => ({ functions: {} }));
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

  listFunctions(regionId: string): FunctionInfo[] {
    return Object.values(this.state.functions[regionId] ?? {}).map(describe);
  }

  deleteFunction(regionId: string, functionName: string): void {
    this.stored(regionId, functionName);
    delete this.state.functions[regionId][functionName];
    this.options.store.changed();
  }

  /** The FC endpoint of a region, for an `@alicloud/fc20230330` client (with `protocol: 'http'`). */
  endpoint(regionId: string): Promise<string> {
    return this.options.regionalEndpoint(regionId);
  }

  /** Invocations so far, oldest first, with their logs. */
  invocations(filter: { regionId?: string; functionName?: string } = {}): InvocationRecord[] {
    return this.records.filter(
      (r) =>
        (!filter.regionId || r.regionId === filter.regionId) &&
        (!filter.functionName || r.functionName === filter.functionName),
    );
  }

  /** Resolves when no invocation is running (async ones included). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /**
   * Invokes a function. Synchronous: resolves with its result. Asynchronous: resolves at once (with an empty
   * payload); the invocation runs in the background, as FC's async invocation does.
   */
  async invoke(
    regionId: string,
    functionName: string,
    event: Buffer,
    options: { async?: boolean } = {},
  ): Promise<InvokeResult> {
    const fn = this.stored(regionId, functionName);
    const requestId = randomUUID();
    const run = options.async
      ? this.runWithRetries(regionId, functionName, event, requestId)
      : this.run(fn, event, requestId, false);
    this.pending.add(run);
    void run.finally(() => this.pending.delete(run));
    if (options.async) {
      run.catch(() => undefined);
      return { requestId, payload: Buffer.alloc(0) };
    }
    return run;
  }

  /**
   * An asynchronous invocation, retried as FC retries one whose function fails, times out or crashes
   * (HandledInvocationError / UnhandledInvocationError): "retries up to 3 times by default", or
   * `maxAsyncRetryAttempts` (https://help.aliyun.com/en/functioncompute/fc/user-guide/error-handling-1-2), here after
   * 0.5 s, 1 s, 2 s (the backoff FC's retry-policy page gives for throttled invocations,
   * https://www.alibabacloud.com/help/en/function-compute/latest/retry-policy). Whether a retry keeps the request
   * id is undocumented: `fcAsyncRetry` says (a new one, the same one, or no retry at all). A function deleted
   * meanwhile is not retried.
   */
  private async runWithRetries(
    regionId: string,
    functionName: string,
    event: Buffer,
    requestId: string,
  ): Promise<InvokeResult> {
    const mode = this.options.asyncRetry?.() ?? 'new-request-id';
    const retries =
      mode === 'none' ? 0 : (this.options.maxAsyncRetryAttempts ?? DEFAULT_ASYNC_RETRY_ATTEMPTS);
    let result = await this.run(this.stored(regionId, functionName), event, requestId, true);
    for (let attempt = 1; attempt <= retries && result.errorType !== undefined && !this.stopping; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt).unref());
      const fn = this.state.functions[regionId]?.[functionName];
      if (!fn || this.stopping) break;
      const retryId = mode === 'same-request-id' ? requestId : randomUUID();
      result = await this.run(fn, event, retryId, true, attempt, requestId);
    }
    return result;
  }

  /** Kills every running invocation (when LocalCloud stops). */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const child of this.running) child.kill('SIGKILL');
    await this.settled();
  }

  /**
   * The API a call is, from its path and method: `NotFound` for a path FC 3.0 does not have, `Unknown` for a
   * method the path does not take.
   */
  actionOf(call: IncomingCall): string {
    const rest = call.pathname.slice(API_PREFIX.length);
    if (rest !== '' && !rest.startsWith('/')) return 'NotFound';
    const segments = rest
      .replace(/^\/|\/$/g, '')
      .split('/')
      .filter((s, _i, all) => s !== '' || all.length > 1);
    const byMethod = (actions: Record<string, string>) => actions[call.method] ?? 'Unknown';
    if (segments.length === 0) return byMethod({ GET: 'ListFunctions', POST: 'CreateFunction' });
    if (segments.some((s) => s === '')) return 'NotFound';
    if (segments.length === 1)
      return byMethod({ GET: 'GetFunction', PUT: 'UpdateFunction', DELETE: 'DeleteFunction' });
    if (segments.length === 2 && segments[1] === 'invocations') return byMethod({ POST: 'InvokeFunction' });
    return 'NotFound';
  }

  async handle(call: IncomingCall, ctx: RequestContext | undefined): Promise<RouteResponse> {
    const action = this.actionOf(call);
    const rest = call.pathname.slice(API_PREFIX.length).replace(/^\//, '');
    const name = decodePathSegment(rest.split('/')[0] ?? '');
    const regionOf = (): string => this.regionFor(call, name);
    const authorize = (region: string, fnName: string) =>
      ctx!.authorize(`fc:${action}`, [`acs:fc:${region}:${this.options.accountId}:functions/${fnName}`]);
    switch (action) {
      case 'CreateFunction': {
        const region = this.requireRegion(call);
        const input = parseJson(call.body) as Record<string, any>;
        authorize(region, String(input.functionName ?? ''));
        const spec = specFromInput(input);
        return { body: this.createFunction(region, spec) };
      }
      case 'ListFunctions': {
        const region = this.requireRegion(call);
        authorize(region, '*');
        return { body: { functions: this.listFunctions(region) } };
      }
      case 'GetFunction': {
        const region = regionOf();
        authorize(region, name);
        return { body: describe(this.stored(region, name)) };
      }
      case 'UpdateFunction': {
        const region = regionOf();
        authorize(region, name);
        const input = parseJson(call.body) as Record<string, any>;
        return {
          body: this.updateFunction(region, name, specFromInput({ ...input, functionName: name }, true)),
        };
      }
      case 'DeleteFunction': {
        const region = regionOf();
        authorize(region, name);
        this.deleteFunction(region, name);
        return { status: 204 };
      }
      case 'InvokeFunction': {
        const region = regionOf();
        authorize(region, name);
        const isAsync = (call.headers['x-fc-invocation-type'] ?? '').toLowerCase() === 'async';
        const result = await this.invoke(region, name, call.body, { async: isAsync });
        const headers: Record<string, string> = { 'x-fc-request-id': result.requestId };
        if (isAsync) return { status: 202, headers };
        if (result.errorType) headers['x-fc-error-type'] = result.errorType;
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

  private requireRegion(call: IncomingCall): string {
    if (!call.endpointRegion) {
      throw new ApiError(
        'InvalidArgument',
        "FC 3.0 endpoints are regional: call the region's endpoint (LocalCloud: cloud.fc.endpoint(regionId)).",
        400,
      );
    }
    return call.endpointRegion;
  }

  /** The region of a function call: the endpoint's, or on the shared endpoint the only region holding the name. */
  private regionFor(call: IncomingCall, functionName: string): string {
    if (call.endpointRegion) return call.endpointRegion;
    const regions = Object.keys(this.state.functions).filter((r) => this.state.functions[r][functionName]);
    if (regions.length === 1) return regions[0];
    if (regions.length === 0) throw functionNotFound(functionName, 'any region');
    return this.requireRegion(call);
  }

  private stored(regionId: string, functionName: string): StoredFunction {
    const fn = this.state.functions[regionId]?.[functionName];
    if (!fn) throw functionNotFound(functionName, regionId);
    return fn;
  }

  private async run(
    fn: StoredFunction,
    event: Buffer,
    requestId: string,
    isAsync: boolean,
    attempt = 0,
    retryOf?: string,
  ): Promise<InvokeResult> {
    const record: InvocationRecord = {
      requestId,
      regionId: fn.regionId,
      functionName: fn.functionName,
      async: isAsync,
      attempt,
      ...(retryOf !== undefined && { retryOf }),
      startedAt: Date.now(),
      logs: [],
    };
    this.records.push(record);
    const finish = (
      outcome: InvocationRecord['outcome'],
      payload: Buffer,
      errorType?: string,
      error?: string,
    ) => {
      record.endedAt = Date.now();
      record.outcome = outcome;
      record.error = error;
      return { requestId, payload, errorType };
    };
    let credentials: TemporaryCredentials | undefined;
    try {
      credentials = fn.role
        ? this.options.ram.assumeRoleAsService(roleNameOf(fn.role), 'fc.aliyuncs.com')
        : undefined;
    } catch (err) {
      const message = `Function Compute could not assume the role ${fn.role}: ${(err as Error).message}`;
      record.logs.push(message);
      return finish('failed', errorPayload(message, 'AssumeRoleFailed'), 'UnhandledInvocationError', message);
    }
    const codeDir = extractCode(fn);
    const fcEndpoint = await this.options.regionalEndpoint(fn.regionId);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: os.tmpdir(),
      NODE_ENV: 'production',
      FC_FUNCTION_NAME: fn.functionName,
      FC_FUNCTION_HANDLER: fn.handler,
      FC_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
      FC_REGION: fn.regionId,
      FC_ACCOUNT_ID: this.options.accountId,
      FC_CUSTOM_LISTEN_PORT: '9000',
      ALIBABA_CLOUD_ECS_ENDPOINT: this.options.endpoint(),
      ALIBABA_CLOUD_FC_ENDPOINT: fcEndpoint,
      ALIBABA_CLOUD_ENDPOINT_PROTOCOL: 'http',
      ...(credentials && {
        ALIBABA_CLOUD_ACCESS_KEY_ID: credentials.accessKeyId,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: credentials.accessKeySecret,
        ALIBABA_CLOUD_SECURITY_TOKEN: credentials.securityToken,
      }),
      ...(fn.environmentVariables ?? {}),
    };
    const context = {
      requestId,
      credentials: credentials
        ? {
            accessKeyId: credentials.accessKeyId,
            accessKeySecret: credentials.accessKeySecret,
            securityToken: credentials.securityToken,
          }
        : {},
      function: { name: fn.functionName, handler: fn.handler, memory: fn.memorySize, timeout: fn.timeout },
      region: fn.regionId,
      accountId: this.options.accountId,
    };
    const child = spawn(
      process.execPath,
      [`--max-old-space-size=${Math.max(64, fn.memorySize! - 32)}`, '-e', RUNNER],
      {
        cwd: codeDir,
        env,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    );
    this.running.add(child);
    const echo = this.options.echoLogs ?? process.env.LOCALCLOUD_FC_LOGS === '1';
    const collect = (stream: NodeJS.ReadableStream) => {
      let partial = '';
      stream.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          record.logs.push(line);
          if (echo) process.stderr.write(`[fc ${fn.functionName}] ${line}\n`);
        }
      });
      stream.on('end', () => partial && record.logs.push(partial));
    };
    collect(child.stdout!);
    collect(child.stderr!);
    return new Promise<InvokeResult>((resolve) => {
      let answer:
        { ok: boolean; payload?: string; error?: { errorMessage: string; errorType: string } } | undefined;
      let stopped: 'timed out' | 'killed' | undefined;
      const timeoutMs = fn.timeout! * 1000;
      const killAfter = this.options.hooks?.killAfterMs?.(fn.functionName);
      const timer = setTimeout(() => {
        stopped = 'timed out';
        child.kill('SIGKILL');
      }, timeoutMs);
      const killer =
        killAfter !== undefined && killAfter < timeoutMs
          ? setTimeout(() => {
              stopped = 'killed';
              child.kill('SIGKILL');
              this.options.hooks?.onKilled?.(fn.functionName);
            }, killAfter)
          : undefined;
      child.on('message', (message) => (answer = message as typeof answer));
      child.once('spawn', () => child.send({ event: event.toString('base64'), context }));
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (killer) clearTimeout(killer);
        this.running.delete(child);
        if (stopped === 'timed out') {
          const message = `Function timed out after ${fn.timeout} seconds`;
          record.logs.push(message);
          resolve(finish('timed out', errorPayload(message, 'FunctionTimeout'), 'FunctionTimeout', message));
        } else if (answer?.ok) {
          resolve(finish('succeeded', Buffer.from(answer.payload ?? '', 'base64')));
        } else if (answer && !answer.ok) {
          const { errorMessage, errorType } = answer.error!;
          resolve(
            finish('failed', errorPayload(errorMessage, errorType), 'UnhandledInvocationError', errorMessage),
          );
        } else {
          const message =
            stopped === 'killed'
              ? 'The function instance was killed (LocalCloud fault injection)'
              : `The function process exited (code ${code}, signal ${signal}) before returning`;
          record.logs.push(message);
          resolve(
            finish(
              stopped === 'killed' ? 'killed' : 'failed',
              errorPayload(message, 'ProcessExited'),
              'UnhandledInvocationError',
              message,
            ),
          );
        }
      });
    });
  }
}

/**
 * Runs in the child: loads the handler, calls it with the event Buffer and the context, sends back the result; exits
 * when the IPC channel to LocalCloud closes.
 */
const RUNNER = String.raw`
const path = require('path');
const util = require('util');
// An instance dies with its LocalCloud: if LocalCloud's process goes (killed), nothing is left running its code.
process.once('disconnect', () => process.exit(1));
process.once('message', async (message) => {
  const { event, context } = message;
  const line = (level) => (...args) => process.stdout.write(new Date().toISOString() + ' ' + context.requestId + ' [' + level + '] ' + util.format(...args) + '\n');
  const logger = { debug: line('DEBUG'), info: line('INFO'), log: line('INFO'), warn: line('WARN'), error: line('ERROR') };
  const reply = (body) => process.send(body, () => process.exit(0));
  try {
    const handlerName = process.env.FC_FUNCTION_HANDLER;
    const dot = handlerName.lastIndexOf('.');
    const mod = require(path.join(process.cwd(), handlerName.slice(0, dot)));
    const fn = mod[handlerName.slice(dot + 1)];
    if (typeof fn !== 'function') throw new Error('Handler ' + handlerName + ' is not a function in the code package');
    const payload = Buffer.from(event, 'base64');
    const ctx = Object.assign({}, context, { logger });
    const result = fn.length >= 3
      ? await new Promise((resolve, reject) => {
          const r = fn(payload, ctx, (err, data) => (err ? reject(err) : resolve(data)));
          if (r && typeof r.then === 'function') r.then(resolve, reject);
        })
      : await fn(payload, ctx);
    const out = Buffer.isBuffer(result) ? result : Buffer.from(result === undefined ? '' : typeof result === 'string' ? result : JSON.stringify(result));
    reply({ ok: true, payload: out.toString('base64') });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    process.stderr.write((e.stack || e.message) + '\n');
    reply({ ok: false, error: { errorMessage: e.message, errorType: e.name } });
  }
});
`;

function validateSpec(spec: Partial<FunctionSpec>): void {
  // JSON input can hold any type where a string is expected; a regex would accept ["name"] as "name".
  for (const field of ['functionName', 'runtime', 'handler', 'zipFile', 'role', 'description'] as const) {
    const value: unknown = spec[field];
    if (value !== undefined && typeof value !== 'string') {
      throw invalidArgument(
        `${field === 'zipFile' ? 'code.zipFile' : field} must be a string, not ${JSON.stringify(value)}`,
      );
    }
  }
  const env: unknown = spec.environmentVariables;
  if (
    env !== undefined &&
    (env === null ||
      typeof env !== 'object' ||
      Array.isArray(env) ||
      Object.values(env).some((v) => typeof v !== 'string'))
  ) {
    throw invalidArgument(`environmentVariables must be an object of strings, not ${JSON.stringify(env)}`);
  }
  if (!spec.functionName || !FUNCTION_NAME.test(spec.functionName)) {
    throw invalidArgument(
      `functionName ${JSON.stringify(spec.functionName)} is invalid: 1-128 letters, digits, _ or -, starting with a letter or _`,
    );
  }
  if (!spec.runtime || !/^nodejs\d+$/.test(spec.runtime)) {
    throw invalidArgument(
      `runtime ${JSON.stringify(spec.runtime)} is not supported by LocalCloud, which runs nodejs* functions only`,
    );
  }
  if (!spec.handler || !/^[\w./-]+\.[A-Za-z_$][\w$]*$/.test(spec.handler)) {
    throw invalidArgument(
      `handler ${JSON.stringify(spec.handler)} is invalid: expected <file>.<export>, e.g. index.handler`,
    );
  }
  if (!spec.zipFile)
    throw invalidArgument('code.zipFile is required (LocalCloud does not fetch code from OSS)');
  try {
    readZip(Buffer.from(spec.zipFile, 'base64'));
  } catch (err) {
    throw invalidArgument(`code.zipFile is not a zip archive: ${(err as Error).message}`);
  }
  if (
    spec.timeout !== undefined &&
    !(Number.isInteger(spec.timeout) && spec.timeout >= 1 && spec.timeout <= 86400)
  ) {
    throw invalidArgument(
      `timeout ${JSON.stringify(spec.timeout)} is invalid: an integer number of seconds, 1-86400`,
    );
  }
  if (
    spec.memorySize !== undefined &&
    !(Number.isInteger(spec.memorySize) && spec.memorySize >= 128 && spec.memorySize <= 32768)
  ) {
    throw invalidArgument(
      `memorySize ${JSON.stringify(spec.memorySize)} is invalid: an integer number of MB, 128-32768`,
    );
  }
  if (spec.role !== undefined && spec.role !== '' && !/^acs:ram::\d+:role\/[^/]+$/.test(spec.role)) {
    throw invalidArgument(
      `role ${JSON.stringify(spec.role)} is invalid: expected acs:ram::<account>:role/<name>`,
    );
  }
}

function specFromInput(input: Record<string, any>, partial = false): FunctionSpec {
  const spec = stripUndefined({
    functionName: input.functionName,
    runtime: input.runtime,
    handler: input.handler,
    zipFile: input.code?.zipFile,
    timeout: input.timeout,
    memorySize: input.memorySize,
    role: input.role,
    environmentVariables: input.environmentVariables,
    description: input.description,
  });
  if (
    !partial &&
    input.code &&
    !input.code.zipFile &&
    (input.code.ossBucketName || input.code.ossObjectName)
  ) {
    throw invalidArgument('code from OSS is not supported by LocalCloud; send code.zipFile');
  }
  return spec as FunctionSpec;
}

const cacheRoot = path.join(os.tmpdir(), 'localcloud-fc-code');

/** Unzips a function's code once per content into a cache directory and returns that directory. */
function extractCode(fn: StoredFunction): string {
  const dir = path.join(cacheRoot, fn.codeChecksum);
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  const staging = `${dir}.${process.pid}.${randomUUID()}`;
  for (const entry of readZip(Buffer.from(fn.zipFile, 'base64'))) {
    const target = path.join(staging, entry.name);
    if (!target.startsWith(staging + path.sep))
      throw invalidArgument(`code.zipFile has an unsafe path: ${entry.name}`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, entry.data);
  }
  fs.writeFileSync(path.join(staging, '.complete'), '');
  try {
    fs.renameSync(staging, dir);
  } catch {
    fs.rmSync(staging, { recursive: true, force: true }); // another process extracted the same code first
  }
  return dir;
}

const describe = ({ zipFile: _code, ...info }: StoredFunction): FunctionInfo => info;
const checksum = (zipFileBase64: string) =>
  createHash('sha256').update(zipFileBase64).digest('hex').slice(0, 32);
const roleNameOf = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);
const isoNow = () => new Date().toISOString();
const invalidArgument = (message: string) => new ApiError('InvalidArgument', message, 400);
const functionNotFound = (name: string, where: string) =>
  new ApiError('FunctionNotFound', `function '${name}' does not exist in ${where}`, 404);
const errorPayload = (errorMessage: string, errorType: string) =>
  Buffer.from(JSON.stringify({ errorMessage, errorType }));

/** A function name from the URL path; malformed percent-encoding is the caller's mistake, not a server error. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalidArgument(`The path segment "${segment}" is not valid percent-encoding`);
  }
}

/** The JSON object a create or update sends (`null`, a list or a number is refused like text that is not JSON). */
function parseJson(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8') || '{}');
  } catch {
    throw invalidArgument('The request body is not JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidArgument(`The request body must be a JSON object, not ${JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
