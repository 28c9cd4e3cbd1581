/**
 * Reading FC 3.0 requests (the REST wire): the function name in the path, the JSON body of CreateFunction and
 * UpdateFunction and the fields LocalCloud takes from it, each malformed input answered with FC's `InvalidArgument`.
 */
import { invalidArgument, stripUndefined, type FunctionSpec } from './functions';

/** A function name from the URL path; malformed percent-encoding is the caller's mistake, not a server error. */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalidArgument(`The path segment "${segment}" is not valid percent-encoding`);
  }
}

/** The JSON object a create or update sends (`null`, a list or a number is refused like text that is not JSON). */
export function parseJson(body: Buffer): Record<string, unknown> {
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

/**
 * The function fields of a CreateFunction (`partial`: UpdateFunction) body, as given: the model checks them. Code
 * from OSS is refused, LocalCloud having no OSS to fetch it from.
 */
export function specFromInput(input: Record<string, any>, partial = false): FunctionSpec {
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
