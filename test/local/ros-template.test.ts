import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ros from '@alicloud/ros-cdk-core';
import * as rosRos from '@alicloud/ros-cdk-ros';
import {
  ResolveContext,
  Template,
  TemplateError,
  activeOutputs,
  activeResources,
  checkGraph,
  checkRules,
  createResolveContext,
  dependencies,
  evaluateConditions,
  parseTemplate,
  planStack,
  readyToCreate,
  resolveOutputs,
  resolveParameters,
  resolveResourceProperties,
  resolveValue,
  topologicalLayers,
} from '../../lib/local/ros/template';

const pseudo = { region: 'cn-hangzhou', accountId: '1234567890', stackId: 'stack-1', stackName: 'demo' };

/** A JSON template body from sections. */
function body(sections: Record<string, unknown>): string {
  return JSON.stringify({ ROSTemplateFormatVersion: '2015-09-01', ...sections });
}

function parse(sections: Record<string, unknown>): Template {
  return parseTemplate(body(sections));
}

function templateError(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (error) {
    if (error instanceof TemplateError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected a TemplateError');
}

/** Thrown by the test engine for a resource that is not created yet. */
class NotReady extends Error {}

/** A context over `template` where resources `<Id>` have physical id `<id>-phys` and attributes `{Attr: ...}`. */
function context(
  template: Template,
  given: Record<string, string> = {},
  attributes: Record<string, Record<string, unknown>> = {},
): ResolveContext {
  const parameters = resolveParameters(template, given, pseudo);
  const conditions = evaluateConditions(template, parameters);
  return createResolveContext({
    template,
    parameters,
    conditions,
    ref: (id) => {
      if (!(id in attributes)) {
        throw new NotReady(`${id} is not created yet`);
      }
      return `${id.toLowerCase()}-phys`;
    },
    getAtt: (id, attribute) => {
      if (!(id in attributes)) {
        throw new NotReady(`${id} is not created yet`);
      }
      if (!(attribute in attributes[id])) {
        throw new TemplateError(`resource ${id} has no attribute ${attribute}`);
      }
      return attributes[id][attribute];
    },
    getStackOutput: (stackId, key, region) => `${stackId}/${key}@${region}`,
  });
}

/** Resolves `value` in a template with a few parameters, mappings and a created resource `Res`. */
function resolve(value: unknown, given: Record<string, string> = {}): unknown {
  const template = parse({
    Parameters: {
      Env: { Type: 'String', Default: 'dev' },
      Count: { Type: 'Number', Default: 3 },
      Zones: { Type: 'CommaDelimitedList', Default: 'a, b,c' },
      Config: { Type: 'Json', Default: { key: 'value', n: 1 } },
    },
    Mappings: { RegionMap: { 'cn-hangzhou': { Image: 'm-hz', Size: 40 } } },
    Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] } },
    Resources: { Res: { Type: 'ALIYUN::ROS::WaitConditionHandle' } },
  });
  return resolveValue(value, context(template, given, { Res: { URL: 'http://res', Data: { a: 1 } } }));
}

