/**
 * ROS intrinsic functions (`Ref`, `Fn::*`) and condition functions, evaluated against a `ResolveContext`.
 * Pure: no I/O. Semantics follow the ROS function reference (https://help.aliyun.com/zh/ros/user-guide/functions);
 * where it is silent, CloudFormation's, and each such choice is noted where it is made.
 */

import * as vm from 'vm';

/** A template or parameter problem; `code` is the ROS API error code the engine answers with. */
export class TemplateError extends Error {
  constructor(
    message: string,
    readonly code: 'InvalidTemplate' | 'InvalidParameter' = 'InvalidTemplate',
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** Errors whose message already says where they happened; the evaluator passes them through unchanged. */
const located = new WeakSet<Error>();

/** A `TemplateError` that already names its place in the template (it is not prefixed again). */
export function locatedError(
  message: string,
  code: 'InvalidTemplate' | 'InvalidParameter' = 'InvalidTemplate',
): TemplateError {
  const error = new TemplateError(message, code);
  located.add(error);
  return error;
}

export const NO_VALUE_REF = 'ALIYUN::NoValue';

/** Pseudo parameters LocalCloud answers `Ref` for (`ALIYUN::NoValue` removes the value instead). */
export const PSEUDO_PARAMETERS = [
  'ALIYUN::Region',
  'ALIYUN::AccountId',
  'ALIYUN::TenantId',
  'ALIYUN::StackId',
  'ALIYUN::StackName',
  NO_VALUE_REF,
] as const;

export function isPseudoParameter(name: string): boolean {
  return (PSEUDO_PARAMETERS as readonly string[]).includes(name);
}

/** Two-level maps of the template's `Mappings` section. */
export type Mappings = Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, unknown>>>>>>;

/**
 * What intrinsic functions read. `ref`, `getAtt` and `getStackOutput` may throw when a value is not available
 * (yet): such errors propagate unchanged, so the engine can recognise its own error types.
 */
export interface ResolveContext {
  /** Template parameter values (typed) and pseudo parameter values (`ALIYUN::Region` ...), by name. */
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly mappings: Mappings;
  readonly region: string;
  readonly accountId: string;
  /** The value of a named condition; throws for an unknown name. */
  condition(name: string): boolean;
  /** The physical id of a resource. */
  ref(logicalId: string): unknown;
  /** An attribute of a resource; the engine throws a clear error for an attribute the resource lacks. */
  getAtt(logicalId: string, attribute: string): unknown;
  /** `Fn::GetStackOutput`, when the engine supports reading other stacks. */
  getStackOutput?(stackId: string, outputKey: string, regionId: string): unknown;
}

/** Marks "no value" (`Ref: ALIYUN::NoValue`) while resolving; removed from the enclosing object or list. */
const NO_VALUE: unique symbol = Symbol('ALIYUN::NoValue');

/** ROS functions that exist but that LocalCloud does not evaluate, with the reason. */
export const UNSUPPORTED_FUNCTIONS: Readonly<Record<string, string>> = {
  'Fn::Jq': 'it needs a jq interpreter',
  'Fn::FormatTime': 'its result depends on the clock',
  'Fn::MarketplaceImage': 'there is no cloud marketplace in LocalCloud',
};

type FunctionImpl = (ev: Evaluator, arg: unknown) => unknown;

/**
 * Resolves `value`: intrinsic functions are evaluated, `ALIYUN::NoValue` entries are removed from objects and
 * lists, and a value that is itself NoValue resolves to `undefined`. `where` (e.g. `Resource Cr Properties`)
 * prefixes error messages.
 */
export function resolveValue(value: unknown, ctx: ResolveContext, where?: string): unknown {
  const result = new Evaluator(ctx, where).resolve(value);
  return result === NO_VALUE ? undefined : result;
}

/** Evaluates a condition expression (`Fn::Equals`, `Fn::And`, a condition name, ...) to a boolean. */
export function evaluateCondition(expression: unknown, ctx: ResolveContext, where?: string): boolean {
  const ev = new Evaluator(ctx, where);
  try {
    return ev.condition(expression);
  } catch (error) {
    throw ev.locate(error, 'Condition');
  }
}

/** The name of the function an object calls (`Ref`, `Fn::Join` ...), or undefined for a plain object. */
export function functionKey(value: unknown): string | undefined {
  if (!isObject(value)) {
    return undefined;
  }
  const keys = Object.keys(value);
  const fn = keys.find((k) => k === 'Ref' || k.startsWith('Fn::'));
  if (fn === undefined) {
    return undefined;
  }
  if (keys.length > 1) {
    throw new TemplateError(
      `${fn} must be the only key of its object, found also ${keys.filter((k) => k !== fn).join(', ')}`,
    );
  }
  return fn;
}

export function isKnownFunction(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(FUNCTIONS, name);
}

/** Every ROS function name LocalCloud knows, supported or not (used for YAML short-form tags). */
export function knownFunctionNames(): string[] {
  return [...Object.keys(FUNCTIONS), ...Object.keys(UNSUPPORTED_FUNCTIONS)];
}

/** The `${...}` variables of an `Fn::Sub` string, without `${!Literal}` escapes. */
export function subVariables(text: string): string[] {
  const names: string[] = [];
  for (const match of text.matchAll(/\$\{([^}]*)\}/g)) {
    if (!match[1].startsWith('!')) {
      names.push(match[1]);
    }
  }
  return names;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Sets a key without ever touching the prototype (template keys such as `__proto__` stay plain data). */
export function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

class Evaluator {
  private readonly path: string[] = [];

  constructor(
    readonly ctx: ResolveContext,
    private readonly where?: string,
  ) {}

  resolve(value: unknown): unknown {
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      value.forEach((item, i) => {
        const resolved = this.at(`[${i}]`, () => this.resolve(item));
        if (resolved !== NO_VALUE) {
          out.push(resolved);
        }
      });
      return out;
    }
    if (isObject(value)) {
      const fn = this.guard('', () => functionKey(value));
      if (fn !== undefined) {
        return this.call(fn, value[fn]);
      }
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        const resolved = this.at(key, () => this.resolve(item));
        if (resolved !== NO_VALUE) {
          setKey(out, key, resolved);
        }
      }
      return out;
    }
    return value;
  }

