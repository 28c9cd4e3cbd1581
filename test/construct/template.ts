import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ros from '@alicloud/ros-cdk-core';

/**
 * A small `Template`/`Match` in the manner of `aws-cdk-lib/assertions`, over the JSON a stack synthesizes to:
 * find resources by type, match their properties partially (objects) or exactly (`Match.exact`), and say what
 * differed when nothing matches.
 */

/** Where test apps synthesize; removed when the process exits. */
const OUT_ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'image-copy-construct-'));
process.once('exit', () => fs.rmSync(OUT_ROOT, { recursive: true, force: true }));

/** An app whose synthesis goes to a temporary directory. */
export function newApp(context: { [key: string]: string } = {}): ros.App {
  return new ros.App({ outdir: fs.mkdtempSync(path.join(OUT_ROOT, 'app-')), context });
}

/** A stack in an app of its own ({@link newApp}). */
export function newStack(id = 'TestStack', props: ros.StackProps = {}): ros.Stack {
  return new ros.Stack(newApp(), id, props);
}

/** A resource as it appears in the template. */
export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
  readonly [key: string]: unknown;
}

/** A matcher for a value at some path of the template. */
export abstract class Matcher {
  /** Undefined when `actual` matches; otherwise why not, at `where`. */
  public abstract test(actual: unknown, where: string): string | undefined;
}

class ExactMatcher extends Matcher {
  constructor(private readonly expected: unknown) {
    super();
  }

  public test(actual: unknown, where: string): string | undefined {
    return deepEqual(actual, this.expected)
      ? undefined
      : `${where}: expected exactly ${show(this.expected)}, got ${show(actual)}`;
  }
}

class ObjectLikeMatcher extends Matcher {
  constructor(private readonly pattern: Record<string, unknown>) {
    super();
  }

  public test(actual: unknown, where: string): string | undefined {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) {
      return `${where}: expected an object, got ${show(actual)}`;
    }
    for (const [key, expected] of Object.entries(this.pattern)) {
      const problem = match(expected, (actual as Record<string, unknown>)[key], `${where}.${key}`);
      if (problem !== undefined) {
        return problem;
      }
    }
    return undefined;
  }
}

class ArrayWithMatcher extends Matcher {
  constructor(private readonly elements: unknown[]) {
    super();
  }

  public test(actual: unknown, where: string): string | undefined {
    if (!Array.isArray(actual)) {
      return `${where}: expected an array, got ${show(actual)}`;
    }
    for (const expected of this.elements) {
      if (!actual.some((element, i) => match(expected, element, `${where}[${i}]`) === undefined)) {
        return `${where}: no element matches ${show(expected)} in ${show(actual)}`;
      }
    }
    return undefined;
  }
}

class AbsentMatcher extends Matcher {
  public test(actual: unknown, where: string): string | undefined {
    return actual === undefined ? undefined : `${where}: expected to be absent, got ${show(actual)}`;
  }
}

class AnyValueMatcher extends Matcher {
  public test(actual: unknown, where: string): string | undefined {
    return actual === undefined || actual === null
      ? `${where}: expected a value, got ${show(actual)}`
      : undefined;
  }
}

class RegexpMatcher extends Matcher {
  constructor(private readonly pattern: RegExp) {
    super();
  }

  public test(actual: unknown, where: string): string | undefined {
    return typeof actual === 'string' && this.pattern.test(actual)
      ? undefined
      : `${where}: expected a string matching ${this.pattern}, got ${show(actual)}`;
  }
}

/** Matchers to put inside an expected value. Plain objects match partially, everything else exactly. */
export const Match = {
  /** Exactly this value: objects must have no other keys. */
  exact: (expected: unknown): Matcher => new ExactMatcher(expected),
  /** An object with at least these keys, each matching. */
  objectLike: (pattern: Record<string, unknown>): Matcher => new ObjectLikeMatcher(pattern),
  /** An array with an element matching each of these, in any order. */
  arrayWith: (elements: unknown[]): Matcher => new ArrayWithMatcher(elements),
  /** The key is not there. */
  absent: (): Matcher => new AbsentMatcher(),
  /** Any value but undefined or null. */
  anyValue: (): Matcher => new AnyValueMatcher(),
  /** A string matching the pattern. */
  stringLikeRegexp: (pattern: RegExp): Matcher => new RegexpMatcher(pattern),
};