describe('parseTemplate', () => {
  it('parses a JSON template and normalises its sections', () => {
    const template = parse({
      Description: 'demo',
      Resources: {
        A: { Type: 'ALIYUN::ROS::WaitConditionHandle' },
        B: { Type: 'ALIYUN::ROS::WaitConditionHandle', DependsOn: 'A', DeletionPolicy: 'Retain' },
      },
    });
    expect(template.Description).toBe('demo');
    expect(template.Resources.A).toEqual({
      Type: 'ALIYUN::ROS::WaitConditionHandle',
      Properties: {},
      DependsOn: [],
    });
    expect(template.Resources.B.DependsOn).toEqual(['A']);
    expect(template.Resources.B.DeletionPolicy).toBe('Retain');
    expect(template.Parameters).toEqual({});
    expect(template.Outputs).toEqual({});
  });

  it('parses YAML with short-form tags', () => {
    const template = parseTemplate(`
ROSTemplateFormatVersion: '2015-09-01'
Parameters:
  Env:
    Type: String
    Default: dev
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsDev: !Not [!Condition IsProd]
  Both: !And [IsProd, !Condition IsDev]
  Either: !Or [!Condition IsProd, !Equals [dev, !Ref Env]]
Mappings:
  M:
    cn-hangzhou: {Image: m-1}
Resources:
  Handle:
    Type: ALIYUN::ROS::WaitConditionHandle
  Cr:
    Type: ALIYUN::ROS::CustomResource
    Properties:
      ServiceToken: !GetAtt Handle.URL
      Timeout: 60
      Parameters:
        List: !GetAtt [Handle, Headers]
        Joined: !Join ['-', [!Ref Env, !Ref 'ALIYUN::Region']]
        Subbed: !Sub '\${Env}-\${Handle.URL}'
        First: !Select [0, !Split [',', 'a,b']]
        Maybe: !If [IsProd, yes-prod, !Ref 'ALIYUN::NoValue']
        Encoded: !Base64Encode hello
        Image: !FindInMap [M, !Ref 'ALIYUN::Region', Image]
        Zones: !GetAZs ''
        Length: !Length [1, 2]
        Nested:
          Fn::Base64Encode: !Sub '\${Env}'
`);
    expect(template.Conditions).toEqual({
      IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] },
      IsDev: { 'Fn::Not': [{ Condition: 'IsProd' }] },
      Both: { 'Fn::And': ['IsProd', { Condition: 'IsDev' }] },
      Either: { 'Fn::Or': [{ Condition: 'IsProd' }, { 'Fn::Equals': ['dev', { Ref: 'Env' }] }] },
    });
    const properties = template.Resources.Cr.Properties;
    expect(properties.ServiceToken).toEqual({ 'Fn::GetAtt': 'Handle.URL' });
    expect(properties.Timeout).toBe(60);
    expect(properties.Parameters).toEqual({
      List: { 'Fn::GetAtt': ['Handle', 'Headers'] },
      Joined: { 'Fn::Join': ['-', [{ Ref: 'Env' }, { Ref: 'ALIYUN::Region' }]] },
      Subbed: { 'Fn::Sub': '${Env}-${Handle.URL}' },
      First: { 'Fn::Select': [0, { 'Fn::Split': [',', 'a,b'] }] },
      Maybe: { 'Fn::If': ['IsProd', 'yes-prod', { Ref: 'ALIYUN::NoValue' }] },
      Encoded: { 'Fn::Base64Encode': 'hello' },
      Image: { 'Fn::FindInMap': ['M', { Ref: 'ALIYUN::Region' }, 'Image'] },
      Zones: { 'Fn::GetAZs': '' },
      Length: { 'Fn::Length': [1, 2] },
      Nested: { 'Fn::Base64Encode': { 'Fn::Sub': '${Env}' } },
    });
  });

  it('reads YAML anchors and aliases', () => {
    const template = parseTemplate(`
ROSTemplateFormatVersion: '2015-09-01'
Resources:
  A:
    Type: ALIYUN::ROS::WaitConditionHandle
    Properties: &props {Count: 1}
  B:
    Type: ALIYUN::ROS::WaitConditionHandle
    Properties: *props
`);
    expect(template.Resources.B.Properties).toEqual({ Count: 1 });
  });

  it('accepts a body base64-encoded behind "@Base64Encoded: " as the ros-cdk CLI sends it', () => {
    const json = body({ Resources: { A: { Type: 'ALIYUN::ROS::WaitConditionHandle' } } });
    const fromJson = parseTemplate(`@Base64Encoded: ${Buffer.from(json).toString('base64')}`);
    expect(Object.keys(fromJson.Resources)).toEqual(['A']);
    const yaml =
      "ROSTemplateFormatVersion: '2015-09-01'\nResources:\n  B: {Type: 'ALIYUN::ROS::WaitConditionHandle'}\n";
    expect(
      Object.keys(parseTemplate(`@Base64Encoded: ${Buffer.from(yaml).toString('base64')}`).Resources),
    ).toEqual(['B']);
    expect(templateError(() => parseTemplate('@Base64Encoded: not*base64')).message).toMatch(/not base64/);
  });

  it.each([
    ['an empty body', '', /empty/],
    ['invalid JSON', '{"ROSTemplateFormatVersion": ', /not valid JSON/],
    ['invalid YAML', 'a: [1, 2\nb: }', /not valid YAML/],
    [
      'an unknown YAML tag',
      "ROSTemplateFormatVersion: '2015-09-01'\nOutputs:\n  X: {Value: !Bogus 1}",
      /unknown YAML tag.*!Bogus/,
    ],
    ['a list', '[1, 2]', /must be a map of sections/],
    ['no version', '{"Resources": {}}', /no ROSTemplateFormatVersion/],
    [
      'another version',
      '{"ROSTemplateFormatVersion": "2010-09-09"}',
      /must be "2015-09-01", got "2010-09-09"/,
    ],
    [
      'an AWS template',
      '{"AWSTemplateFormatVersion": "2010-09-09"}',
      /Unknown template section AWSTemplateFormatVersion/,
    ],
  ])('rejects %s', (_name, text, message) => {
    const error = templateError(() => parseTemplate(text));
    expect(error.code).toBe('InvalidTemplate');
    expect(error.message).toMatch(message);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a section that is not a map', { Resources: [] }, /The Resources section must be a map/],
    ['a resource without Type', { Resources: { A: { Properties: {} } } }, /Resource A has no Type/],
    [
      'Properties that are not a map',
      { Resources: { A: { Type: 'T', Properties: 'x' } } },
      /Resource A: Properties must be a map/,
    ],
    [
      'a bad DependsOn',
      { Resources: { A: { Type: 'T', DependsOn: [1] } } },
      /Resource A: DependsOn must be a resource name/,
    ],
    [
      'an unknown Condition',
      { Resources: { A: { Type: 'T', Condition: 'Nope' } } },
      /Resource A has Condition Nope, which is not defined/,
    ],
    [
      'a misspelt attribute',
      { Resources: { A: { Type: 'T', Propertis: {} } } },
      /Resource A has an unknown attribute Propertis/,
    ],
    [
      'Count',
      { Resources: { A: { Type: 'T', Count: 2 } } },
      /Resource A uses Count, which LocalCloud does not support/,
    ],
    ['a parameter without Type', { Parameters: { P: { Default: 'x' } } }, /Parameter P has no Type/],
    [
      'an unknown parameter Type',
      { Parameters: { P: { Type: 'Text' } } },
      /Parameter P has an unknown Type "Text"/,
    ],
    [
      'a bad AllowedPattern',
      { Parameters: { P: { Type: 'String', AllowedPattern: '(' } } },
      /Parameter P: AllowedPattern/,
    ],
    ['an output without Value', { Outputs: { O: { Description: 'x' } } }, /Output O has no Value/],
    [
      'a name used twice',
      { Parameters: { A: { Type: 'String' } }, Resources: { A: { Type: 'T' } } },
      /A is both a parameter and a resource/,
    ],
    [
      'an unknown function',
      { Resources: { A: { Type: 'T', Properties: { X: { 'Fn::Frobnicate': [1] } } } } },
      /Resource A uses unknown function Fn::Frobnicate/,
    ],
    [
      'a function LocalCloud does not implement',
      { Outputs: { O: { Value: { 'Fn::Jq': ['First', '.a', '{}'] } } } },
      /Output O uses Fn::Jq, which LocalCloud does not implement/,
    ],
    [
      'a reference to nothing',
      { Resources: { A: { Type: 'T', Properties: { X: { Ref: 'Ghost' } } } } },
      /Resource A references Ghost, which is not a resource, parameter or pseudo parameter/,
    ],
    [
      'a reference to nothing in Fn::Sub',
      { Outputs: { O: { Value: { 'Fn::Sub': 'x-${Ghost}' } } } },
      /Output O references Ghost, which is not a resource, parameter or pseudo parameter/,
    ],
    [
      'Fn::GetAtt on a parameter',
      { Parameters: { P: { Type: 'String' } }, Outputs: { O: { Value: { 'Fn::GetAtt': ['P', 'X'] } } } },
      /Output O uses Fn::GetAtt on P, which is not a resource/,
    ],
    [
      'Fn::If with an unknown condition',
      { Outputs: { O: { Value: { 'Fn::If': ['Nope', 1, 2] } } } },
      /Output O uses condition Nope, which is not defined in Conditions/,
    ],
    [
      'a condition that references a resource',
      { Conditions: { C: { 'Fn::Equals': [{ Ref: 'A' }, 'x'] } }, Resources: { A: { Type: 'T' } } },
      /Condition C references resource A/,
    ],
    [
      'Fn::FindInMap on an unknown mapping',
      { Outputs: { O: { Value: { 'Fn::FindInMap': ['Nope', 'a', 'b'] } } } },
      /Output O uses Fn::FindInMap on mapping Nope/,
    ],
    [
      'a function object with extra keys',
      { Outputs: { O: { Value: { 'Fn::Join': ['', []], Other: 1 } } } },
      /Output O: Fn::Join must be the only key of its object/,
    ],
  ])('rejects %s', (_name, sections, message) => {
    const error = templateError(() => parse(sections));
    expect(error.code).toBe('InvalidTemplate');
    expect(error.message).toMatch(message);
  });
});

