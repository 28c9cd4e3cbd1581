/**
 * The pure part of LocalCloud's ROS stack engine: parsing and checking templates (JSON or YAML, with short-form
 * tags and the `@Base64Encoded: ` prefix the ros-cdk CLI sends), parameters, conditions, rules, property and
 * output resolution. The engine adds the I/O; functions and the dependency graph live in `intrinsics.ts` and
 * `graph.ts`, the template's types in `template-schema.ts`, and are re-exported here.
 */
import { isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node as YamlNode, Tags } from 'yaml';
import type { DependencyGraph } from './graph';
import { dependencies, topologicalLayers, validateReferences } from './graph';
import {
  TEMPLATE_FORMAT_VERSION,
  type OutputDefinition,
  type ParameterDefinition,
  type ParameterType,
  type ResourceDefinition,
  type RuleDefinition,
  type Template,
} from './template-schema';
import type { ResolveContext } from './intrinsics';
import {
  NUMBER,
  TemplateError,
  show,
  evaluateCondition,
  fullMatch,
  matchesFully,
  isObject,
  knownFunctionNames,
  locatedError,
  resolveValue,
  setKey,
} from './intrinsics';

export {
  NO_VALUE_REF,
  PSEUDO_PARAMETERS,
  TemplateError,
  UNSUPPORTED_FUNCTIONS,
  evaluateCondition,
  isPseudoParameter,
  resolveValue,
} from './intrinsics';
export type { Mappings, ResolveContext } from './intrinsics';
export {
  checkGraph,
  dependencies,
  findReferences,
  readyToCreate,
  reverseGraph,
  topologicalLayers,
  validateReferences,
} from './graph';
export type { DependencyGraph, Reference } from './graph';
export { TEMPLATE_FORMAT_VERSION } from './template-schema';
export type {
  OutputDefinition,
  ParameterDefinition,
  ParameterType,
  ResourceDefinition,
  RuleDefinition,
  Template,
} from './template-schema';

/** The prefix the ros-cdk CLI puts before a base64-encoded `TemplateBody`. */
export const BASE64_PREFIX = '@Base64Encoded:';

// ---------------------------------------------------------------------------------------------------------------
// Parsing

const SECTIONS = [
  'ROSTemplateFormatVersion',
  'Description',
  'Metadata',
  'Parameters',
  'Mappings',
  'Conditions',
  'Resources',
  'Outputs',
  'Rules',
];
const RESOURCE_KEYS = [
  'Type',
  'Properties',
  'DependsOn',
  'Condition',
  'DeletionPolicy',
  'Metadata',
  'Description',
  'UpdatePolicy',
  'CreationPolicy',
];

/**
 * Parses a template body (JSON, or YAML with short-form tags such as `!Ref` and `!GetAtt A.B`, optionally
 * base64-encoded behind `@Base64Encoded: `) and checks its structure and references. Throws `TemplateError`
 * (code `InvalidTemplate`) naming the section, resource, parameter or output at fault.
 */
/** How deeply a template's values may nest (maps and lists); real templates stay far below. */
export const MAX_TEMPLATE_DEPTH = 200;

/** Refuses values nested deeper than {@link MAX_TEMPLATE_DEPTH} (checked without recursion). */
function checkDepth(root: unknown): void {
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') {
      continue;
    }
    if (depth > MAX_TEMPLATE_DEPTH) {
      throw new TemplateError(`The template nests values more than ${MAX_TEMPLATE_DEPTH} levels deep`);
    }
    for (const child of Object.values(value)) {
      stack.push([child, depth + 1]);
    }
  }
}

export function parseTemplate(body: string): Template {
  const text = decodeBody(body);
  const raw = text.trimStart().startsWith('{') ? parseJson(text) : parseYaml(text);
  checkDepth(raw);
  const template = checkStructure(raw);
  validateReferences(template);
  return template;
}

function decodeBody(body: string): string {
  if (typeof body !== 'string' || body.trim() === '') {
    throw new TemplateError('The template body is empty');
  }
  const trimmed = body.replace(/^\uFEFF/, '').trimStart();
  if (!trimmed.startsWith(BASE64_PREFIX)) {
    return trimmed;
  }
  const encoded = trimmed.slice(BASE64_PREFIX.length).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 === 1) {
    throw new TemplateError(`The template body after "${BASE64_PREFIX}" is not base64`);
  }
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  if (decoded.trim() === '') {
    throw new TemplateError(`The template body after "${BASE64_PREFIX}" is empty`);
  }
  return decoded;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new TemplateError(`The template is not valid JSON: ${(error as Error).message}`);
  }
}

