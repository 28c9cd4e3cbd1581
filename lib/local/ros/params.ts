/** Reading ROS API request parameters (`Prefix.N.Key` lists, booleans, timeouts, paging) with ROS's errors. */
import { ApiError, missingParameter } from '../errors';

/** ROS's limit on a template body. */
export const MAX_TEMPLATE_BYTES = 524_288;
/** Stack and change set names: up to 255 letters, digits, `_` or `-`, starting with a letter or digit. */
export const RESOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$/;
const STACK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function requireParam(p: Record<string, string>, name: string): string {
  const value = p[name];
  if (value === undefined || value === '') {
    throw missingParameter(name);
  }
  return value;
}

export function stackIdParam(p: Record<string, string>): string {
  const stackId = requireParam(p, 'StackId');
  if (!STACK_ID.test(stackId)) {
    throw invalid(
      'StackId',
      stackId,
      'does not match pattern ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
    );
  }
  return stackId;
}

export function templateBody(p: Record<string, string>): string {
  if (p.TemplateURL !== undefined || p.TemplateId !== undefined || p.TemplateScratchId !== undefined) {
    throw new ApiError(
      'NotSupported',
      'LocalCloud accepts templates as TemplateBody only (not TemplateURL, TemplateId or TemplateScratchId).',
      400,
    );
  }
  const body = requireParam(p, 'TemplateBody');
  const bytes = Buffer.byteLength(body);
  if (bytes > MAX_TEMPLATE_BYTES) {
    throw invalid('TemplateBody', `${bytes} bytes`, `at most ${MAX_TEMPLATE_BYTES} bytes`);
  }
  return body;
}

/** `ClientToken`, when given: up to 64 printable ASCII characters. */
export function clientTokenParam(p: Record<string, string>): string | undefined {
  const token = p.ClientToken;
  if (token !== undefined && (token.length > 64 || !/^[\x20-\x7e]+$/.test(token))) {
    throw invalid('ClientToken', token, 'up to 64 ASCII characters');
  }
  return token;
}

export function timeoutParam(p: Record<string, string>): number | undefined {
  if (p.TimeoutInMinutes === undefined) {
    return undefined;
  }
  const n = Number(p.TimeoutInMinutes);
  if (!Number.isInteger(n) || n < 10 || n > 1440) {
    throw invalid('TimeoutInMinutes', p.TimeoutInMinutes, 'an integer from 10 to 1440');
  }
  return n;
}

export function booleanParam(p: Record<string, string>, name: string): boolean | undefined {
  const value = p[name];
  if (value === undefined) {
    return undefined;
  }
  if (value !== 'true' && value !== 'false') {
    throw invalid(name, value, 'true or false');
  }
  return value === 'true';
}

export function tagsParam(p: Record<string, string>): { Key: string; Value: string }[] {
  const tags = indexedPairs(p, 'Tags', 'Key', 'Value');
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** `Prefix.N.KeyName` / `Prefix.N.ValueName` pairs as a map (N = 1, 2, ...). */
export function indexedPairs(
  p: Record<string, string>,
  prefix: string,
  keyName: string,
  valueName: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 1; p[`${prefix}.${i}.${keyName}`] !== undefined; i++) {
    const key = p[`${prefix}.${i}.${keyName}`];
    if (key in out) {
      throw invalid(`${prefix}.${i}.${keyName}`, key, 'keys must be unique');
    }
    out[key] = p[`${prefix}.${i}.${valueName}`] ?? '';
  }
  return out;
}

/** `Prefix.N` values as a list (N = 1, 2, ...). */
export function indexedList(p: Record<string, string>, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; p[`${prefix}.${i}`] !== undefined; i++) {
    out.push(p[`${prefix}.${i}`]);
  }
  return out;
}

export function paging(p: Record<string, string>, defaultSize: number, maxSize: number) {
  const pageNumber = p.PageNumber === undefined ? 1 : Number(p.PageNumber);
  const pageSize = p.PageSize === undefined ? defaultSize : Number(p.PageSize);
  if (!Number.isInteger(pageNumber) || pageNumber < 1) {
    throw invalid('PageNumber', p.PageNumber, 'an integer ≥ 1');
  }
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > maxSize) {
    throw invalid('PageSize', p.PageSize, `an integer from 1 to ${maxSize}`);
  }
  return { pageNumber, pageSize };
}

export const invalid = (name: string, value: unknown, rule: string) =>
  new ApiError(
    'InvalidParameter',
    `The specified parameter ${name} (${JSON.stringify(value)}) is invalid: ${rule}.`,
    400,
  );