describe('resolveParameters', () => {
  const template = parse({
    Parameters: {
      Name: { Type: 'String' },
      Size: { Type: 'Number', Default: '40' },
      Zones: { Type: 'CommaDelimitedList', Default: ['a', 'b'] },
      Config: { Type: 'Json', Default: '{"a": [1, 2]}' },
      Enabled: { Type: 'Boolean', Default: true },
      Secret: { Type: 'ALIYUN::OOS::SecretParameter::Value', Default: 's3cret', NoEcho: true },
    },
  });

  it('converts values and defaults to their types and adds the pseudo parameters', () => {
    const resolved = resolveParameters(template, { Name: 'web', Size: '100', Zones: 'x, y ,z' }, pseudo);
    expect(resolved.values).toEqual({
      'ALIYUN::Region': 'cn-hangzhou',
      'ALIYUN::AccountId': '1234567890',
      'ALIYUN::TenantId': '1234567890',
      'ALIYUN::StackId': 'stack-1',
      'ALIYUN::StackName': 'demo',
      Name: 'web',
      Size: 100,
      Zones: ['x', 'y', 'z'],
      Config: { a: [1, 2] },
      Enabled: true,
      Secret: 's3cret',
    });
    expect(resolved.strings).toEqual({
      Name: 'web',
      Size: '100',
      Zones: 'x, y ,z',
      Config: '{"a": [1, 2]}',
      Enabled: 'true',
      Secret: 's3cret',
    });
  });

  it('reports which parameters are NoEcho', () => {
    const resolved = resolveParameters(template, { Name: 'web' }, pseudo);
    expect([...resolved.noEcho]).toEqual(['Secret']);
  });

  it('rejects parameters the template does not define', () => {
    const error = templateError(() => resolveParameters(template, { Name: 'x', Nmae: 'y' }, pseudo));
    expect(error.code).toBe('InvalidParameter');
    expect(error.message).toBe('Parameter Nmae is not defined in the template');
  });

  it('rejects a missing parameter without Default', () => {
    const error = templateError(() => resolveParameters(template, {}, pseudo));
    expect(error.code).toBe('InvalidParameter');
    expect(error.message).toBe('Parameter Name was not given a value and has no Default');
  });

  it.each([
    [{ Size: 'big' }, 'Parameter Size: the value "big" is not a number'],
    [{ Enabled: 'maybe' }, 'Parameter Enabled: the value "maybe" is not true or false'],
    [{ Config: '{oops' }, 'Parameter Config: the value "{oops" is not JSON'],
  ])('rejects a value of the wrong type: %j', (values, message) => {
    const error = templateError(() => resolveParameters(template, { Name: 'x', ...values }, pseudo));
    expect(error.code).toBe('InvalidParameter');
    expect(error.message).toBe(message);
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    [
      'AllowedValues',
      { Type: 'String', AllowedValues: ['dev', 'prod'] },
      'test',
      'Parameter P: the value "test" is not one of the allowed values ["dev","prod"]',
    ],
    [
      'AllowedValues on each list item',
      { Type: 'CommaDelimitedList', AllowedValues: ['a', 'b'] },
      'a,c',
      'Parameter P: the value "a,c" is not one of the allowed values ["a","b"]',
    ],
    [
      'AllowedPattern',
      { Type: 'String', AllowedPattern: '[a-z]+' },
      'abc1',
      'Parameter P: the value "abc1" does not match the allowed pattern "[a-z]+"',
    ],
    [
      'MinLength',
      { Type: 'String', MinLength: 3 },
      'ab',
      'Parameter P: the value "ab" has 2 characters, fewer than MinLength 3',
    ],
    [
      'MaxLength',
      { Type: 'String', MaxLength: 3 },
      'abcd',
      'Parameter P: the value "abcd" has 4 characters, more than MaxLength 3',
    ],
    [
      'MaxLength of a list',
      { Type: 'CommaDelimitedList', MaxLength: 1 },
      'a,b',
      'Parameter P: the value "a,b" has 2 items, more than MaxLength 1',
    ],
    ['MinValue', { Type: 'Number', MinValue: 1 }, '0', 'Parameter P: the value "0" is less than MinValue 1'],
    [
      'MaxValue',
      { Type: 'Number', MaxValue: 10 },
      '11',
      'Parameter P: the value "11" is greater than MaxValue 10',
    ],
    [
      'a constraint with its ConstraintDescription',
      { Type: 'String', AllowedPattern: '[a-z]+', ConstraintDescription: { en: 'lower-case letters only' } },
      'ABC',
      'Parameter P: the value "ABC" does not match the allowed pattern "[a-z]+" (lower-case letters only)',
    ],
    [
      'a NoEcho value (masked in the message)',
      { Type: 'String', MinLength: 8, NoEcho: true },
      'short',
      'Parameter P: the value **** has 5 characters, fewer than MinLength 8',
    ],
  ])('enforces %s', (_name, definition, value, message) => {
    const constrained = parse({ Parameters: { P: definition } });
    const error = templateError(() => resolveParameters(constrained, { P: value }, pseudo));
    expect(error.code).toBe('InvalidParameter');
    expect(error.message).toBe(message);
  });

  it('checks a Default that is used against the constraints too', () => {
    const constrained = parse({ Parameters: { P: { Type: 'Number', Default: 0, MinValue: 1 } } });
    expect(templateError(() => resolveParameters(constrained, {}, pseudo)).message).toBe(
      'Parameter P: the Default 0 is less than MinValue 1',
    );
  });

  it('accepts values that meet every constraint', () => {
    const constrained = parse({
      Parameters: {
        P: {
          Type: 'String',
          AllowedValues: ['dev', 'prod'],
          AllowedPattern: '[a-z]+',
          MinLength: 3,
          MaxLength: 4,
        },
        N: { Type: 'Number', MinValue: 1, MaxValue: 10, AllowedValues: [1, 5, 10] },
      },
    });
    expect(resolveParameters(constrained, { P: 'prod', N: '5' }, pseudo).values).toMatchObject({
      P: 'prod',
      N: 5,
    });
  });
});