/** A synthesized template and questions about it. */
export class Template {
  /** Synthesizes the app of `stack` and reads the stack's template. */
  public static fromStack(stack: ros.Stack): Template {
    const assembly = ros.Stage.of(stack)!.synth();
    const artifact = assembly.getStackByName(stack.stackName);
    const text = fs.readFileSync(path.join(assembly.directory, artifact.templateFile), 'utf8');
    return new Template(JSON.parse(text), Buffer.byteLength(text));
  }

  /**
   * @param json the template
   * @param byteLength bytes of the template file as synthesized
   */
  constructor(
    public readonly json: { Resources?: Record<string, TemplateResource>; [key: string]: unknown },
    public readonly byteLength: number,
  ) {}

  /** Bytes of the template as a deploy tool sends it: compact JSON. */
  public get compactByteLength(): number {
    return Buffer.byteLength(JSON.stringify(this.json));
  }

  /** Every resource by logical id. */
  public get resources(): Record<string, TemplateResource> {
    return this.json.Resources ?? {};
  }

  /** The resources of a type (whose properties match `properties`, when given), by logical id. */
  public findResources(type: string, properties?: unknown): Record<string, TemplateResource> {
    return Object.fromEntries(
      Object.entries(this.resources).filter(
        ([, resource]) =>
          resource.Type === type &&
          (properties === undefined ||
            match(properties, resource.Properties ?? {}, 'Properties') === undefined),
      ),
    );
  }

  /** The only resource of a type; fails unless there is exactly one. */
  public resource(type: string): [string, TemplateResource] {
    const found = Object.entries(this.findResources(type));
    if (found.length !== 1) {
      throw new Error(
        `expected exactly one ${type}, found ${found.length}: ${found.map(([id]) => id).join(', ')}`,
      );
    }
    return found[0];
  }

  /** Fails unless the template has exactly `count` resources of `type`. */
  public resourceCountIs(type: string, count: number): void {
    const actual = Object.keys(this.findResources(type)).length;
    if (actual !== count) {
      throw new Error(`expected ${count} resources of type ${type}, found ${actual}`);
    }
  }

  /** Fails unless some resource of `type` has properties matching `properties`; says why the closest did not. */
  public hasResourceProperties(type: string, properties: unknown): void {
    const candidates = Object.entries(this.findResources(type));
    if (candidates.length === 0) {
      throw new Error(`no resource of type ${type} in the template`);
    }
    const problems = candidates.map(
      ([id, resource]) => `${id}: ${match(properties, resource.Properties ?? {}, 'Properties')}`,
    );
    if (candidates.every(([, resource]) => match(properties, resource.Properties ?? {}, 'Properties'))) {
      throw new Error(`no ${type} matches:\n  ${problems.join('\n  ')}`);
    }
  }

  /** Fails unless the resource `logicalId` matches `expected` (a partial resource: Type, Properties, DependsOn…). */
  public hasResource(logicalId: string, expected: unknown): void {
    const resource = this.resources[logicalId];
    if (resource === undefined) {
      throw new Error(`no resource ${logicalId}; the template has ${Object.keys(this.resources).join(', ')}`);
    }
    const problem = match(expected, resource, logicalId);
    if (problem !== undefined) {
      throw new Error(problem);
    }
  }

  /** Fails unless the output `id` matches `expected`. */
  public hasOutput(id: string, expected: unknown): void {
    const outputs = (this.json.Outputs ?? {}) as Record<string, unknown>;
    const problem = match(expected, outputs[id], `Outputs.${id}`);
    if (problem !== undefined) {
      throw new Error(problem);
    }
  }
}

/** Undefined when `actual` matches `expected` (plain objects partially, arrays and scalars exactly). */
function match(expected: unknown, actual: unknown, where: string): string | undefined {
  if (expected instanceof Matcher) {
    return expected.test(actual, where);
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      return `${where}: expected ${show(expected)}, got ${show(actual)}`;
    }
    for (let i = 0; i < expected.length; i++) {
      const problem = match(expected[i], actual[i], `${where}[${i}]`);
      if (problem !== undefined) {
        return problem;
      }
    }
    return undefined;
  }
  if (typeof expected === 'object' && expected !== null) {
    return new ObjectLikeMatcher(expected as Record<string, unknown>).test(actual, where);
  }
  return Object.is(expected, actual)
    ? undefined
    : `${where}: expected ${show(expected)}, got ${show(actual)}`;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) {
    return true;
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return false;
  }
  if (Array.isArray(a) !== Array.isArray(b)) {
    return false;
  }
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  return (
    keysA.length === keysB.length &&
    keysA.every((key) => deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
  );
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