/** `!X` → `Fn::X`, except `!Ref` → `Ref` and `!Condition` → `Condition`. */
function shortTagFunction(tag: string | undefined): string | undefined {
  if (!tag || !tag.startsWith('!') || tag.startsWith('!!')) {
    return undefined;
  }
  const name = tag.slice(1);
  return name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
}

let yamlTags: Tags | undefined;

/** Identity tags for every known function in its three YAML forms; the AST walk turns them into functions. */
function shortFormTags(): Tags {
  if (!yamlTags) {
    const names = [
      'Ref',
      'Condition',
      ...knownFunctionNames()
        .filter((n) => n.startsWith('Fn::'))
        .map((n) => n.slice(4)),
    ];
    yamlTags = names.flatMap((name) => [
      { tag: `!${name}`, resolve: (value: string) => value },
      { tag: `!${name}`, collection: 'seq' as const },
      { tag: `!${name}`, collection: 'map' as const },
    ]);
  }
  return yamlTags;
}

function parseYaml(text: string): unknown {
  const doc = parseDocument(text, { customTags: shortFormTags(), uniqueKeys: true });
  const error = doc.errors[0];
  if (error) {
    throw new TemplateError(`The template is not valid YAML: ${error.message}`);
  }
  const unknownTag = doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (unknownTag) {
    throw new TemplateError(`The template uses an unknown YAML tag: ${unknownTag.message.split('\n')[0]}`);
  }
  return yamlValue(doc.contents, { doc, aliases: 0 });
}

/** Aliases a template may expand, against "billion laughs" documents and self-referencing anchors. */
const MAX_ALIASES = 1000;

function yamlValue(node: unknown, state: { readonly doc: Document; aliases: number }): unknown {
  if (node === null || node === undefined) {
    return null;
  }
  if (isAlias(node)) {
    if (++state.aliases > MAX_ALIASES) {
      throw new TemplateError(`The template expands more than ${MAX_ALIASES} YAML aliases`);
    }
    return yamlValue(node.resolve(state.doc), state);
  }
  let value: unknown;
  if (isScalar(node)) {
    value = node.value;
  } else if (isMap(node)) {
    const map: Record<string, unknown> = {};
    for (const pair of node.items) {
      const key = yamlValue(pair.key, state);
      if (typeof key === 'object' && key !== null) {
        throw new TemplateError('The template uses a non-scalar YAML key');
      }
      setKey(map, String(key), yamlValue(pair.value, state));
    }
    value = map;
  } else if (isSeq(node)) {
    value = node.items.map((item) => yamlValue(item, state));
  } else {
    throw new TemplateError('The template holds a YAML node LocalCloud cannot read');
  }
  const fn = shortTagFunction((node as YamlNode).tag);
  return fn ? { [fn]: value } : value;
}