describe('conditions', () => {
  const template = parse({
    Parameters: { Env: { Type: 'String', Default: 'dev' }, Size: { Type: 'Number', Default: 2 } },
    Conditions: {
      IsProd: { 'Fn::Equals': ['prod', { Ref: 'Env' }] },
      IsDev: { 'Fn::Not': [{ Condition: 'IsProd' }] },
      BigDev: { 'Fn::And': ['IsDev', { 'Fn::Equals': [{ Ref: 'Size' }, '2'] }] },
      AnyProd: {
        'Fn::Or': [{ Condition: 'IsProd' }, { 'Fn::Equals': [{ Ref: 'ALIYUN::Region' }, 'cn-beijing'] }],
      },
    },
    Resources: {
      Always: { Type: 'T' },
      ProdOnly: { Type: 'T', Condition: 'IsProd' },
      DevOnly: { Type: 'T', Condition: 'IsDev' },
    },
    Outputs: { P: { Value: 1, Condition: 'IsProd' }, D: { Value: 2, Condition: 'BigDev' } },
  });

  it('evaluates Fn::Equals, Fn::And, Fn::Or, Fn::Not and condition references over parameters', () => {
    const dev = evaluateConditions(template, resolveParameters(template, {}, pseudo));
    expect(dev).toEqual({ IsProd: false, IsDev: true, BigDev: true, AnyProd: false });
    const prod = evaluateConditions(template, resolveParameters(template, { Env: 'prod' }, pseudo));
    expect(prod).toEqual({ IsProd: true, IsDev: false, BigDev: false, AnyProd: true });
  });

  it('selects the resources and outputs whose condition holds', () => {
    const dev = evaluateConditions(template, resolveParameters(template, {}, pseudo));
    expect(activeResources(template, dev)).toEqual(['Always', 'DevOnly']);
    expect(activeOutputs(template, dev)).toEqual(['D']);
  });

  it('reports a circular condition reference', () => {
    const circular = parse({
      Conditions: { A: { 'Fn::Not': [{ Condition: 'B' }] }, B: { 'Fn::Not': ['A'] } },
    });
    expect(
      templateError(() => evaluateConditions(circular, resolveParameters(circular, {}, pseudo))).message,
    ).toBe('Circular condition reference: A -> B -> A');
  });
});

describe('checkRules', () => {
  it('fails with the assertion description when a rule does not hold', () => {
    const template = parse({
      Parameters: { Env: { Type: 'String' }, Size: { Type: 'Number' } },
      Rules: {
        ProdIsBig: {
          RuleCondition: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] },
          Assertions: [
            {
              Assert: { 'Fn::Contains': [[100, 200], { Ref: 'Size' }] },
              AssertDescription: 'prod needs 100 or 200',
            },
          ],
        },
      },
    });
    expect(() =>
      checkRules(template, resolveParameters(template, { Env: 'dev', Size: '1' }, pseudo)),
    ).not.toThrow();
    expect(() =>
      checkRules(template, resolveParameters(template, { Env: 'prod', Size: '200' }, pseudo)),
    ).not.toThrow();
    const error = templateError(() =>
      checkRules(template, resolveParameters(template, { Env: 'prod', Size: '1' }, pseudo)),
    );
    expect(error.code).toBe('InvalidParameter');
    expect(error.message).toBe('Rule ProdIsBig failed: prod needs 100 or 200');
  });
});

