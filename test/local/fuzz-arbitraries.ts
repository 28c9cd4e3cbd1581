/**
 * The fast-check arbitraries of the property-based tests (`fuzz.test.ts`): parameter names and values for ECS and
 * ROS requests, RAM policies of any shape, and ROS templates from junk to ones the engine runs.
 */
import fc from 'fast-check';

/** The image LocalCloud seeds in cn-hangzhou. */
export const SEED_IMAGE = 'm-bp1seedgoldenimage01';
/** Keys that are also names on every object's prototype chain. */
export const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];

const INDEXES = ['0', '1', '2', '20', '21', '51', '1000', '99999999999999999999', '-1', '01'];

/** Parameter values: real ids and keywords, wrong types, junk, unicode, huge strings. */
export const valueArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    'cn-hangzhou',
    'cn-shanghai',
    'cn-nowhere',
    SEED_IMAGE,
    'm-doesnotexist',
    'true',
    'false',
    'TRUE',
    'ALL',
    'Available,Creating',
    'image',
    'snapshot',
    'system',
    'self',
    'rg-abc123',
    '0',
    '-1',
    '1',
    '100',
    '101',
    '1e3',
    '0x10',
    ' 1',
    '1.5',
    '9007199254740993',
    'NaN',
    'Infinity',
    'null',
    '[]',
    '{}',
    '%',
    '%00',
    '\u0000',
    '\r\n',
    '*',
    ...PROTOTYPE_NAMES,
    '00000000-0000-0000-0000-000000000000',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.json({ maxDepth: 2 }),
  // Just over the name and description limits, large, and over the 128 KiB header limit.
  fc.constantFrom(129, 257, 4097, 40_000, 140_000).map((n) => 'x'.repeat(n)),
);

const indexedKey = (prefix: string, suffixes: readonly string[] = ['']) =>
  fc
    .tuple(fc.constantFrom(...INDEXES), fc.constantFrom(...suffixes))
    .map(([i, suffix]) => `${prefix}.${i}${suffix}`);

const ECS_PARAMS = [
  'RegionId',
  'ImageId',
  'DestinationRegionId',
  'DestinationImageName',
  'DestinationDescription',
  'Encrypted',
  'KMSKeyId',
  'ClientToken',
  'DryRun',
  'ResourceGroupId',
  'Status',
  'ImageName',
  'ImageOwnerAlias',
  'ImageOwnerId',
  'ImageFamily',
  'IsPublic',
  'SnapshotId',
  'PageNumber',
  'PageSize',
  'Force',
  'Description',
  'ResourceType',
  'All',
  'NextToken',
  'AcceptLanguage',
];

export const ecsKeyArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...ECS_PARAMS) },
  { weight: 3, arbitrary: indexedKey('Tag', ['.Key', '.Value', '']) },
  { weight: 2, arbitrary: indexedKey('ResourceId') },
  { weight: 1, arbitrary: indexedKey('TagKey') },
  { weight: 1, arbitrary: indexedKey('Filter', ['.Key', '.Value']) },
  { weight: 1, arbitrary: indexedKey('TagFilter', ['.TagKey', '.TagValues.1', '.TagValues.9']) },
  { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

const ROS_PARAMS = [
  'RegionId',
  'StackId',
  'StackName',
  'TemplateBody',
  'TemplateURL',
  'TemplateId',
  'TimeoutInMinutes',
  'DisableRollback',
  'DeletionProtection',
  'ClientToken',
  'ReplacementOption',
  'UsePreviousParameters',
  'RetainAllResources',
  'OutputOption',
  'PageNumber',
  'PageSize',
  'LogicalResourceId',
  'ShowResourceAttributes',
  'DryRun',
];

export const rosKeyArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...ROS_PARAMS) },
  { weight: 2, arbitrary: indexedKey('Parameters', ['.ParameterKey', '.ParameterValue']) },
  { weight: 1, arbitrary: indexedKey('Tags', ['.Key', '.Value']) },
  { weight: 1, arbitrary: indexedKey('StackName') },
  { weight: 1, arbitrary: indexedKey('Status') },
  { weight: 1, arbitrary: indexedKey('RetainResources') },
  { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES) },
);

const FN_NAMES = [
  'Fn::Join',
  'Fn::Select',
  'Fn::Sub',
  'Fn::Split',
  'Fn::If',
  'Fn::Equals',
  'Fn::Not',
  'Fn::And',
  'Fn::Or',
  'Fn::FindInMap',
  'Fn::Replace',
  'Fn::Str',
  'Fn::Length',
  'Fn::ListMerge',
  'Fn::GetJsonValue',
  'Fn::MergeMapToList',
  'Fn::SelectMapList',
  'Fn::Add',
  'Fn::Max',
  'Fn::Min',
  'Fn::Avg',
  'Fn::Calculate',
  'Fn::Index',
  'Fn::Contains',
  'Fn::Any',
  'Fn::EachMemberIn',
  'Fn::MatchPattern',
  'Fn::Indent',
  'Fn::GetAZs',
  'Fn::Cidr',
  'Fn::GetStackOutput',
  'Fn::Base64Encode',
  'Fn::Base64Decode',
  'Fn::GetAtt',
  'Fn::Jq',
  'Fn::Unknown',
];