function checkStructure(raw: unknown): Template {
  if (!isObject(raw)) {
    throw new TemplateError(`The template must be a map of sections, got ${show(raw)}`);
  }
  for (const key of Object.keys(raw)) {
    if (!SECTIONS.includes(key)) {
      throw new TemplateError(`Unknown template section ${key}; LocalCloud reads ${SECTIONS.join(', ')}`);
    }
  }
  if (raw.ROSTemplateFormatVersion === undefined) {
    throw new TemplateError(
      `The template has no ROSTemplateFormatVersion (it must be "${TEMPLATE_FORMAT_VERSION}")`,
    );
  }
  if (raw.ROSTemplateFormatVersion !== TEMPLATE_FORMAT_VERSION) {
    throw new TemplateError(
      `ROSTemplateFormatVersion must be "${TEMPLATE_FORMAT_VERSION}", got ${show(raw.ROSTemplateFormatVersion)}`,
    );
  }
  if (raw.Description !== undefined && typeof raw.Description !== 'string') {
    throw new TemplateError(`Description must be a string, got ${show(raw.Description)}`);
  }
  const metadata = section(raw, 'Metadata');
  const conditions = section(raw, 'Conditions');
  const parameters = mapEntries(section(raw, 'Parameters'), (name, value) => checkParameter(name, value));
  const mappings = mapEntries(section(raw, 'Mappings'), (name, value) => checkMapping(name, value));
  const resources = mapEntries(section(raw, 'Resources'), (id, value) =>
    checkResource(id, value, conditions),
  );
  const outputs = mapEntries(section(raw, 'Outputs'), (key, value) => checkOutput(key, value, conditions));
  const rules = mapEntries(section(raw, 'Rules'), (name, value) => checkRule(name, value));
  for (const id of Object.keys(resources)) {
    if (Object.prototype.hasOwnProperty.call(parameters, id)) {
      throw new TemplateError(`${id} is both a parameter and a resource; Ref ${id} would be ambiguous`);
    }
  }
  return {
    ROSTemplateFormatVersion: TEMPLATE_FORMAT_VERSION,
    ...(raw.Description !== undefined ? { Description: raw.Description as string } : {}),
    ...(raw.Metadata !== undefined ? { Metadata: metadata } : {}),
    Parameters: parameters,
    Mappings: mappings,
    Conditions: conditions,
    Resources: resources,
    Outputs: outputs,
    Rules: rules,
  };
}

/** A section as a map; a section left empty in YAML (`Outputs:`) reads as null and counts as empty. */
function section(raw: Record<string, unknown>, name: string): Record<string, unknown> {
  const value = raw[name];
  if (value === undefined || value === null) {
    return {};
  }
  if (!isObject(value)) {
    throw new TemplateError(`The ${name} section must be a map, got ${show(value)}`);
  }
  return value;
}

function mapEntries<T>(
  source: Record<string, unknown>,
  check: (key: string, value: unknown) => T,
): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [key, value] of Object.entries(source)) {
    if (key === '' || key.includes('.') || key.startsWith('ALIYUN::')) {
      throw new TemplateError(`${show(key)} is not a valid name (no dots, not empty, not ALIYUN::...)`);
    }
    setKey(out, key, check(key, value));
  }
  return out;
}

const PARAMETER_TYPES: readonly string[] = ['String', 'Number', 'CommaDelimitedList', 'Json', 'Boolean'];

function checkParameter(name: string, value: unknown): ParameterDefinition {
  const where = `Parameter ${name}`;
  if (!isObject(value)) {
    throw new TemplateError(`${where} must be a map with a Type, got ${show(value)}`);
  }
  const type = value.Type;
  if (typeof type !== 'string') {
    throw new TemplateError(`${where} has no Type`);
  }
  if (!PARAMETER_TYPES.includes(type) && !type.startsWith('ALIYUN::OOS::')) {
    throw new TemplateError(
      `${where} has an unknown Type ${show(type)}; use one of ${PARAMETER_TYPES.join(', ')}`,
    );
  }
  if (value.AllowedValues !== undefined && !Array.isArray(value.AllowedValues)) {
    throw new TemplateError(`${where}: AllowedValues must be a list, got ${show(value.AllowedValues)}`);
  }
  if (value.AllowedPattern !== undefined) {
    if (typeof value.AllowedPattern !== 'string') {
      throw new TemplateError(`${where}: AllowedPattern must be a string, got ${show(value.AllowedPattern)}`);
    }
    try {
      fullMatch(value.AllowedPattern);
    } catch (error) {
      throw new TemplateError(`${where}: AllowedPattern ${(error as Error).message}`);
    }
  }
  const definition: Record<string, unknown> = { ...value };
  for (const key of ['MinLength', 'MaxLength', 'MinValue', 'MaxValue']) {
    if (value[key] === undefined) {
      continue;
    }
    const n = typeof value[key] === 'string' && NUMBER.test(value[key]) ? Number(value[key]) : value[key];
    if (typeof n !== 'number' || !Number.isFinite(n)) {
      throw new TemplateError(`${where}: ${key} must be a number, got ${show(value[key])}`);
    }
    definition[key] = n;
  }
  if (value.NoEcho !== undefined) {
    const noEcho = typeof value.NoEcho === 'string' ? value.NoEcho.toLowerCase() : value.NoEcho;
    if (noEcho !== true && noEcho !== false && noEcho !== 'true' && noEcho !== 'false') {
      throw new TemplateError(`${where}: NoEcho must be true or false, got ${show(value.NoEcho)}`);
    }
    definition.NoEcho = noEcho === true || noEcho === 'true';
  }
  return definition as ParameterDefinition;
}

