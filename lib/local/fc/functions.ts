/**
 * What a Function Compute 3.0 function is in LocalCloud: the fields CreateFunction takes and GetFunction shows, the
 * rules a function must follow (name, runtime, handler, code, timeout, memory, role), and the errors FC answers for
 * them. Pure: the store of functions is `function-compute.ts`, running them `runtime.ts`.
 */
import { createHash } from 'crypto';
import { readZip } from '../../zip';
import { ApiError } from '../errors';

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

/** A function as LocalCloud keeps it: what GetFunction shows, and its code. */
export interface StoredFunction extends FunctionInfo {
  zipFile: string;
}

const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;

/** Checks a function's fields as CreateFunction / UpdateFunction do; throws FC's `InvalidArgument`. */
export function validateSpec(spec: Partial<FunctionSpec>): void {
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
  if (!spec.zipFile) {
    throw invalidArgument('code.zipFile is required (LocalCloud does not fetch code from OSS)');
  }
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

/** What GetFunction shows of a stored function: everything but the code. */
export const describe = ({ zipFile: _code, ...info }: StoredFunction): FunctionInfo => info;

/** The checksum GetFunction reports for a function's code. */
export const checksum = (zipFileBase64: string): string =>
  createHash('sha256').update(zipFileBase64).digest('hex').slice(0, 32);

/** The role name of a role ARN (`acs:ram::<account>:role/<name>`). */
export const roleNameOf = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);

/** `value` without the fields whose value is undefined (so a spread does not overwrite with them). */
export function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export const invalidArgument = (message: string): ApiError => new ApiError('InvalidArgument', message, 400);

export const functionNotFound = (name: string, where: string): ApiError =>
  new ApiError('FunctionNotFound', `function '${name}' does not exist in ${where}`, 404);