describe('resolveValue', () => {
  it('resolves Ref to parameters, pseudo parameters and resources', () => {
    expect(resolve({ Ref: 'Env' })).toBe('dev');
    expect(resolve({ Ref: 'Count' })).toBe(3);
    expect(resolve({ Ref: 'Zones' })).toEqual(['a', 'b', 'c']);
    expect(resolve({ Ref: 'ALIYUN::Region' })).toBe('cn-hangzhou');
    expect(resolve({ Ref: 'ALIYUN::StackName' })).toBe('demo');
    expect(resolve({ Ref: 'ALIYUN::TenantId' })).toBe('1234567890');
    expect(resolve({ Ref: 'Res' })).toBe('res-phys');
  });

  it('removes values that resolve to ALIYUN::NoValue from objects and lists', () => {
    expect(
      resolve({ Keep: 1, Drop: { Ref: 'ALIYUN::NoValue' }, List: [1, { Ref: 'ALIYUN::NoValue' }, 2] }),
    ).toEqual({
      Keep: 1,
      List: [1, 2],
    });
    expect(resolve({ Ref: 'ALIYUN::NoValue' })).toBeUndefined();
  });

  it('resolves Fn::GetAtt in list and string form', () => {
    expect(resolve({ 'Fn::GetAtt': ['Res', 'URL'] })).toBe('http://res');
    expect(resolve({ 'Fn::GetAtt': 'Res.Data' })).toEqual({ a: 1 });
  });

  it("passes the engine's errors through: not created yet, unknown attribute", () => {
    const template = parse({ Resources: { Res: { Type: 'T' } } });
    const ctx = context(template);
    expect(() => resolveValue({ 'Fn::GetAtt': ['Res', 'URL'] }, ctx)).toThrow(NotReady);
    const created = context(template, {}, { Res: { URL: 'u' } });
    expect(
      templateError(() =>
        resolveValue({ X: { 'Fn::GetAtt': ['Res', 'Nope'] } }, created, 'Resource Cr Properties'),
      ).message,
    ).toBe('Resource Cr Properties X: Fn::GetAtt: resource Res has no attribute Nope');
  });

  it('resolves Fn::Join', () => {
    expect(resolve({ 'Fn::Join': ['-', ['a', { Ref: 'Env' }, 3, { Ref: 'ALIYUN::NoValue' }]] })).toBe(
      'a-dev-3',
    );
    expect(resolve({ 'Fn::Join': [',', { Ref: 'Zones' }] })).toBe('a,b,c');
    expect(templateError(() => resolve({ 'Fn::Join': ['', [{ a: 1 }]] })).message).toMatch(
      /Fn::Join: the value 0 must be a string or a number, got \{"a":1\}/,
    );
  });

  it('resolves Fn::Sub in string and list form', () => {
    expect(resolve({ 'Fn::Sub': '${Env}/${Res}/${Res.URL}/${ALIYUN::Region}/${!Literal}' })).toBe(
      'dev/res-phys/http://res/cn-hangzhou/${Literal}',
    );
    expect(resolve({ 'Fn::Sub': ['${Name}-${Env}', { Name: { Ref: 'Count' } }] })).toBe('3-dev');
  });

  it('resolves Fn::Select from lists (index, negative index, slice, default) and maps', () => {
    expect(resolve({ 'Fn::Select': ['1', ['a', 'b', 'c']] })).toBe('b');
    expect(resolve({ 'Fn::Select': [0, { Ref: 'Zones' }] })).toBe('a');
    expect(resolve({ 'Fn::Select': ['-1', ['a', 'b', 'c']] })).toBe('c');
    expect(resolve({ 'Fn::Select': [5, ['a'], 'none'] })).toBe('none');
    expect(resolve({ 'Fn::Select': [5, ['a']] })).toBe('');
    expect(resolve({ 'Fn::Select': ['0:3:2', ['a', 'b', 'c', 'd']] })).toEqual(['a', 'c']);
    expect(resolve({ 'Fn::Select': ['::-1', ['a', 'b', 'c']] })).toEqual(['c', 'b', 'a']);
    expect(resolve({ 'Fn::Select': ['key', { Ref: 'Config' }] })).toBe('value');
    expect(resolve({ 'Fn::Select': ['other', { key: 1 }, 'd'] })).toBe('d');
  });

  it('resolves Fn::Split', () => {
    expect(resolve({ 'Fn::Split': [',', 'a,b,,c'] })).toEqual(['a', 'b', '', 'c']);
  });

  it('resolves Fn::If, including ALIYUN::NoValue branches', () => {
    expect(resolve({ 'Fn::If': ['IsProd', 'p', 'd'] })).toBe('d');
    expect(resolve({ 'Fn::If': ['IsProd', 'p', 'd'] }, { Env: 'prod' })).toBe('p');
    expect(resolve({ A: { 'Fn::If': ['IsProd', 'p', { Ref: 'ALIYUN::NoValue' }] }, B: 1 })).toEqual({ B: 1 });
  });

  it('resolves the condition functions as values', () => {
    expect(resolve({ 'Fn::Equals': [{ Ref: 'Count' }, '3'] })).toBe(true);
    expect(resolve({ 'Fn::And': [{ 'Fn::Equals': [1, 1] }, { Condition: 'IsProd' }] })).toBe(false);
    expect(resolve({ 'Fn::Or': [{ 'Fn::Equals': [1, 1] }, 'IsProd'] })).toBe(true);
    expect(resolve({ 'Fn::Not': [{ Condition: 'IsProd' }] })).toBe(true);
  });

  it('resolves Fn::Base64Encode and Fn::Base64Decode', () => {
    expect(resolve({ 'Fn::Base64Encode': 'string to encode' })).toBe('c3RyaW5nIHRvIGVuY29kZQ==');
    expect(resolve({ 'Fn::Base64Decode': 'c3RyaW5nIHRvIGVuY29kZQ==' })).toBe('string to encode');
    expect(resolve({ 'Fn::Base64Decode': { 'Fn::Base64Encode': { Ref: 'Env' } } })).toBe('dev');
  });

  it('resolves Fn::FindInMap and names a missing key', () => {
    expect(resolve({ 'Fn::FindInMap': ['RegionMap', { Ref: 'ALIYUN::Region' }, 'Image'] })).toBe('m-hz');
    expect(
      templateError(() => resolve({ 'Fn::FindInMap': ['RegionMap', 'cn-beijing', 'Image'] })).message,
    ).toMatch(/Fn::FindInMap: mapping RegionMap has no key "cn-beijing"/);
  });

  it('resolves Fn::Replace, Fn::Str and Fn::Length', () => {
    expect(resolve({ 'Fn::Replace': [{ print: 'echo', $x: 'y' }, 'print $x; print'] })).toBe('echo y; echo');
    expect(resolve({ 'Fn::Str': 123456 })).toBe('123456');
    expect(resolve({ 'Fn::Length': 'aaaaaa' })).toBe(6);
    expect(resolve({ 'Fn::Length': [1, 2, 3] })).toBe(3);
    expect(resolve({ 'Fn::Length': { key1: 'v1', key2: 'v2' } })).toBe(2);
  });

  it('resolves the list and map functions', () => {
    expect(resolve({ 'Fn::ListMerge': [['a'], { Ref: 'Zones' }] })).toEqual(['a', 'a', 'b', 'c']);
    expect(resolve({ 'Fn::GetJsonValue': ['id', '{"id": "1", "data": [1]}'] })).toBe('1');
    expect(
      resolve({
        'Fn::MergeMapToList': [{ key_1: ['1a', '1b'] }, { key_2: ['2a', '2b', '2c'] }, { key_3: ['3a'] }],
      }),
    ).toEqual([
      { key_1: '1a', key_2: '2a', key_3: '3a' },
      { key_1: '1b', key_2: '2b', key_3: '3a' },
      { key_1: '1b', key_2: '2c', key_3: '3a' },
    ]);
    expect(resolve({ 'Fn::SelectMapList': ['k', [{ k: 1 }, { j: 2 }, { k: 3 }]] })).toEqual([1, 3]);
    expect(resolve({ 'Fn::Add': [1, 2, 3] })).toBe(6);
    expect(resolve({ 'Fn::Add': [['a'], ['b']] })).toEqual(['a', 'b']);
    expect(resolve({ 'Fn::Add': [{ a: 1, b: 1 }, { b: 2 }] })).toEqual({ a: 1, b: 2 });
    expect(resolve({ 'Fn::Index': ['b', ['a', 'b']] })).toBe(1);
    expect(resolve({ 'Fn::Index': ['z', ['a', 'b']] })).toBe('');
  });

  it('resolves the arithmetic functions', () => {
    expect(resolve({ 'Fn::Max': [1.1, 2, '3'] })).toBe(3);
    expect(resolve({ 'Fn::Min': [1.1, 2, 3] })).toBe(1.1);
    expect(resolve({ 'Fn::Avg': [1, [1, 2, 6]] })).toBe(3);
    expect(resolve({ 'Fn::Avg': [2, [1, 2]] })).toBe(1.5);
  });

  it('calculates Fn::Calculate expressions like the ROS documentation, without eval', () => {
    expect(resolve({ 'Fn::Calculate': ['(2+3)/2*3-1', 1] })).toBe(5);
    expect(resolve({ 'Fn::Calculate': ['(2.0+3)/2*3-1', 1] })).toBe(6.5);
    expect(resolve({ 'Fn::Calculate': ['({1}+3)/2*3-1', 1, [3, 5, 6]] })).toBe(11);
    expect(resolve({ 'Fn::Calculate': ['({0}+{1})%3', 0, [5, 6]] })).toBe(2);
    expect(resolve({ 'Fn::Calculate': ['-2**2 + 10/4.0', 2] })).toBe(-1.5);
    expect(templateError(() => resolve({ 'Fn::Calculate': ['process.exit(1)', 0] })).message).toMatch(
      /Fn::Calculate: cannot calculate "process.exit\(1\)": unexpected "p"/,
    );
    expect(templateError(() => resolve({ 'Fn::Calculate': ['1/0', 0] })).message).toMatch(/division by zero/);
  });

  it('resolves the rule functions', () => {
    expect(resolve({ 'Fn::Contains': [[1, 2, 3], 3] })).toBe(true);
    expect(resolve({ 'Fn::Contains': [[1, 2, 3], 4] })).toBe(false);
    expect(resolve({ 'Fn::Any': [false, 0, 'true'] })).toBe(true);
    expect(resolve({ 'Fn::Any': [false, 0] })).toBe(false);
    expect(
      resolve({
        'Fn::EachMemberIn': [
          ['a', 'b'],
          ['a', 'b', 'c'],
        ],
      }),
    ).toBe(true);
    expect(
      resolve({
        'Fn::EachMemberIn': [
          ['a', 'x'],
          ['a', 'b'],
        ],
      }),
    ).toBe(false);
    expect(resolve({ 'Fn::MatchPattern': ['[a-z]+', 'abc'] })).toBe(true);
    expect(resolve({ 'Fn::MatchPattern': ['[a-z]+', 'abc1'] })).toBe(false);
  });

  it('resolves Fn::Indent, Fn::GetAZs, Fn::Cidr and Fn::GetStackOutput', () => {
    expect(resolve({ 'Fn::Indent': ['[client]\nport=3306', 1] })).toBe('  [client]\n  port=3306');
    expect(resolve({ 'Fn::Indent': ['a\n\nb', 2, 1, false] })).toBe('a\n\n  b');
    expect(resolve({ 'Fn::GetAZs': { Ref: 'ALIYUN::Region' } })).toEqual(['cn-hangzhou-a', 'cn-hangzhou-b']);
    expect(resolve({ 'Fn::GetAZs': '' })).toEqual(['cn-hangzhou-a', 'cn-hangzhou-b']);
    expect(resolve({ 'Fn::Cidr': ['192.168.0.0/16', 3, 8] })).toEqual([
      '192.168.0.0/24',
      '192.168.1.0/24',
      '192.168.2.0/24',
    ]);
    expect(resolve({ 'Fn::GetStackOutput': ['other', 'Url'] })).toBe('other/Url@cn-hangzhou');
  });

  it('names the function and the property path in errors', () => {
    const template = parse({ Resources: { Res: { Type: 'T' } } });
    const ctx = context(template);
    expect(
      templateError(() => resolveValue({ A: [1, { 'Fn::Split': [',', 5] }] }, ctx, 'Resource X Properties'))
        .message,
    ).toBe('Resource X Properties A[1]: Fn::Split: the source must be a string, got 5');
    expect(templateError(() => resolveValue({ A: { 'Fn::Nope': 1 } }, ctx)).message).toBe(
      'A: Fn::Nope: unknown function',
    );
  });
});