  /** Resolves an argument that must not be NoValue. */
  value(value: unknown, what = 'argument'): unknown {
    const resolved = this.resolve(value);
    if (resolved === NO_VALUE) {
      throw new TemplateError(`the ${what} is ALIYUN::NoValue`);
    }
    return resolved;
  }

  /** Resolves an argument list of `min`..`max` elements. */
  list(arg: unknown, min: number, max: number, shape: string): unknown[] {
    const resolved = this.value(arg);
    if (!Array.isArray(resolved) || resolved.length < min || resolved.length > max) {
      throw new TemplateError(`expects ${shape}, got ${show(resolved)}`);
    }
    return resolved;
  }

  condition(expression: unknown): boolean {
    if (typeof expression === 'boolean') {
      return expression;
    }
    if (typeof expression === 'string') {
      return booleanString(expression) ?? this.ctx.condition(expression);
    }
    if (isObject(expression) && Object.keys(expression).length === 1 && 'Condition' in expression) {
      const name = expression.Condition;
      if (typeof name !== 'string') {
        throw new TemplateError(`Condition expects a condition name, got ${show(name)}`);
      }
      return this.ctx.condition(name);
    }
    if (isObject(expression) && functionKey(expression) !== undefined) {
      const result = this.resolve(expression);
      const bool = typeof result === 'string' ? booleanString(result) : result;
      if (typeof bool === 'boolean') {
        return bool;
      }
      throw new TemplateError(`a condition must evaluate to true or false, got ${show(result)}`);
    }
    throw new TemplateError(
      `expects a condition (a condition name or a condition function), got ${show(expression)}`,
    );
  }

  locate(error: unknown, fn: string): unknown {
    if (!(error instanceof TemplateError) || located.has(error)) {
      return error;
    }
    const where = [this.where, this.pathText()].filter(Boolean).join(' ');
    return locatedError(`${where ? `${where}: ` : ''}${fn}: ${error.message}`, error.code);
  }

  private call(fn: string, arg: unknown): unknown {
    const impl = FUNCTIONS[fn];
    try {
      if (impl === undefined) {
        const reason = UNSUPPORTED_FUNCTIONS[fn];
        throw new TemplateError(
          reason ? `LocalCloud does not implement this ROS function (${reason})` : 'unknown function',
        );
      }
      return impl(this, arg);
    } catch (error) {
      throw this.locate(error, fn);
    }
  }

  private guard<T>(fn: string, body: () => T): T {
    try {
      return body();
    } catch (error) {
      if (!(error instanceof TemplateError) || located.has(error)) {
        throw error;
      }
      const where = [this.where, this.pathText()].filter(Boolean).join(' ');
      throw locatedError(`${where ? `${where}: ` : ''}${fn ? `${fn}: ` : ''}${error.message}`, error.code);
    }
  }

  private at<T>(segment: string, body: () => T): T {
    this.path.push(segment);
    try {
      return body();
    } finally {
      this.path.pop();
    }
  }