/** Template values: plain JSON, references and intrinsic functions with arguments of any shape. */
const { value: templateValueArb } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 1 }),
    fc.record({
      Ref: fc.constantFrom('P1', 'R1', 'ALIYUN::Region', 'ALIYUN::StackId', 'ALIYUN::NoValue', 'Nope'),
    }),
    fc
      .tuple(fc.constantFrom(...FN_NAMES), fc.oneof(tie('value'), fc.array(tie('value'), { maxLength: 4 })))
      .map(([name, arg]) => ({ [name]: arg })),
    fc.array(tie('value'), { maxLength: 3 }),
  ),
}));

/** Like `templateValueArb`, but with references that resolve and known functions: fails at run time, if at all. */
const { value: runnableValueArb } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 1 }),
    fc.record({ Ref: fc.constantFrom('P1', 'R1', 'ALIYUN::Region', 'ALIYUN::StackId', 'ALIYUN::AccountId') }),
    fc
      .tuple(
        fc.constantFrom(
          ...FN_NAMES.filter(
            (n) => !['Fn::GetAtt', 'Fn::Jq', 'Fn::Unknown', 'Fn::GetStackOutput'].includes(n),
          ),
        ),
        fc.oneof(tie('value'), fc.array(tie('value'), { maxLength: 4 })),
      )
      .map(([name, arg]) => ({ [name]: arg })),
    fc.array(tie('value'), { maxLength: 3 }),
  ),
}));

export const POLICY_ARB: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record({
    Version: fc.constantFrom('1', 1),
    Statement: fc.array(
      fc.oneof(
        fc.constant(null),
        fc.record(
          {
            Effect: fc.constantFrom('Allow', 'Deny', 'allow', 1),
            Action: fc.oneof(
              fc.constantFrom('*', 'ecs:*', 'ecs:DescribeImages', 'sts:AssumeRole', 5, null, [
                'ecs:Copy*',
                7,
              ]),
              fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }),
            ),
            Resource: fc.oneof(fc.constantFrom('*', ['*'], {}, 3, 'acs:ecs:*:*:image/*'), fc.string()),
            Principal: fc.oneof(fc.constant({ Service: ['fc.aliyuncs.com'] }), fc.constant({ Service: 5 })),
          },
          { requiredKeys: ['Effect'] },
        ),
      ),
      { maxLength: 3 },
    ),
  }),
);

const templateArb = fc
  .record(
    {
      ROSTemplateFormatVersion: fc.constantFrom('2015-09-01', '2015-09-01', 'bogus'),
      Description: fc.oneof(fc.string(), templateValueArb),
      Parameters: fc.dictionary(
        fc.constantFrom('P1', 'P2', 'ALIYUN::Region', ''),
        fc.record(
          {
            Type: fc.constantFrom('String', 'Number', 'CommaDelimitedList', 'Json', 'Boolean', 'Bogus', 5),
            Default: templateValueArb,
            AllowedValues: fc.array(fc.jsonValue({ maxDepth: 0 }), { maxLength: 3 }),
            // Not a catastrophic pattern such as (a+)+$: ROS evaluates patterns on the event loop (reported).
            AllowedPattern: fc.constantFrom('^a+$', '[', 7),
            MinLength: fc.oneof(fc.integer(), fc.string()),
            MaxValue: fc.oneof(fc.double(), fc.string()),
            NoEcho: fc.oneof(fc.boolean(), fc.string()),
          },
          { requiredKeys: [] },
        ),
        { maxKeys: 2 },
      ),
      Conditions: fc.dictionary(fc.constantFrom('C1', 'C2'), templateValueArb, { maxKeys: 2 }),
      Mappings: fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
      Resources: fc.dictionary(
        fc.constantFrom('R1', 'R2', 'R3', 'Fn::Join', ''),
        fc.record(
          {
            Type: fc.constantFrom(
              'ALIYUN::RAM::Role',
              'ALIYUN::FC3::Function',
              'ALIYUN::ROS::CustomResource',
              'Custom::Thing',
              'ALIYUN::ECS::Instance',
              'ALIYUN::ROS::WaitConditionHandle',
              7,
            ),
            Properties: fc.oneof(
              fc.dictionary(
                fc.constantFrom(
                  'RoleName',
                  'AssumeRolePolicyDocument',
                  'Policies',
                  'FunctionName',
                  'Runtime',
                  'Handler',
                  'Code',
                  'Timeout',
                  'MemorySize',
                  'Role',
                  'ServiceToken',
                  'Parameters',
                  'EnvironmentVariables',
                ),
                fc.oneof(templateValueArb, POLICY_ARB),
                { maxKeys: 5 },
              ),
              fc.jsonValue({ maxDepth: 1 }),
            ),
            DependsOn: fc.oneof(
              fc.constantFrom('R1', 'R2', 'Nope'),
              fc.array(fc.constantFrom('R1', 'R2', 'R3')),
            ),
            Condition: fc.constantFrom('C1', 'C2', 'Nope'),
            DeletionPolicy: fc.constantFrom('Retain', 'Delete', 'Bogus'),
          },
          { requiredKeys: ['Type'] },
        ),
        { maxKeys: 3 },
      ),
      Outputs: fc.dictionary(
        fc.constantFrom('O1', 'O2'),
        fc.record(
          { Value: templateValueArb, Condition: fc.constantFrom('C1', 'Nope') },
          { requiredKeys: ['Value'] },
        ),
        { maxKeys: 2 },
      ),
    },
    { requiredKeys: ['ROSTemplateFormatVersion', 'Resources'] },
  )
  .map((t) => JSON.stringify(t));