describe('dependencies', () => {
  const template = parse({
    Parameters: { Env: { Type: 'String', Default: 'dev' } },
    Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] } },
    Resources: {
      Role: { Type: 'ALIYUN::RAM::Role' },
      Fn: {
        Type: 'ALIYUN::FC3::Function',
        Properties: { Role: { 'Fn::GetAtt': 'Role.Arn' }, Name: { Ref: 'Env' } },
      },
      Handle: { Type: 'ALIYUN::ROS::WaitConditionHandle' },
      Extra: { Type: 'ALIYUN::ROS::WaitConditionHandle', Condition: 'IsProd' },
      Copy: {
        Type: 'ALIYUN::ROS::CustomResource',
        DependsOn: ['Role'],
        Properties: {
          ServiceToken: { 'Fn::Sub': '${Fn.ARN}-${ALIYUN::Region}-${Env}' },
          Parameters: { Url: { Ref: 'Handle' }, Maybe: { 'Fn::If': ['IsProd', { Ref: 'Extra' }, 'none'] } },
        },
      },
    },
  });

  it('extracts dependencies from Ref, Fn::GetAtt, Fn::Sub and DependsOn, skipping parameters and inactive resources', () => {
    const graph = dependencies(template, ['Role', 'Fn', 'Handle', 'Copy']);
    expect(Object.fromEntries([...graph].map(([id, deps]) => [id, [...deps]]))).toEqual({
      Role: [],
      Fn: ['Role'],
      Handle: [],
      Copy: ['Fn', 'Handle', 'Role'],
    });
  });

  it('counts both branches of Fn::If', () => {
    const graph = dependencies(template, ['Role', 'Fn', 'Handle', 'Extra', 'Copy']);
    expect([...(graph.get('Copy') ?? [])]).toContain('Extra');
  });

  it('orders creation in layers, each resource once everything it depends on is done', () => {
    const graph = dependencies(template, ['Role', 'Fn', 'Handle', 'Copy']);
    expect(topologicalLayers(graph)).toEqual([['Role', 'Handle'], ['Fn'], ['Copy']]);
    expect(readyToCreate(graph, new Set(), new Set())).toEqual(['Role', 'Handle']);
    expect(readyToCreate(graph, new Set(['Role']), new Set(['Handle']))).toEqual(['Fn']);
  });

  it('rejects a cycle, naming the resources on it', () => {
    const cyclic = parse({
      Resources: {
        A: { Type: 'T', Properties: { X: { Ref: 'B' } } },
        B: { Type: 'T', Properties: { Y: { 'Fn::Sub': '${C.Attr}' } } },
        C: { Type: 'T', DependsOn: 'A' },
      },
    });
    const graph = dependencies(cyclic, ['A', 'B', 'C']);
    expect(templateError(() => checkGraph(graph)).message).toBe(
      'Circular dependency between resources: A -> B -> C -> A',
    );
    expect(() => topologicalLayers(graph)).toThrow(/Circular dependency between resources/);
  });

  it('rejects a resource that depends on itself', () => {
    const self = parse({ Resources: { A: { Type: 'T', Properties: { X: { 'Fn::GetAtt': ['A', 'Id'] } } } } });
    expect(templateError(() => checkGraph(dependencies(self, ['A']))).message).toBe(
      'Circular dependency between resources: A -> A',
    );
  });

  it('rejects unknown references', () => {
    const unchecked = {
      ...template,
      Resources: { A: { Type: 'T', Properties: { X: { Ref: 'Ghost' } }, DependsOn: [] } },
    } as Template;
    expect(templateError(() => dependencies(unchecked, ['A'])).message).toBe(
      'Resource A references Ghost, which is not a resource, parameter or pseudo parameter',
    );
    const dependsOnGhost = parse({ Resources: { A: { Type: 'T', DependsOn: 'Ghost' } } });
    expect(templateError(() => dependencies(dependsOnGhost, ['A'])).message).toBe(
      'Resource A depends on Ghost, which is not a resource',
    );
  });
});

