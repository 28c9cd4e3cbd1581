/**
 * Request parsing for LocalCloud's ECS: the flat RPC parameters (`Params`: `Name.N` lists, `Tag.N`, booleans,
 * bounded integers) and the field rules several actions share (image name, description, tags), each failing with the
 * error code ECS answers.
 */
import { ApiError, invalidParameter, missingParameter } from '../errors';

/** A tag as sent in `Tag.N.Key` / `Tag.N.Value`. */
export interface TagParam {
  readonly key: string;
  readonly value: string;
  /** Whether `Tag.N.Value` was sent at all (a filter with only a key matches any value). */
  readonly hasValue: boolean;
}

/** At most this many tags per request and per resource. */
export const MAX_TAGS = 20;
/** At most this many `ResourceId.N` per tag request. */
export const MAX_RESOURCE_IDS = 50;

/**
 * Reads the flat string parameters of an RPC request as the SDK sends them: 1-based `Name.N` lists,
 * `Tag.N.Key` / `Tag.N.Value`, booleans as `"true"` / `"false"`. An empty string counts as absent.
 */
export class Params {
  constructor(readonly raw: Readonly<Record<string, string>>) {}

  optional(name: string): string | undefined {
    const value = this.raw[name];
    return value === undefined || value === '' ? undefined : value;
  }

  required(name: string): string {
    const value = this.optional(name);
    if (value === undefined) {
      throw missingParameter(name);
    }
    return value;
  }

  bool(name: string): boolean {
    const value = this.optional(name);
    if (value === undefined) {
      return false;
    }
    if (/^true$/i.test(value)) {
      return true;
    }
    if (/^false$/i.test(value)) {
      return false;
    }
    throw invalidParameter(name, value, 'must be true or false');
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.optional(name);
    if (value === undefined) {
      return fallback;
    }
    const n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw invalidParameter(name, value, `must be an integer from ${min} to ${max}`);
    }
    return n;
  }

  /** `Name.1`, `Name.2`, ... in index order (empty values skipped). */
  list(name: string): string[] {
    return this.indexes(new RegExp(`^${escape(name)}\\.(\\d+)$`))
      .map((i) => this.optional(`${name}.${i}`))
      .filter((v): v is string => v !== undefined);
  }

  /** `Name.N.<field>` entries, grouped by N in index order. */
  groups(name: string): Array<(field: string) => string | undefined> {
    return this.indexes(new RegExp(`^${escape(name)}\\.(\\d+)\\.`)).map(
      (i) => (field: string) => this.raw[`${name}.${i}.${field}`],
    );
  }

  /**
   * `Tag.N.Key` / `Tag.N.Value`. A value without a key fails with `missingKey` (its code differs between APIs);
   * keys must be unique within a request (`Duplicate.TagKey`).
   */
  tags(missingKey: () => ApiError): TagParam[] {
    const tags = this.groups('Tag').map((field) => {
      const key = field('Key');
      const value = field('Value');
      if (key === undefined || key === '') {
        throw missingKey();
      }
      return { key, value: value ?? '', hasValue: value !== undefined };
    });
    const seen = new Set<string>();
    for (const tag of tags) {
      if (seen.has(tag.key)) {
        throw new ApiError('Duplicate.TagKey', `The Tag.N.Key contains duplicate key "${tag.key}".`, 400);
      }
      seen.add(tag.key);
    }
    return tags;
  }

  private indexes(pattern: RegExp): number[] {
    const found = new Set<number>();
    for (const key of Object.keys(this.raw)) {
      const match = pattern.exec(key);
      if (match) {
        found.add(Number(match[1]));
      }
    }
    return [...found].sort((a, b) => a - b);
  }
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const startsWithUrl = (text: string): boolean => /^https?:\/\//i.test(text);
const containsUrl = (text: string): boolean => /https?:\/\//i.test(text);

/**
 * Image name rule of CopyImage / ModifyImageAttribute: 2-128 characters, starting with a letter (any script,
 * so Chinese too), then letters, digits, `.` `:` `_` `-`; not starting with `aliyun` or `acs:`; no URL.
 */
export function checkImageName(name: string, param: string): void {
  const valid =
    /^\p{L}[\p{L}\p{N}.:_-]{1,127}$/u.test(name) && !/^(aliyun|acs:)/i.test(name) && !containsUrl(name);
  if (!valid) {
    throw new ApiError(
      'InvalidImageName.Malformed',
      `The specified ${param} "${name}" is not valid: it must be 2 to 128 characters long, start with a letter, ` +
        `contain only letters, digits, ".", ":", "_" and "-", and not start with "aliyun" or "acs:".`,
      400,
    );
  }
}

/**
 * Image family rule of ModifyImageAttribute (and DescribeImageFromFamily): the image name's, 2-128 characters,
 * starting with a letter (or a Chinese character), letters, digits, `.` `:` `_` `-`, not `aliyun` / `acs:`, no URL.
 */
export function checkImageFamily(family: string, param: string): void {
  const valid =
    /^\p{L}[\p{L}\p{N}.:_-]{1,127}$/u.test(family) && !/^(aliyun|acs:)/i.test(family) && !containsUrl(family);
  if (!valid) {
    throw new ApiError(
      'InvalidImageFamily.Malformed',
      `The specified parameter "${param}" is malformed: "${family}" must be 2 to 128 characters long, start with a ` +
        'letter, contain only letters, digits, ".", ":", "_" and "-", and not start with "aliyun" or "acs:".',
      400,
    );
  }
}

/** Description rule: 2-256 characters, not starting with `http://` or `https://`. */
export function checkDescription(description: string, param: string): void {
  if ([...description].length < 2 || [...description].length > 256 || startsWithUrl(description)) {
    throw new ApiError(
      'InvalidDescription.Malformed',
      `The specified ${param} is not valid: it must be 2 to 256 characters long and not start with http:// or https://.`,
      400,
    );
  }
}

/** Tag rules: key 1-128 characters, not `aliyun*` / `acs:*`, no URL; value 0-128 characters, not `acs:*`, no URL. */
export function checkTag(tag: TagParam): void {
  const key = tag.key;
  if ([...key].length > 128 || /^(aliyun|acs:)/i.test(key) || containsUrl(key)) {
    throw new ApiError(
      'InvalidTagKey.Malformed',
      `The tag key "${key}" is not valid: it must be 1 to 128 characters long, not start with "aliyun" or "acs:", ` +
        `and not contain "http://" or "https://".`,
      400,
    );
  }
  const value = tag.value;
  if ([...value].length > 128 || /^acs:/i.test(value) || containsUrl(value)) {
    throw new ApiError(
      'InvalidTagValue.Malformed',
      `The tag value "${value}" of key "${key}" is not valid: it must be at most 128 characters long, not start ` +
        `with "acs:", and not contain "http://" or "https://".`,
      400,
    );
  }
}

/** `NumberExceed.Tags` when a request carries more than 20 tags; every tag checked by `checkTag`. */
export function checkTags(tags: readonly TagParam[], param = 'Tag.N'): void {
  if (tags.length > MAX_TAGS) {
    throw new ApiError(
      'NumberExceed.Tags',
      `The maximum number of ${param} is exceeded. Valid : ${MAX_TAGS}, got ${tags.length}.`,
      400,
    );
  }
  tags.forEach(checkTag);
}

export const dryRunPassed = (): ApiError =>
  new ApiError('DryRunOperation', 'Request validation has been passed with DryRun flag set.', 400);