  private pathText(): string {
    let text = '';
    for (const segment of this.path) {
      text += segment.startsWith('[') || text === '' ? segment : `.${segment}`;
    }
    return text;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Function implementations. Each receives the raw argument and resolves what it needs (Fn::If resolves only the
// branch it takes). Errors are plain TemplateErrors; the evaluator prefixes the function name and location.

const FUNCTIONS: Readonly<Record<string, FunctionImpl>> = {
  Ref: (ev, arg) => {
    const name = ev.value(arg);
    if (typeof name !== 'string') {
      throw new TemplateError(`expects a parameter or resource name, got ${show(name)}`);
    }
    return refValue(ev, name);
  },

  'Fn::GetAtt': (ev, arg) => {
    const [id, attribute] = getAttTarget(ev.value(arg));
    if (hasOwn(ev.ctx.parameters, id)) {
      throw new TemplateError(`${id} is a parameter, not a resource`);
    }
    return ev.ctx.getAtt(id, attribute);
  },

  'Fn::Join': (ev, arg) => {
    const [delimiter, items] = ev.list(arg, 2, 2, '[delimiter, [values...]]');
    if (typeof delimiter !== 'string') {
      throw new TemplateError(`the delimiter must be a string, got ${show(delimiter)}`);
    }
    if (!Array.isArray(items)) {
      throw new TemplateError(`the values must be a list, got ${show(items)}`);
    }
    return items.map((item, i) => scalarText(item, `value ${i}`)).join(delimiter);
  },

  'Fn::Sub': (ev, arg) => {
    let text: unknown = arg;
    let variables: Record<string, unknown> = {};
    if (Array.isArray(arg)) {
      if (arg.length !== 2) {
        throw new TemplateError('expects a string or [string, {variables}]');
      }
      text = ev.value(arg[0]);
      const vars = ev.value(arg[1]);
      if (!isObject(vars)) {
        throw new TemplateError(`the variables must be a map, got ${show(vars)}`);
      }
      variables = vars;
    } else if (typeof arg !== 'string') {
      text = ev.value(arg);
    }
    if (typeof text !== 'string') {
      throw new TemplateError(`expects a string, got ${show(text)}`);
    }
    return text.replace(/\$\{([^}]*)\}/g, (_whole, name: string) => {
      if (name.startsWith('!')) {
        return `\${${name.slice(1)}}`;
      }
      if (name === '') {
        throw new TemplateError('empty variable ${}');
      }
      return scalarText(subVariable(ev, name, variables), `variable \${${name}}`, true);
    });
  },

  'Fn::Select': (ev, arg) => {
    const args = ev.list(arg, 2, 3, '[index, list or map, default?]');
    const [index, source] = args;
    const fallback = args.length === 3 ? args[2] : '';
    if (isObject(source)) {
      if (typeof index !== 'string' && typeof index !== 'number') {
        throw new TemplateError(`a key must be a string, got ${show(index)}`);
      }
      return hasOwn(source, String(index)) ? source[String(index)] : fallback;
    }
    if (!Array.isArray(source)) {
      throw new TemplateError(`expects a list or a map to select from, got ${show(source)}`);
    }
    const text = typeof index === 'number' ? String(index) : index;
    if (typeof text === 'string' && /^\s*-?\d+\s*$/.test(text)) {
      const i = Number(text);
      const position = i < 0 ? source.length + i : i;
      // ROS answers the default (or an empty string) for an index out of range rather than failing.
      return position >= 0 && position < source.length ? source[position] : fallback;
    }
    const slice =
      typeof text === 'string' ? /^\s*(-?\d*)\s*:\s*(-?\d*)\s*(?::\s*(-?\d*)\s*)?$/.exec(text) : null;
    if (slice) {
      return pythonSlice(source, slice[1], slice[2], slice[3]);
    }
    throw new TemplateError(`the index must be an integer or "start:stop:step", got ${show(index)}`);
  },

  'Fn::Split': (ev, arg) => {
    const [delimiter, source] = ev.list(arg, 2, 2, '[delimiter, string]');
    if (typeof delimiter !== 'string' || delimiter === '') {
      throw new TemplateError(`the delimiter must be a non-empty string, got ${show(delimiter)}`);
    }
    if (typeof source !== 'string') {
      throw new TemplateError(`the source must be a string, got ${show(source)}`);
    }
    return source.split(delimiter);
  },

  'Fn::If': (ev, arg) => {
    if (!Array.isArray(arg) || arg.length !== 3) {
      throw new TemplateError('expects [condition name, value if true, value if false]');
    }
    return ev.resolve(ev.condition(arg[0]) ? arg[1] : arg[2]);
  },

  'Fn::Equals': (ev, arg) => {
    const [a, b] = ev.list(arg, 2, 2, '[value, value]');
    return looseEqual(a, b);
  },

  'Fn::And': (ev, arg) => conditionList(ev, arg).every(Boolean),
  'Fn::Or': (ev, arg) => conditionList(ev, arg).some(Boolean),
  'Fn::Not': (ev, arg) => {
    const operand = Array.isArray(arg) ? arg : [arg];
    if (operand.length !== 1) {
      throw new TemplateError('expects exactly one condition');
    }
    return !ev.condition(operand[0]);
  },

  'Fn::Base64Encode': (ev, arg) =>
    Buffer.from(scalarText(ev.value(arg), 'argument'), 'utf8').toString('base64'),
  // The name in ROS's older documentation; same function.
  'Fn::Base64': (ev, arg) => Buffer.from(scalarText(ev.value(arg), 'argument'), 'utf8').toString('base64'),
  'Fn::Base64Decode': (ev, arg) => {
    const text = ev.value(arg);
    if (typeof text !== 'string') {
      throw new TemplateError(`expects a string, got ${show(text)}`);
    }
    const compact = text.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
      throw new TemplateError(`${show(text)} is not base64`);
    }
    return Buffer.from(compact, 'base64').toString('utf8');
  },

  'Fn::FindInMap': (ev, arg) => {
    const [mapName, topKey, secondKey] = ev.list(arg, 3, 3, '[MapName, TopLevelKey, SecondLevelKey]');
    for (const key of [mapName, topKey, secondKey]) {
      if (typeof key !== 'string' && typeof key !== 'number') {
        throw new TemplateError(`keys must be strings, got ${show(key)}`);
      }
    }
    const map = ev.ctx.mappings[String(mapName)];
    if (!map || !hasOwn(ev.ctx.mappings, String(mapName))) {
      throw new TemplateError(`there is no mapping ${mapName}`);
    }
    const top = hasOwn(map, String(topKey)) ? map[String(topKey)] : undefined;
    if (!top) {
      throw new TemplateError(`mapping ${mapName} has no key ${show(topKey)}`);
    }
    if (!hasOwn(top, String(secondKey))) {
      throw new TemplateError(`mapping ${mapName} has no key ${show(secondKey)} under ${show(topKey)}`);
    }
    return top[String(secondKey)];
  },

  'Fn::Replace': (ev, arg) => {
    const [replacements, text] = ev.list(arg, 2, 2, '[{old: new}, string]');
    if (!isObject(replacements)) {
      throw new TemplateError(`the replacements must be a map, got ${show(replacements)}`);
    }
    if (typeof text !== 'string') {
      throw new TemplateError(`expects a string to replace in, got ${show(text)}`);
    }
    let out = text;
    for (const [from, to] of Object.entries(replacements)) {
      if (from !== '') {
        out = out.split(from).join(scalarText(to, `replacement for ${show(from)}`));
      }
    }
    return out;
  },

  'Fn::Str': (ev, arg) => {
    const value = ev.value(arg);
    return typeof value === 'string' ? value : JSON.stringify(value);
  },

  'Fn::Length': (ev, arg) => {
    const value = ev.value(arg);
    if (typeof value === 'string' || Array.isArray(value)) {
      return value.length;
    }
    if (isObject(value)) {
      return Object.keys(value).length;
    }
    throw new TemplateError(`expects a string, a list or a map, got ${show(value)}`);
  },

  'Fn::ListMerge': (ev, arg) => {
    const lists = ev.value(arg);
    if (!Array.isArray(lists)) {
      throw new TemplateError(`expects a list of lists, got ${show(lists)}`);
    }
    return lists.flatMap((list, i) => {
      if (!Array.isArray(list)) {
        throw new TemplateError(`element ${i} is not a list: ${show(list)}`);
      }
      return list;
    });
  },

  'Fn::GetJsonValue': (ev, arg) => {
    const [key, json] = ev.list(arg, 2, 2, '[key, json string]');
    if (typeof key !== 'string') {
      throw new TemplateError(`the key must be a string, got ${show(key)}`);
    }
    let data = json;
    if (typeof json === 'string') {
      try {
        data = JSON.parse(json) as unknown;
      } catch {
        throw new TemplateError(`${show(json)} is not JSON`);
      }
    }
    if (!isObject(data)) {
      throw new TemplateError(`expects a JSON object, got ${show(data)}`);
    }
    if (!hasOwn(data, key)) {
      throw new TemplateError(`the JSON object has no key ${show(key)}`);
    }
    return data[key];
  },

  'Fn::MergeMapToList': (ev, arg) => {
    const maps = ev.value(arg);
    if (!Array.isArray(maps)) {
      throw new TemplateError(`expects a list of maps, got ${show(maps)}`);
    }
    const entries: [string, unknown[]][] = [];
    for (const map of maps) {
      if (!isObject(map)) {
        throw new TemplateError(`expects maps of lists, got ${show(map)}`);
      }
      for (const [key, values] of Object.entries(map)) {
        if (!Array.isArray(values) || values.length === 0) {
          throw new TemplateError(`the value of ${show(key)} must be a non-empty list`);
        }
        entries.push([key, values]);
      }
    }
    const length = Math.max(0, ...entries.map(([, values]) => values.length));
    // Shorter lists repeat their last value, as the ROS documentation describes.
    return Array.from({ length }, (_, i) => {
      const merged: Record<string, unknown> = {};
      for (const [key, values] of entries) {
        setKey(merged, key, values[Math.min(i, values.length - 1)]);
      }
      return merged;
    });
  },

  'Fn::SelectMapList': (ev, arg) => {
    const [key, maps] = ev.list(arg, 2, 2, '[key, [maps...]]');
    if (typeof key !== 'string') {
      throw new TemplateError(`the key must be a string, got ${show(key)}`);
    }
    if (!Array.isArray(maps)) {
      throw new TemplateError(`expects a list of maps, got ${show(maps)}`);
    }
    return maps
      .filter((map) => isObject(map) && hasOwn(map, key))
      .map((map) => (map as Record<string, unknown>)[key]);
  },

  'Fn::Add': (ev, arg) => {
    const values = ev.value(arg);
    if (!Array.isArray(values) || values.length < 2) {
      throw new TemplateError(`expects a list of at least two numbers, lists or maps, got ${show(values)}`);
    }
    if (values.every((v) => typeof v === 'number')) {
      return (values as number[]).reduce((a, b) => a + b, 0);
    }
    if (values.every(Array.isArray)) {
      return (values as unknown[][]).flat(1);
    }
    if (values.every(isObject)) {
      const merged: Record<string, unknown> = {};
      for (const map of values as Record<string, unknown>[]) {
        for (const [key, value] of Object.entries(map)) {
          setKey(merged, key, value);
        }
      }
      return merged;
    }
    throw new TemplateError(`all elements must be numbers, or all lists, or all maps: ${show(values)}`);
  },

  'Fn::Max': (ev, arg) => Math.max(...numberList(ev.value(arg))),
  'Fn::Min': (ev, arg) => Math.min(...numberList(ev.value(arg))),
  'Fn::Avg': (ev, arg) => {
    const [ndigits, values] = ev.list(arg, 2, 2, '[ndigits, [numbers...]]');
    const numbers = numberList(values);
    return round(numbers.reduce((a, b) => a + b, 0) / numbers.length, digits(ndigits));
  },

  'Fn::Calculate': (ev, arg) => {
    const args = ev.list(arg, 2, 3, '[expression, ndigits, [numbers...]?]');
    const [expression, ndigits] = args;
    if (typeof expression !== 'string') {
      throw new TemplateError(`the expression must be a string, got ${show(expression)}`);
    }
    const numbers = args.length === 3 ? numberList(args[2], true) : [];
    const result = calculate(expression, numbers);
    return result.integer ? result.value : round(result.value, digits(ndigits));
  },

  'Fn::Index': (ev, arg) => {
    const [item, list] = ev.list(arg, 2, 2, '[item, [items...]]');
    if (!Array.isArray(list)) {
      throw new TemplateError(`expects a list to search, got ${show(list)}`);
    }
    const index = list.findIndex((candidate) => looseEqual(candidate, item));
    // ROS answers an empty string when the item is not in the list.
    return index < 0 ? '' : index;
  },

  'Fn::Contains': (ev, arg) => {
    const [list, value] = ev.list(arg, 2, 2, '[[values...], value]');
    if (!Array.isArray(list)) {
      throw new TemplateError(`expects a list, got ${show(list)}`);
    }
    return list.some((candidate) => looseEqual(candidate, value));
  },

  'Fn::Any': (ev, arg) => {
    const values = ev.value(arg);
    if (!Array.isArray(values)) {
      throw new TemplateError(`expects a list, got ${show(values)}`);
    }
    return values.some(truthy);
  },

  'Fn::EachMemberIn': (ev, arg) => {
    const [members, allowed] = ev.list(arg, 2, 2, '[[values...], [allowed values...]]');
    if (!Array.isArray(members) || !Array.isArray(allowed)) {
      throw new TemplateError(`expects two lists, got ${show(members)} and ${show(allowed)}`);
    }
    return members.every((member) => allowed.some((candidate) => looseEqual(candidate, member)));
  },

  'Fn::MatchPattern': (ev, arg) => {
    const [pattern, value] = ev.list(arg, 2, 2, '[pattern, string]');
    if (typeof pattern !== 'string') {
      throw new TemplateError(`the pattern must be a string, got ${show(pattern)}`);
    }
    // The whole string must match, as for a parameter's AllowedPattern.
    return matchesFully(fullMatch(pattern), scalarText(value, 'value'));
  },

  'Fn::Indent': (ev, arg) => {
    const args = ev.list(arg, 2, 4, '[string, level, size?, indentFirstLine?]');
    const [text, level] = args;
    if (typeof text !== 'string') {
      throw new TemplateError(`expects a string, got ${show(text)}`);
    }
    const levels = integerIn(level, 0, 20, 'level');
    const size = args.length > 2 ? integerIn(args[2], 0, 4, 'size') : 2;
    const firstLine = args.length > 3 ? truthy(args[3]) : true;
    const prefix = ' '.repeat(levels * size);
    // Like Python's textwrap.indent: lines holding only whitespace are left alone.
    return text
      .split('\n')
      .map((line, i) => (line.trim() === '' || (i === 0 && !firstLine) ? line : prefix + line))
      .join('\n');
  },

  'Fn::GetAZs': (ev, arg) => {
    const region = ev.value(arg);
    if (typeof region !== 'string') {
      throw new TemplateError(`expects a region id, got ${show(region)}`);
    }
    const id = region === '' ? ev.ctx.region : region;
    // LocalCloud's zones: every region has two, "<region>-a" and "<region>-b".
    return [`${id}-a`, `${id}-b`];
  },

  'Fn::Cidr': (ev, arg) => {
    const [block, count, bits] = ev.list(arg, 3, 3, '[ipBlock, count, cidrBits]');
    if (typeof block !== 'string') {
      throw new TemplateError(`the ip block must be a string, got ${show(block)}`);
    }
    return cidrSubnets(block, integerIn(count, 1, 256, 'count'), integerIn(bits, 0, 32, 'cidrBits'));
  },

  'Fn::GetStackOutput': (ev, arg) => {
    const args = ev.list(arg, 2, 3, '[stackId, outputKey, regionId?]');
    for (const value of args) {
      if (typeof value !== 'string') {
        throw new TemplateError(`arguments must be strings, got ${show(value)}`);
      }
    }
    if (!ev.ctx.getStackOutput) {
      throw new TemplateError('reading other stacks is not available here');
    }
    return ev.ctx.getStackOutput(
      args[0] as string,
      args[1] as string,
      (args[2] as string | undefined) ?? ev.ctx.region,
    );
  },
};

// ---------------------------------------------------------------------------------------------------------------

function refValue(ev: Evaluator, name: string): unknown {
  if (name === NO_VALUE_REF) {
    return NO_VALUE;
  }
  if (name === 'ALIYUN::Index') {
    throw new TemplateError(
      'ALIYUN::Index is only defined in resources with Count, which LocalCloud does not support',
    );
  }
  if (hasOwn(ev.ctx.parameters, name)) {
    return ev.ctx.parameters[name];
  }
  return ev.ctx.ref(name);
}

function getAttTarget(arg: unknown): [string, string] {
  if (typeof arg === 'string') {
    const dot = arg.indexOf('.');
    if (dot > 0 && dot < arg.length - 1) {
      return [arg.slice(0, dot), arg.slice(dot + 1)];
    }
  } else if (
    Array.isArray(arg) &&
    arg.length === 2 &&
    typeof arg[0] === 'string' &&
    typeof arg[1] === 'string'
  ) {
    if (arg[0] !== '' && arg[1] !== '') {
      return [arg[0], arg[1]];
    }
  }
  throw new TemplateError(
    `expects [LogicalId, AttributeName] or "LogicalId.AttributeName", got ${show(arg)}`,
  );
}

function subVariable(ev: Evaluator, name: string, variables: Record<string, unknown>): unknown {
  if (hasOwn(variables, name)) {
    return variables[name];
  }
  if (name === NO_VALUE_REF) {
    throw new TemplateError('${ALIYUN::NoValue} cannot be substituted');
  }
  if (hasOwn(ev.ctx.parameters, name)) {
    return ev.ctx.parameters[name];
  }
  const dot = name.indexOf('.');
  if (dot > 0) {
    return ev.ctx.getAtt(name.slice(0, dot), name.slice(dot + 1));
  }
  return refValue(ev, name);
}

function conditionList(ev: Evaluator, arg: unknown): boolean[] {
  if (!Array.isArray(arg) || arg.length < 2 || arg.length > 10) {
    throw new TemplateError(`expects a list of 2 to 10 conditions, got ${show(arg)}`);
  }
  return arg.map((item) => ev.condition(item));
}

/**
 * The text of a scalar. Numbers and booleans become their JSON text. Lists and maps are refused in Fn::Join and
 * Fn::Replace; in Fn::Sub (`structured`) they become JSON, since a Sub variable may be a list parameter.
 */
function scalarText(value: unknown, what: string, structured = false): string {
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  if (structured && value !== null && typeof value === 'object') {
    return JSON.stringify(value);
  }
  throw new TemplateError(`the ${what} must be a string or a number, got ${show(value)}`);
}

/** Python slice semantics for `Fn::Select: ["start:stop:step", list]`. */
function pythonSlice(list: unknown[], startText: string, stopText: string, stepText = ''): unknown[] {
  const n = list.length;
  const step = stepText === '' ? 1 : Number(stepText);
  if (step === 0) {
    throw new TemplateError('the slice step must not be 0');
  }
  const clamp = (text: string, fallback: number, low: number, high: number): number => {
    if (text === '') {
      return fallback;
    }
    const i = Number(text);
    return i < 0 ? Math.max(i + n, low) : Math.min(i, high);
  };
  const out: unknown[] = [];
  if (step > 0) {
    const stop = clamp(stopText, n, 0, n);
    for (let i = clamp(startText, 0, 0, n); i < stop; i += step) {
      out.push(list[i]);
    }
  } else {
    const stop = clamp(stopText, -1, -1, n - 1);
    for (let i = clamp(startText, n - 1, -1, n - 1); i > stop; i += step) {
      out.push(list[i]);
    }
  }
  return out;
}

/** Equality for Fn::Equals and friends: scalars compare by their text, since parameter values arrive as text. */
export function looseEqual(a: unknown, b: unknown): boolean {
  const scalar = (v: unknown): boolean => v === null || ['string', 'number', 'boolean'].includes(typeof v);
  if (scalar(a) && scalar(b)) {
    return String(a) === String(b);
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => looseEqual(v, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => hasOwn(b, k) && looseEqual(a[k], b[k]));
  }
  return false;
}

function booleanString(text: string): boolean | undefined {
  const lower = text.toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : undefined;
}

/** Truth of a value for Fn::Any: true/1/"true"/"1" and non-empty text or collections; false/0/"false"/"" not. */
function truthy(value: unknown): boolean {
  if (typeof value === 'boolean') {
    return value;
  }
  if (typeof value === 'number') {
    return value !== 0;
  }
  if (typeof value === 'string') {
    return booleanString(value) ?? (value !== '' && value !== '0');
  }
  if (Array.isArray(value)) {
    return value.length > 0;
  }
  if (isObject(value)) {
    return Object.keys(value).length > 0;
  }
  return false;
}

function numberList(value: unknown, allowEmpty = false): number[] {
  if (!Array.isArray(value) || (!allowEmpty && value.length === 0)) {
    throw new TemplateError(`expects a list of numbers, got ${show(value)}`);
  }
  return value.map((item) => {
    const n =
      typeof item === 'number' ? item : typeof item === 'string' && NUMBER.test(item) ? Number(item) : NaN;
    if (!Number.isFinite(n)) {
      throw new TemplateError(`${show(item)} is not a number`);
    }
    return n;
  });
}

export const NUMBER = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/;

function digits(value: unknown): number {
  return integerIn(value, 0, 15, 'ndigits');
}

function integerIn(value: unknown, min: number, max: number, what: string): number {
  const n = typeof value === 'string' && NUMBER.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new TemplateError(`${what} must be an integer from ${min} to ${max}, got ${show(value)}`);
  }
  return n;
}