describe('resolveResourceProperties and resolveOutputs', () => {
  const template = parse({
    Parameters: {
      Env: { Type: 'String', Default: 'dev' },
      Password: { Type: 'String', Default: 'pw', NoEcho: true },
    },
    Conditions: { IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] } },
    Resources: {
      Handle: { Type: 'ALIYUN::ROS::WaitConditionHandle' },
      Cr: {
        Type: 'ALIYUN::ROS::CustomResource',
        Properties: {
          ServiceToken: 'acs:fc:cn-hangzhou:1234567890:functions/f',
          Parameters: {
            Url: { 'Fn::GetAtt': ['Handle', 'URL'] },
            Tag: { 'Fn::If': ['IsProd', 'p', { Ref: 'ALIYUN::NoValue' }] },
          },
        },
      },
    },
    Outputs: {
      Url: { Value: { 'Fn::GetAtt': ['Handle', 'URL'] }, Description: 'the URL' },
      List: { Value: { 'Fn::Split': [',', 'a,b'] } },
      ProdOnly: { Value: 'p', Condition: 'IsProd' },
      Maybe: { Value: { 'Fn::If': ['IsProd', 'x', { Ref: 'ALIYUN::NoValue' }] } },
      Secret: { Value: { Ref: 'Password' }, NoEcho: true },
    },
  });

  it('resolves the properties of a resource once its dependencies exist', () => {
    const ctx = context(template, {}, { Handle: { URL: 'http://wait' } });
    expect(resolveResourceProperties(template, 'Cr', ctx)).toEqual({
      ServiceToken: 'acs:fc:cn-hangzhou:1234567890:functions/f',
      Parameters: { Url: 'http://wait' },
    });
    expect(() => resolveResourceProperties(template, 'Cr', context(template))).toThrow(NotReady);
  });

  it('resolves outputs, keeping values as they are, honouring conditions and NoEcho', () => {
    const ctx = context(template, {}, { Handle: { URL: 'http://wait' } });
    const conditions = { IsProd: false };
    expect(resolveOutputs(template, ctx, conditions)).toEqual([
      { OutputKey: 'Url', OutputValue: 'http://wait', Description: 'the URL' },
      { OutputKey: 'List', OutputValue: ['a', 'b'] },
      { OutputKey: 'Secret', OutputValue: '****', NoEcho: true },
    ]);
    const prod = context(template, { Env: 'prod' }, { Handle: { URL: 'u' } });
    expect(resolveOutputs(template, prod, { IsProd: true }).map((o) => o.OutputKey)).toEqual([
      'Url',
      'List',
      'ProdOnly',
      'Maybe',
      'Secret',
    ]);
    expect(resolveOutputs(template, ctx, conditions, { unmasked: true }).pop()?.OutputValue).toBe('pw');
  });
});