const TRUST_POLICY = {
  Version: '1',
  Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['fc.aliyuncs.com'] } }],
};

/** Templates that mostly pass validation, so the engine runs them: parameters, roles, outputs of any function. */
export const runnableTemplateArb = fc
  .record({
    P1: fc
      .record(
        {
          typed: fc.constantFrom(
            { Type: 'String', Default: 'a,b,c' },
            { Type: 'Number', Default: 42 },
            { Type: 'CommaDelimitedList', Default: 'a,b,c' },
            { Type: 'Json', Default: '{"a":[1,2]}' },
            { Type: 'Boolean', Default: 'true' },
          ),
          NoEcho: fc.boolean(),
        },
        { requiredKeys: ['typed'] },
      )
      .map(({ typed, ...constraints }) => ({ ...typed, ...constraints })),
    roleName: fc.oneof(
      fc.stringMatching(/^[a-zA-Z0-9-]{1,20}$/),
      fc.constant({ 'Fn::Join': ['-', ['r', { Ref: 'P1' }]] }),
    ),
    trust: fc.oneof(
      { weight: 4, arbitrary: fc.constant(TRUST_POLICY) },
      { weight: 1, arbitrary: POLICY_ARB },
    ),
    policies: fc.array(fc.record({ PolicyName: fc.constant('p'), PolicyDocument: POLICY_ARB }), {
      maxLength: 2,
    }),
    custom: fc.boolean(),
    outputs: fc.dictionary(fc.constantFrom('O1', 'O2', 'O3'), runnableValueArb, { maxKeys: 3 }),
    condition: fc.option(
      fc.oneof(
        fc.record({
          'Fn::Equals': fc.tuple(fc.record({ Ref: fc.constant('P1') }), fc.constantFrom('a', '42', 'true')),
        }),
        runnableValueArb.filter((v) => !JSON.stringify(v).includes('"R1"')),
      ),
      { nil: undefined },
    ),
  })
  .map(({ P1, roleName, trust, policies, custom, outputs, condition }) =>
    JSON.stringify({
      ROSTemplateFormatVersion: '2015-09-01',
      Parameters: { P1 },
      ...(condition !== undefined && { Conditions: { C1: condition } }),
      Resources: {
        R1: {
          Type: 'ALIYUN::RAM::Role',
          Properties: { RoleName: roleName, AssumeRolePolicyDocument: trust, Policies: policies },
        },
        ...(custom && {
          R2: {
            Type: 'Custom::Thing',
            ...(condition !== undefined && { Condition: 'C1' }),
            Properties: {
              ServiceToken: 'acs:fc:cn-hangzhou:1:functions/none',
              Timeout: 5,
              Parameters: { X: { Ref: 'P1' } },
            },
          },
        }),
      },
      Outputs: {
        ...Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { Value: v }])),
        Arn: { Value: { 'Fn::GetAtt': ['R1', 'Arn'] } },
      },
    }),
  );

export const templateBodyArb = fc.oneof(
  { weight: 6, arbitrary: runnableTemplateArb },
  { weight: 2, arbitrary: templateArb },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'ROSTemplateFormatVersion: "2015-09-01"\nResources: {}\n',
      'a: &a [*a]\n',
      '!!binary AAAA',
      '- [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[',
      `{"ROSTemplateFormatVersion":"2015-09-01","Resources":{},"Outputs":{"O":{"Value":{"Fn::Max":[${'1,'.repeat(150_000)}1]}}}}`,
    ),
  },
);