function checkMapping(
  name: string,
  value: unknown,
): Readonly<Record<string, Readonly<Record<string, unknown>>>> {
  if (!isObject(value)) {
    throw new TemplateError(`Mapping ${name} must be a map of maps, got ${show(value)}`);
  }
  for (const [key, second] of Object.entries(value)) {
    if (!isObject(second)) {
      throw new TemplateError(
        `Mapping ${name}: the value of ${show(key)} must be a map, got ${show(second)}`,
      );
    }
  }
  return value as Record<string, Record<string, unknown>>;
}

function checkResource(id: string, value: unknown, conditions: Record<string, unknown>): ResourceDefinition {
  const where = `Resource ${id}`;
  if (!isObject(value)) {
    throw new TemplateError(`${where} must be a map with a Type, got ${show(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (key === 'Count') {
      throw new TemplateError(`${where} uses Count, which LocalCloud does not support`);
    }
    if (!RESOURCE_KEYS.includes(key)) {
      throw new TemplateError(
        `${where} has an unknown attribute ${key}; resources have ${RESOURCE_KEYS.join(', ')}`,
      );
    }
  }
  if (typeof value.Type !== 'string' || value.Type === '') {
    throw new TemplateError(`${where} has no Type`);
  }
  const properties = value.Properties ?? {};
  if (!isObject(properties)) {
    throw new TemplateError(`${where}: Properties must be a map, got ${show(properties)}`);
  }
  const dependsOn = value.DependsOn === undefined ? [] : value.DependsOn;
  const dependsOnList = typeof dependsOn === 'string' ? [dependsOn] : dependsOn;
  if (!Array.isArray(dependsOnList) || dependsOnList.some((d) => typeof d !== 'string')) {
    throw new TemplateError(
      `${where}: DependsOn must be a resource name or a list of them, got ${show(dependsOn)}`,
    );
  }
  const condition = checkConditionName(where, value.Condition, conditions);
  if (
    value.DeletionPolicy !== undefined &&
    value.DeletionPolicy !== 'Delete' &&
    value.DeletionPolicy !== 'Retain'
  ) {
    throw new TemplateError(
      `${where}: DeletionPolicy must be Delete or Retain, got ${show(value.DeletionPolicy)}`,
    );
  }
  if (value.Metadata !== undefined && !isObject(value.Metadata)) {
    throw new TemplateError(`${where}: Metadata must be a map, got ${show(value.Metadata)}`);
  }
  return {
    Type: value.Type,
    Properties: properties,
    DependsOn: dependsOnList as string[],
    ...(condition !== undefined ? { Condition: condition } : {}),
    ...(value.DeletionPolicy !== undefined ? { DeletionPolicy: value.DeletionPolicy } : {}),
    ...(value.Metadata !== undefined ? { Metadata: value.Metadata as Record<string, unknown> } : {}),
    ...(value.Description !== undefined ? { Description: value.Description } : {}),
  };
}

function checkConditionName(
  where: string,
  name: unknown,
  conditions: Record<string, unknown>,
): string | undefined {
  if (name === undefined) {
    return undefined;
  }
  if (typeof name !== 'string') {
    throw new TemplateError(`${where}: Condition must be a condition name, got ${show(name)}`);
  }
  if (!Object.prototype.hasOwnProperty.call(conditions, name)) {
    throw new TemplateError(`${where} has Condition ${name}, which is not defined in Conditions`);
  }
  return name;
}

function checkOutput(key: string, value: unknown, conditions: Record<string, unknown>): OutputDefinition {
  const where = `Output ${key}`;
  if (!isObject(value) || !('Value' in value)) {
    throw new TemplateError(`${where} has no Value`);
  }
  const condition = checkConditionName(where, value.Condition, conditions);
  const noEcho =
    value.NoEcho === true || (typeof value.NoEcho === 'string' && value.NoEcho.toLowerCase() === 'true');
  return {
    ...value,
    Value: value.Value,
    ...(condition !== undefined ? { Condition: condition } : {}),
    ...(value.NoEcho !== undefined ? { NoEcho: noEcho } : {}),
  };
}

function checkRule(name: string, value: unknown): RuleDefinition {
  const where = `Rule ${name}`;
  if (!isObject(value)) {
    throw new TemplateError(`${where} must be a map with Assertions, got ${show(value)}`);
  }
  // ROS documents a list of assertions; the ROS CDK's RosRule renders a single one.
  const assertions = Array.isArray(value.Assertions)
    ? value.Assertions
    : value.Assertions === undefined
      ? []
      : [value.Assertions];
  if (assertions.length === 0) {
    throw new TemplateError(`${where} has no Assertions`);
  }
  for (const assertion of assertions) {
    if (!isObject(assertion) || !('Assert' in assertion)) {
      throw new TemplateError(`${where}: each assertion must be a map with Assert, got ${show(assertion)}`);
    }
  }
  return {
    ...(value.RuleCondition !== undefined ? { RuleCondition: value.RuleCondition } : {}),
    Assertions: assertions as RuleDefinition['Assertions'],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Parameters

/** The pseudo parameter values of one stack. `ALIYUN::TenantId` is the account id. */
export interface PseudoParameters {
  readonly region: string;
  readonly accountId: string;
  readonly stackId: string;
  readonly stackName: string;
}

export interface ResolvedParameters {
  /**
   * Typed values by name: String → string, Number → number, CommaDelimitedList → string[], Json → the parsed
   * value, Boolean → boolean; plus the pseudo parameters (`ALIYUN::Region`, `ALIYUN::AccountId`,
   * `ALIYUN::TenantId`, `ALIYUN::StackId`, `ALIYUN::StackName`).
   */
  readonly values: Readonly<Record<string, unknown>>;
  /** Each template parameter's effective value as text (the given value, or the Default rendered). */
  readonly strings: Readonly<Record<string, string>>;
  /** Template parameters with NoEcho: their values show as `****` in GetStack, events and messages. */
  readonly noEcho: ReadonlySet<string>;
  readonly pseudo: PseudoParameters;
}

export const MASK = '****';

/**
 * Checks and converts the given parameter values (as strings, the way the ROS API receives them), filling in
 * Defaults. Throws `TemplateError` with code `InvalidParameter` naming the parameter: unknown names, missing
 * values, values of the wrong type, and each constraint (AllowedValues, AllowedPattern, MinLength/MaxLength,
 * MinValue/MaxValue; ConstraintDescription is added to the message).
 */
export function resolveParameters(
  template: Template,
  given: Readonly<Record<string, string>>,
  pseudo: PseudoParameters,
): ResolvedParameters {
  for (const name of Object.keys(given)) {
    if (!Object.prototype.hasOwnProperty.call(template.Parameters, name)) {
      throw new TemplateError(`Parameter ${name} is not defined in the template`, 'InvalidParameter');
    }
  }
  const values: Record<string, unknown> = {
    'ALIYUN::Region': pseudo.region,
    'ALIYUN::AccountId': pseudo.accountId,
    'ALIYUN::TenantId': pseudo.accountId,
    'ALIYUN::StackId': pseudo.stackId,
    'ALIYUN::StackName': pseudo.stackName,
  };
  const strings: Record<string, string> = {};
  const noEcho = new Set<string>();
  for (const [name, definition] of Object.entries(template.Parameters)) {
    if (definition.NoEcho) {
      noEcho.add(name);
    }
    const hasGiven = Object.prototype.hasOwnProperty.call(given, name);
    const hasDefault = definition.Default !== undefined && definition.Default !== null;
    if (!hasGiven && !hasDefault) {
      throw new TemplateError(
        `Parameter ${name} was not given a value and has no Default`,
        'InvalidParameter',
      );
    }
    const raw: unknown = hasGiven ? given[name] : definition.Default;
    const source = hasGiven ? 'value' : 'Default';
    const value = convertParameter(name, definition, raw, source);
    checkConstraints(name, definition, value, raw, source);
    setKey(values, name, value);
    setKey(strings, name, parameterText(value, raw));
  }
  return { values, strings, noEcho, pseudo };
}

function parameterType(definition: ParameterDefinition): ParameterType {
  return PARAMETER_TYPES.includes(definition.Type) ? (definition.Type as ParameterType) : 'String';
}

function convertParameter(
  name: string,
  definition: ParameterDefinition,
  raw: unknown,
  source: string,
): unknown {
  const type = parameterType(definition);
  const shown = definition.NoEcho ? MASK : show(raw);
  const fail = (what: string): never => {
    throw new TemplateError(`Parameter ${name}: the ${source} ${shown} is not ${what}`, 'InvalidParameter');
  };
  switch (type) {
    case 'String':
      if (typeof raw === 'string') {
        return raw;
      }
      return typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : fail('a string');
    case 'Number':
      if (typeof raw === 'number' && Number.isFinite(raw)) {
        return raw;
      }
      return typeof raw === 'string' && NUMBER.test(raw) ? Number(raw) : fail('a number');
    case 'CommaDelimitedList':
      if (typeof raw === 'string') {
        return raw.trim() === '' ? [] : raw.split(',').map((item) => item.trim());
      }
      if (Array.isArray(raw) && raw.every((item) => ['string', 'number', 'boolean'].includes(typeof item))) {
        return raw.map(String);
      }
      return fail('a comma-delimited list');
    case 'Json':
      if (typeof raw !== 'string') {
        return raw;
      }
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        return fail('JSON');
      }
    case 'Boolean':
      if (typeof raw === 'boolean') {
        return raw;
      }
      if (typeof raw === 'string' && /^(true|false)$/i.test(raw.trim())) {
        return raw.trim().toLowerCase() === 'true';
      }
      return fail('true or false');
  }
}

function checkConstraints(
  name: string,
  definition: ParameterDefinition,
  value: unknown,
  raw: unknown,
  source: string,
): void {
  const shown = definition.NoEcho ? MASK : show(raw);
  const description = constraintDescription(definition.ConstraintDescription);
  const fail = (rule: string): never => {
    throw new TemplateError(
      `Parameter ${name}: the ${source} ${shown} ${rule}${description ? ` (${description})` : ''}`,
      'InvalidParameter',
    );
  };
  const items = Array.isArray(value) && parameterType(definition) === 'CommaDelimitedList' ? value : [value];
  if (definition.AllowedValues) {
    const allowed = definition.AllowedValues;
    const json = parameterType(definition) === 'Json';
    for (const item of json ? [value] : items) {
      if (!allowed.some((candidate) => sameParameterValue(candidate, item))) {
        fail(`is not one of the allowed values ${show(allowed)}`);
      }
    }
  }
  if (definition.AllowedPattern !== undefined && parameterType(definition) !== 'Json') {
    const pattern = fullMatch(definition.AllowedPattern);
    for (const item of items) {
      if (!matchesFully(pattern, String(item))) {
        fail(`does not match the allowed pattern ${show(definition.AllowedPattern)}`);
      }
    }
  }
  // Lengths count characters of a string, items of a list and keys of a Json map.
  const length =
    typeof value === 'string'
      ? value.length
      : Array.isArray(value)
        ? value.length
        : isObject(value)
          ? Object.keys(value).length
          : undefined;
  const unit = typeof value === 'string' ? 'characters' : 'items';
  if (length !== undefined && definition.MinLength !== undefined && length < definition.MinLength) {
    fail(`has ${length} ${unit}, fewer than MinLength ${definition.MinLength}`);
  }
  if (length !== undefined && definition.MaxLength !== undefined && length > definition.MaxLength) {
    fail(`has ${length} ${unit}, more than MaxLength ${definition.MaxLength}`);
  }
  if (typeof value === 'number' && definition.MinValue !== undefined && value < definition.MinValue) {
    fail(`is less than MinValue ${definition.MinValue}`);
  }
  if (typeof value === 'number' && definition.MaxValue !== undefined && value > definition.MaxValue) {
    fail(`is greater than MaxValue ${definition.MaxValue}`);
  }
}

function sameParameterValue(allowed: unknown, value: unknown): boolean {
  if (typeof value === 'number') {
    return Number(allowed) === value;
  }
  if (typeof value === 'boolean') {
    return String(allowed).toLowerCase() === String(value);
  }
  if (typeof value === 'string') {
    return String(allowed) === value;
  }
  return JSON.stringify(allowed) === JSON.stringify(value);
}

/** ConstraintDescription may be text or a map by language (`{en: ..., zh-cn: ...}`); English is preferred. */
function constraintDescription(value: unknown): string | undefined {
  if (typeof value === 'string') {
    return value;
  }
  if (isObject(value)) {
    const text = value.en ?? Object.values(value)[0];
    return typeof text === 'string' ? text : undefined;
  }
  return undefined;
}

function parameterText(value: unknown, raw: unknown): string {
  if (typeof raw === 'string') {
    return raw;
  }
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    return value.join(',');
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------------------------
// Conditions and rules

/** Evaluates every condition of the template (conditions may use each other; cycles are reported). */
export function evaluateConditions(
  template: Template,
  parameters: ResolvedParameters,
): Record<string, boolean> {
  const results: Record<string, boolean> = {};
  const evaluating: string[] = [];
  const ctx = parameterContext(template, parameters, (name) => evaluate(name));
  function evaluate(name: string): boolean {
    if (Object.prototype.hasOwnProperty.call(results, name)) {
      return results[name];
    }
    if (!Object.prototype.hasOwnProperty.call(template.Conditions, name)) {
      throw new TemplateError(`there is no condition named ${name}`);
    }
    if (evaluating.includes(name)) {
      throw locatedError(
        `Circular condition reference: ${[...evaluating.slice(evaluating.indexOf(name)), name].join(' -> ')}`,
      );
    }
    evaluating.push(name);
    try {
      setKey(results, name, evaluateCondition(template.Conditions[name], ctx, `Condition ${name}`));
    } finally {
      evaluating.pop();
    }
    return results[name];
  }
  for (const name of Object.keys(template.Conditions)) {
    evaluate(name);
  }
  return results;
}

/** Checks the template's Rules against the parameter values; a failed assertion is an `InvalidParameter`. */
export function checkRules(template: Template, parameters: ResolvedParameters): void {
  const ctx = parameterContext(template, parameters, (name) => {
    throw new TemplateError(`rules cannot use conditions (${name})`);
  });
  for (const [name, rule] of Object.entries(template.Rules)) {
    const where = `Rule ${name}`;
    if (
      rule.RuleCondition !== undefined &&
      !evaluateCondition(rule.RuleCondition, ctx, `${where} RuleCondition`)
    ) {
      continue;
    }
    rule.Assertions.forEach((assertion, i) => {
      if (!evaluateCondition(assertion.Assert, ctx, `${where} assertion ${i + 1}`)) {
        const text =
          typeof assertion.AssertDescription === 'string'
            ? assertion.AssertDescription
            : `assertion ${i + 1} is false`;
        throw new TemplateError(`${where} failed: ${text}`, 'InvalidParameter');
      }
    });
  }
}

/** A context that knows only parameters (for conditions and rules): resources cannot be referenced. */
function parameterContext(
  template: Template,
  parameters: ResolvedParameters,
  condition: (name: string) => boolean,
): ResolveContext {
  const noResources = (name: string): never => {
    throw new TemplateError(`${name} is not a parameter or pseudo parameter (resources cannot be used here)`);
  };
  return {
    parameters: parameters.values,
    mappings: template.Mappings,
    region: parameters.pseudo.region,
    accountId: parameters.pseudo.accountId,
    condition,
    ref: noResources,
    getAtt: noResources,
  };
}

/** The resources the stack creates: those without a Condition or whose Condition is true, in template order. */
export function activeResources(template: Template, conditions: Readonly<Record<string, boolean>>): string[] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Condition === undefined || conditions[resource.Condition] === true)
    .map(([id]) => id);
}

/** The outputs the stack shows: those without a Condition or whose Condition is true, in template order. */
export function activeOutputs(template: Template, conditions: Readonly<Record<string, boolean>>): string[] {
  return Object.entries(template.Outputs)
    .filter(([, output]) => output.Condition === undefined || conditions[output.Condition] === true)
    .map(([key]) => key);
}

// ---------------------------------------------------------------------------------------------------------------
// Resolution

export interface ContextOptions {
  readonly template: Template;
  readonly parameters: ResolvedParameters;
  readonly conditions: Readonly<Record<string, boolean>>;
  /** The physical id of a created resource; throw when it is not available. */
  ref(logicalId: string): unknown;
  /** An attribute of a created resource; throw a clear error for an unknown attribute or a resource not ready. */
  getAtt(logicalId: string, attribute: string): unknown;
  getStackOutput?(stackId: string, outputKey: string, regionId: string): unknown;
}

/** A `ResolveContext` over a stack's parameters and conditions, with the engine's resource lookups. */
export function createResolveContext(options: ContextOptions): ResolveContext {
  const { template, parameters, conditions } = options;
  return {
    parameters: parameters.values,
    mappings: template.Mappings,
    region: parameters.pseudo.region,
    accountId: parameters.pseudo.accountId,
    condition: (name) => {
      if (!Object.prototype.hasOwnProperty.call(conditions, name)) {
        throw new TemplateError(`there is no condition named ${name}`);
      }
      return conditions[name];
    },
    ref: (id) => options.ref(id),
    getAtt: (id, attribute) => options.getAtt(id, attribute),
    ...(options.getStackOutput ? { getStackOutput: options.getStackOutput } : {}),
  };
}

/** A resource's resolved `Properties` (NoValue entries removed); errors name the resource and property. */
export function resolveResourceProperties(
  template: Template,
  logicalId: string,
  ctx: ResolveContext,
): Record<string, unknown> {
  const resource = template.Resources[logicalId];
  if (!resource || !Object.prototype.hasOwnProperty.call(template.Resources, logicalId)) {
    throw new TemplateError(`There is no resource ${logicalId} in the template`);
  }
  return (resolveValue(resource.Properties, ctx, `Resource ${logicalId} Properties`) ?? {}) as Record<
    string,
    unknown
  >;
}

export interface StackOutput {
  readonly OutputKey: string;
  /** The resolved value as is (a string, a number, a list or a map); `****` when the output is NoEcho. */
  readonly OutputValue: unknown;
  readonly Description?: string;
  readonly NoEcho?: boolean;
}

/**
 * The stack's outputs, skipping those whose Condition is false and those whose value resolves to
 * `ALIYUN::NoValue` (e.g. `Fn::If [Cond, X, !Ref ALIYUN::NoValue]`). Throws when an output cannot be resolved.
 */
export function resolveOutputs(
  template: Template,
  ctx: ResolveContext,
  conditions: Readonly<Record<string, boolean>>,
  options: { readonly unmasked?: boolean } = {},
): StackOutput[] {
  const outputs: StackOutput[] = [];
  for (const key of activeOutputs(template, conditions)) {
    const output = template.Outputs[key];
    const value = resolveValue(output.Value, ctx, `Output ${key} Value`);
    if (value === undefined) {
      continue;
    }
    outputs.push({
      OutputKey: key,
      OutputValue: output.NoEcho && !options.unmasked ? MASK : value,
      ...(typeof output.Description === 'string' ? { Description: output.Description } : {}),
      ...(output.NoEcho ? { NoEcho: true } : {}),
    });
  }
  return outputs;
}

// ---------------------------------------------------------------------------------------------------------------

/** Everything the engine decides before creating anything. */
export interface StackPlan {
  readonly parameters: ResolvedParameters;
  readonly conditions: Record<string, boolean>;
  /** Resources to create, in template order. */
  readonly resources: string[];
  /** Outputs to show, in template order. */
  readonly outputs: string[];
  readonly graph: DependencyGraph;
  /** Creation order in layers of resources that can be created in parallel. */
  readonly layers: string[][];
}

/**
 * Parameters, rules, conditions, active resources and outputs, and the dependency graph (checked for unknown
 * references and cycles), in one call. Throws `TemplateError` (`InvalidParameter` or `InvalidTemplate`).
 */
export function planStack(
  template: Template,
  given: Readonly<Record<string, string>>,
  pseudo: PseudoParameters,
): StackPlan {
  const parameters = resolveParameters(template, given, pseudo);
  checkRules(template, parameters);
  const conditions = evaluateConditions(template, parameters);
  const resources = activeResources(template, conditions);
  const graph = dependencies(template, resources);
  return {
    parameters,
    conditions,
    resources,
    outputs: activeOutputs(template, conditions),
    graph,
    layers: topologicalLayers(graph),
  };
}