describe('a synthesized ROS CDK app', () => {
  let outdir: string;
  beforeEach(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'ros-template-'));
  });
  afterEach(() => fs.rmSync(outdir, { recursive: true, force: true }));

  function synthesize(): unknown {
    const app = new ros.App({ outdir });
    const stack = new ros.Stack(app, 'DemoStack');
    const env = new ros.RosParameter(stack, 'Env', {
      type: ros.RosParameterType.STRING,
      defaultValue: 'dev',
      allowedValues: ['dev', 'prod'],
    });
    const isProd = new ros.RosCondition(stack, 'IsProd', {
      expression: ros.Fn.conditionEquals(env.valueAsString, 'prod'),
    });
    const handle = new rosRos.RosWaitConditionHandle(stack, 'Handle', {}, true);
    const other = new rosRos.RosWaitConditionHandle(stack, 'Other', {}, true);
    const prodOnly = new rosRos.RosWaitConditionHandle(stack, 'ProdOnly', {}, true);
    prodOnly.addCondition(isProd);
    const custom = new rosRos.RosCustomResource(
      stack,
      'Custom',
      {
        serviceToken: ros.Fn.sub('acs:fc:${ALIYUN::Region}:${ALIYUN::AccountId}:functions/copy'),
        timeout: 600,
        parameters: {
          Url: handle.attrUrl,
          Env: env.valueAsString,
          Zone: ros.Fn.select(0, ros.Fn.getAzs(ros.RosPseudo.region)),
        },
      },
      true,
    );
    // addRosDependency renders DependsOn; addDependsOn only orders constructs inside the CDK.
    custom.addRosDependency(other.logicalId);
    new ros.RosOutput(stack, 'Joined', {
      value: ros.Fn.join('-', [env.valueAsString, ros.RosPseudo.stackName]),
    });
    new ros.RosOutput(stack, 'Subbed', { value: ros.Fn.sub('${Env}@${Handle.URL}'), condition: isProd });
    new ros.RosOutput(stack, 'Copied', { value: custom.getAtt('ImageId') });
    return app.synth().getStackArtifact(stack.artifactId).template;
  }

  it('parses, plans and resolves the template the ROS CDK synthesizes', () => {
    const synthesized = synthesize();
    // The ros-cdk CLI sends the body base64-encoded.
    const template = parseTemplate(
      `@Base64Encoded: ${Buffer.from(JSON.stringify(synthesized)).toString('base64')}`,
    );
    expect(template).toEqual(parseTemplate(JSON.stringify(synthesized)));

    const plan = planStack(template, {}, pseudo);
    expect(plan.conditions).toEqual({ IsProd: false });
    expect(plan.resources).toEqual(['Handle', 'Other', 'Custom']);
    expect(plan.outputs).toEqual(['Joined', 'Copied']);
    expect([...(plan.graph.get('Custom') ?? [])].sort()).toEqual(['Handle', 'Other']);
    expect(plan.layers).toEqual([['Handle', 'Other'], ['Custom']]);

    const created: Record<string, Record<string, unknown>> = { Handle: { URL: 'http://wait' }, Other: {} };
    const ctx = context(template, {}, created);
    expect(resolveResourceProperties(template, 'Custom', ctx)).toEqual({
      ServiceToken: 'acs:fc:cn-hangzhou:1234567890:functions/copy',
      Timeout: 600,
      Parameters: { Url: 'http://wait', Env: 'dev', Zone: 'cn-hangzhou-a' },
    });
    created.Custom = { ImageId: 'm-copy' };
    expect(resolveOutputs(template, ctx, plan.conditions)).toEqual([
      { OutputKey: 'Joined', OutputValue: 'dev-demo' },
      { OutputKey: 'Copied', OutputValue: 'm-copy' },
    ]);

    const prod = planStack(template, { Env: 'prod' }, pseudo);
    expect(prod.resources).toContain('ProdOnly');
    const prodCtx = context(template, { Env: 'prod' }, { ...created, ProdOnly: {} });
    expect(
      resolveOutputs(template, prodCtx, prod.conditions).map((o) => [o.OutputKey, o.OutputValue]),
    ).toContainEqual(['Subbed', 'prod@http://wait']);
    expect(() => planStack(template, { Env: 'test' }, pseudo)).toThrow(/not one of the allowed values/);
  });
});