function round(value: number, ndigits: number): number {
  return Number(value.toFixed(ndigits));
}

/** How long one pattern match may take: a pattern with catastrophic backtracking must not stall LocalCloud. */
export const PATTERN_MATCH_LIMIT_MS = 100;

/**
 * `regex.test(text)` bounded by {@link PATTERN_MATCH_LIMIT_MS}: run in a VM context whose timeout interrupts the
 * regular expression engine, so `(a+)+$` against `aaaa…!` fails the template instead of blocking every request.
 */
export function matchesFully(regex: RegExp, text: string): boolean {
  try {
    return (
      vm.runInNewContext('regex.test(text)', { regex, text }, { timeout: PATTERN_MATCH_LIMIT_MS }) === true
    );
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      throw new TemplateError(
        `the pattern ${show(regex.source)} took more than ${PATTERN_MATCH_LIMIT_MS} ms to match ${show(text)} ` +
          '(catastrophic backtracking): simplify the pattern',
      );
    }
    throw error;
  }
}

export function fullMatch(pattern: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`, 'u');
  } catch {
    try {
      return new RegExp(`^(?:${pattern})$`);
    } catch (error) {
      throw new TemplateError(
        `${show(pattern)} is not a valid regular expression (${(error as Error).message})`,
      );
    }
  }
}

function hasOwn(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

/** A short rendering of a value for error messages. */
export function show(value: unknown): string {
  if (value === NO_VALUE) {
    return 'ALIYUN::NoValue';
  }
  if (value === undefined) {
    return 'nothing';
  }
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

// ---------------------------------------------------------------------------------------------------------------
// Fn::Calculate: a small arithmetic parser (no eval). Integers stay integers, and integer division truncates
// toward negative infinity, as in the ROS documentation's examples (`(2+3)/2*3-1` is 5).

interface Num {
  readonly value: number;
  readonly integer: boolean;
}

function calculate(expression: string, numbers: number[]): Num {
  const text = expression.replace(/\{(\d+)\}/g, (_whole, index: string) => {
    const i = Number(index);
    if (i >= numbers.length) {
      throw new TemplateError(`{${index}} has no number (${numbers.length} given)`);
    }
    return `(${numbers[i]})`;
  });
  const tokens =
    text.match(
      /\d+\.\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?|\*\*|\/\/|[-+*/%()]|\S/g,
    ) ?? [];
  let pos = 0;
  const peek = (): string | undefined => tokens[pos];
  const fail = (message: string): never => {
    throw new TemplateError(`cannot calculate ${show(expression)}: ${message}`);
  };
  const expect = (token: string): void => {
    if (tokens[pos] !== token) {
      fail(`expected "${token}" ${tokens[pos] === undefined ? 'at the end' : `before "${tokens[pos]}"`}`);
    }
    pos++;
  };
  const make = (value: number, integer: boolean): Num => {
    if (!Number.isFinite(value)) {
      fail('the result is not a finite number');
    }
    return { value, integer: integer && Number.isInteger(value) };
  };
  const binary = (op: string, a: Num, b: Num): Num => {
    const integer = a.integer && b.integer;
    switch (op) {
      case '+':
        return make(a.value + b.value, integer);
      case '-':
        return make(a.value - b.value, integer);
      case '*':
        return make(a.value * b.value, integer);
      case '/':
        if (b.value === 0) {
          fail('division by zero');
        }
        return integer ? make(Math.floor(a.value / b.value), true) : make(a.value / b.value, false);
      case '//':
        if (b.value === 0) {
          fail('division by zero');
        }
        return make(Math.floor(a.value / b.value), integer);
      case '%':
        if (b.value === 0) {
          fail('division by zero');
        }
        return make(a.value - b.value * Math.floor(a.value / b.value), integer);
      default:
        return make(a.value ** b.value, integer && b.value >= 0);
    }
  };
  const atom = (): Num => {
    const token = tokens[pos++];
    if (token === '(') {
      const inner = sum();
      expect(')');
      return inner;
    }
    if (token !== undefined && /^[\d.]/.test(token)) {
      return make(Number(token), !/[.eE]/.test(token));
    }
    return fail(token === undefined ? 'unexpected end' : `unexpected "${token}"`);
  };
  const unary = (): Num => {
    const token = peek();
    if (token === '-' || token === '+') {
      pos++;
      const operand = unary();
      return make(token === '-' ? -operand.value : operand.value, operand.integer);
    }
    return power();
  };
  const power = (): Num => {
    const base = atom();
    if (peek() === '**') {
      pos++;
      return binary('**', base, unary());
    }
    return base;
  };
  const product = (): Num => {
    let left = unary();
    while (['*', '/', '//', '%'].includes(peek() ?? '')) {
      const op = tokens[pos++];
      left = binary(op, left, unary());
    }
    return left;
  };
  const sum = (): Num => {
    let left = product();
    while (peek() === '+' || peek() === '-') {
      const op = tokens[pos++];
      left = binary(op, left, product());
    }
    return left;
  };
  const result = sum();
  if (pos < tokens.length) {
    fail(`unexpected "${tokens[pos]}"`);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Fn::Cidr (IPv4), with CloudFormation's semantics: `count` consecutive subnets of `32 - cidrBits` prefix bits,
// starting at the block's network address.

function cidrSubnets(block: string, count: number, hostBits: number): string[] {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(block.trim());
  const octets = match ? match.slice(1, 5).map(Number) : [];
  const prefix = match ? Number(match[5]) : NaN;
  if (!match || octets.some((o) => o > 255) || prefix > 32) {
    throw new TemplateError(`${show(block)} is not an IPv4 CIDR block (LocalCloud supports IPv4 only)`);
  }
  const subnetPrefix = 32 - hostBits;
  if (subnetPrefix < prefix) {
    throw new TemplateError(
      `cidrBits ${hostBits} leaves a /${subnetPrefix} subnet, larger than the /${prefix} block`,
    );
  }
  if (count > 2 ** (subnetPrefix - prefix)) {
    throw new TemplateError(
      `a /${prefix} block holds only ${2 ** (subnetPrefix - prefix)} subnets of /${subnetPrefix}`,
    );
  }
  const address = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** hostBits;
  const network = address - (address % 2 ** (32 - prefix));
  return Array.from({ length: count }, (_, i) => {
    const start = network + i * size;
    const parts = [24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256);
    return `${parts.join('.')}/${subnetPrefix}`;
  });
}
