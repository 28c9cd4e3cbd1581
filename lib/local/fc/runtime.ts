/**
 * Function Compute's runtime in LocalCloud: runs a function's code in a child `node` process per invocation, with
 * the event as a Buffer and an FC-like context whose credentials come from the function's RAM role; enforces the
 * timeout by killing the process; retries a failed asynchronous invocation as FC does; keeps each invocation's
 * record and logs. Real processes and real time throughout: what is tested here is what the child does.
 */
import { ChildProcess, spawn } from 'child_process';
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readZip } from '../../zip';
import type { Ram, TemporaryCredentials } from '../ram';
import type { CloudVariants } from '../variants';
import { invalidArgument, roleNameOf, type StoredFunction } from './functions';

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

export interface FunctionRuntimeOptions {
  readonly accountId: string;
  readonly ram: Ram;
  /** The endpoint a function's code reaches LocalCloud's APIs at (ECS, ROS). */
  readonly endpoint: () => string;
  /** The FC endpoint for a region (FC 3.0 endpoints are regional). */
  readonly regionalEndpoint: (region: string) => Promise<string>;
  /** The function as it is now (a retry runs the current code; none when it was deleted). */
  readonly lookup: (regionId: string, functionName: string) => StoredFunction | undefined;
  readonly hooks?: InvocationHooks;
  /** Echo function logs to this process's stderr. Default: env `LOCALCLOUD_FC_LOGS=1`. */
  readonly echoLogs?: boolean;
  /** Retries of a failed asynchronous invocation (FC's `maxAsyncRetryAttempts`). Default 3, as in FC. */
  readonly maxAsyncRetryAttempts?: number;
  /** How a failed asynchronous invocation is retried (`fcAsyncRetry`). Default: with a new request id. */
  readonly asyncRetry?: () => CloudVariants['fcAsyncRetry'];
  /**
   * How soon ECS lists every new copy, ms, told to functions as `IMAGE_COPY_LISTING_BOUND_MS` (the handler's bound
   * on how long a copy may stay unlisted, 2 minutes in the real cloud); undefined: not told.
   */
  readonly listingBoundMs?: () => number | undefined;
}

const DEFAULT_ASYNC_RETRY_ATTEMPTS = 3;

/** Runs functions in child processes and remembers each invocation. */
export class FunctionRuntime {
  private readonly running = new Set<ChildProcess>();
  private stopping = false;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly records: InvocationRecord[] = [];

  constructor(private readonly options: FunctionRuntimeOptions) {}

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
    while (this.pending.size > 0) {
      await Promise.allSettled([...this.pending]);
    }
  }

  /**
   * Runs `fn`. Synchronous: resolves with its result. Asynchronous: resolves at once (with an empty payload); the
   * invocation runs in the background, as FC's async invocation does.
   */
  async invoke(fn: StoredFunction, event: Buffer, options: { async?: boolean } = {}): Promise<InvokeResult> {
    const requestId = randomUUID();
    const run = options.async
      ? this.runWithRetries(fn, event, requestId)
      : this.run(fn, event, requestId, false);
    this.pending.add(run);
    void run.finally(() => this.pending.delete(run));
    if (options.async) {
      run.catch(() => undefined);
      return { requestId, payload: Buffer.alloc(0) };
    }
    return run;
  }

  /** Kills every running invocation (when LocalCloud stops). */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const child of this.running) {
      child.kill('SIGKILL');
    }
    await this.settled();
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
  private async runWithRetries(fn: StoredFunction, event: Buffer, requestId: string): Promise<InvokeResult> {
    const mode = this.options.asyncRetry?.() ?? 'new-request-id';
    const retries =
      mode === 'none' ? 0 : (this.options.maxAsyncRetryAttempts ?? DEFAULT_ASYNC_RETRY_ATTEMPTS);
    let result = await this.run(fn, event, requestId, true);
    for (let attempt = 1; attempt <= retries && result.errorType !== undefined && !this.stopping; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt).unref());
      const current = this.options.lookup(fn.regionId, fn.functionName);
      if (!current || this.stopping) {
        break;
      }
      const retryId = mode === 'same-request-id' ? requestId : randomUUID();
      result = await this.run(current, event, retryId, true, attempt, requestId);
    }
    return result;
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
    const listingBoundMs = this.options.listingBoundMs?.();
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
      ALIBABA_CLOUD_ROS_ENDPOINT: this.options.endpoint(),
      ALIBABA_CLOUD_RESOURCEMANAGER_ENDPOINT: this.options.endpoint(),
      ALIBABA_CLOUD_ENDPOINT_PROTOCOL: 'http',
      ...(listingBoundMs !== undefined ? { IMAGE_COPY_LISTING_BOUND_MS: String(listingBoundMs) } : {}),
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
          if (echo) {
            process.stderr.write(`[fc ${fn.functionName}] ${line}\n`);
          }
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
        if (killer) {
          clearTimeout(killer);
        }
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

const cacheRoot = path.join(os.tmpdir(), 'localcloud-fc-code');

/** Unzips a function's code once per content into a cache directory and returns that directory. */
function extractCode(fn: StoredFunction): string {
  const dir = path.join(cacheRoot, fn.codeChecksum);
  if (fs.existsSync(path.join(dir, '.complete'))) {
    return dir;
  }
  const staging = `${dir}.${process.pid}.${randomUUID()}`;
  for (const entry of readZip(Buffer.from(fn.zipFile, 'base64'))) {
    const target = path.join(staging, entry.name);
    if (!target.startsWith(staging + path.sep)) {
      throw invalidArgument(`code.zipFile has an unsafe path: ${entry.name}`);
    }
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

const errorPayload = (errorMessage: string, errorType: string) =>
  Buffer.from(JSON.stringify({ errorMessage, errorType }));
