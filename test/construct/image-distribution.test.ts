import * as ros from '@alicloud/ros-cdk-core';
import {
  ImageCopy,
  ImageCopyValidationError,
  ImageDistribution,
  type ImageDistributionProps,
} from '../../lib';
import { defaultStackGroupName } from '../../lib/image-distribution';
import {
  DISTRIBUTION_MAPPING_NAME,
  HANDLER_CODE_PLACEHOLDER,
  IMAGE_DISTRIBUTION_RESOURCE_TYPE,
  STACK_GROUP_NAME_PATTERN,
} from '../../lib/protocol';
import { Match, newStack, Template } from './template';

const ACCOUNT_A = '1111111111111111';
const ACCOUNT_B = '2222222222222222';
const BASE: ImageDistributionProps = {
  sourceImageId: 'm-bp1golden',
  sourceRegionId: 'cn-hangzhou',
  targetAccountIds: [ACCOUNT_A, ACCOUNT_B],
  targetRegionIds: ['cn-hangzhou', 'cn-beijing'],
};

function distribute(props: Partial<ImageDistributionProps> = {}, stack = newStack('Org')): ImageDistribution {
  return new ImageDistribution(stack, 'Golden', { ...BASE, ...props } as ImageDistributionProps);
}

function messagesFor(props: Partial<ImageDistributionProps> | Record<string, unknown>): string[] {
  try {
    distribute(props as Partial<ImageDistributionProps>);
    return [];
  } catch (error) {
    if (!(error instanceof ImageCopyValidationError)) {
      throw error;
    }
    return error.messages;
  }
}

describe('ImageDistribution', () => {
  it('replicates the source into every target region in the owner account and declares one Custom::ImageDistribution on the provider', () => {
    const stack = newStack('Org');
    distribute({ regionsByAccount: { [ACCOUNT_B]: ['cn-shanghai'] } }, stack);
    const template = Template.fromStack(stack);
    template.resourceCountIs('ALIYUN::ROS::CustomResource', 3);
    template.resourceCountIs('ALIYUN::FC3::Function', 1);
    expect(Object.keys(template.findResources('ALIYUN::ROS::CustomResource')).sort()).toEqual(
      ['ReplicasCnBeijing', 'ReplicasCnHangzhou', 'ReplicasCnShanghai'].sort(),
    );
    template.hasResourceProperties(IMAGE_DISTRIBUTION_RESOURCE_TYPE, {
      ServiceToken: { 'Fn::GetAtt': ['ImageCopyProviderFunction', 'ARN'] },
      Parameters: {
        StackGroupName: 'Org-Golden',
        TargetAccountIds: [ACCOUNT_A, ACCOUNT_B],
        TargetRegionIds: ['cn-hangzhou', 'cn-beijing'],
        RegionsByAccount: { [ACCOUNT_B]: ['cn-shanghai'] },
        ReplicaImageIds: {
          'cn-hangzhou': { 'Fn::GetAtt': ['ReplicasCnHangzhou', 'ImageId'] },
          'cn-beijing': { 'Fn::GetAtt': ['ReplicasCnBeijing', 'ImageId'] },
          'cn-shanghai': { 'Fn::GetAtt': ['ReplicasCnShanghai', 'ImageId'] },
        },
        AdministrationRoleName: 'AliyunROSStackGroupAdministrationRole',
        ExecutionRoleName: 'AliyunROSStackGroupExecutionRole',
      },
    });
  });

  it('carries an instance template of one ImageCopy from the replica of its own region, with outputs and the code placeholder', () => {
    const stack = newStack('Org');
    distribute({ imageName: 'golden', tags: { team: 'platform' }, imageFamily: 'golden-family' }, stack);
    const [, resource] = Template.fromStack(stack).resource(IMAGE_DISTRIBUTION_RESOURCE_TYPE);
    const body = (resource.Properties!.Parameters as Record<string, unknown>).TemplateBody as string;
    expect(Buffer.byteLength(body)).toBeLessThan(16_000); // the handler's code is not in it
    const instance = new Template(JSON.parse(body), Buffer.byteLength(body));
    instance.hasResourceProperties('ALIYUN::ROS::CustomResource', {
      Parameters: {
        SourceImageId: { 'Fn::FindInMap': [DISTRIBUTION_MAPPING_NAME, { Ref: 'ALIYUN::Region' }, 'ImageId'] },
        SourceRegionId: { Ref: 'ALIYUN::Region' },
        ImageName: 'golden',
        Tags: { team: 'platform' },
        ImageFamily: 'golden-family',
      },
    });
    instance.hasResourceProperties('ALIYUN::FC3::Function', { Code: { ZipFile: HANDLER_CODE_PLACEHOLDER } });
    expect(instance.json.Mappings).toEqual({ [DISTRIBUTION_MAPPING_NAME]: {} });
    for (const output of ['ImageId', 'ImageName', 'RegionId']) {
      instance.hasOutput(output, { Value: { 'Fn::GetAtt': ['Copy', output] } });
    }
  });

  it('picks each region KMS key in the instance template from a mapping when encrypted', () => {
    const stack = newStack('Org');
    distribute({ encrypted: true, kmsKeyIds: { 'cn-hangzhou': 'key-hz', 'cn-beijing': 'key-bj' } }, stack);
    const [, resource] = Template.fromStack(stack).resource(IMAGE_DISTRIBUTION_RESOURCE_TYPE);
    const instance = JSON.parse((resource.Properties!.Parameters as Record<string, string>).TemplateBody);
    expect(instance.Mappings.KmsKeyIds).toEqual({
      'cn-hangzhou': { KeyId: 'key-hz' },
      'cn-beijing': { KeyId: 'key-bj' },
    });
    expect(instance.Resources.Copy.Properties.Parameters).toMatchObject({
      Encrypted: true,
      KmsKeyId: { 'Fn::FindInMap': ['KmsKeyIds', { Ref: 'ALIYUN::Region' }, 'KeyId'] },
    });
  });

  it('writes the operation preferences as ROS spells them, and the timeouts', () => {
    const stack = newStack('Org');
    distribute(
      {
        operationPreferences: {
          maxConcurrentCount: 10,
          failureToleranceCount: 1,
          regionConcurrencyType: 'PARALLEL',
        },
        timeouts: { create: 30, delete: 20 },
      },
      stack,
    );
    Template.fromStack(stack).hasResourceProperties(IMAGE_DISTRIBUTION_RESOURCE_TYPE, {
      Timeout: 30 * 60 + 20 * 60 + 300,
      Parameters: {
        OperationPreferences: Match.exact({
          MaxConcurrentCount: 10,
          FailureToleranceCount: 1,
          RegionConcurrencyType: 'PARALLEL',
        }),
        CreateTimeoutSeconds: 1800,
        DeleteTimeoutSeconds: 1200,
      },
    });
  });

  it('targets Resource Directory folders with service-managed permissions: no roles written', () => {
    const stack = newStack('Org');
    distribute({ targetAccountIds: undefined, targetFolderIds: ['fd-abc123'] }, stack);
    const [, resource] = Template.fromStack(stack).resource(IMAGE_DISTRIBUTION_RESOURCE_TYPE);
    const parameters = resource.Properties!.Parameters as Record<string, unknown>;
    expect(parameters.TargetFolderIds).toEqual(['fd-abc123']);
    expect(parameters).not.toHaveProperty('TargetAccountIds');
    expect(parameters).not.toHaveProperty('AdministrationRoleName');
    expect(parameters).not.toHaveProperty('ExecutionRoleName');
  });

  it('grants the provider the stack group actions only when the stack has an ImageDistribution', () => {
    const withDistribution = newStack('Org');
    distribute({}, withDistribution);
    const [, role] = Template.fromStack(withDistribution).resource('ALIYUN::RAM::Role');
    const policies = role.Properties!.Policies as Array<{
      PolicyDocument: { Statement: Array<{ Action: string[] }> };
    }>;
    const actions = policies.flatMap((policy) => policy.PolicyDocument.Statement.flatMap((s) => s.Action));
    expect(actions).toEqual(
      expect.arrayContaining([
        'ros:CreateStackGroup',
        'ros:UpdateStackGroup',
        'ros:DeleteStackGroup',
        'ros:CreateStackInstances',
        'ros:DeleteStackInstances',
        'ros:GetStackGroupOperation',
        'ros:ListStackGroupOperationResults',
        'ros:GetStackInstance',
        'resourcemanager:ListAccountsForParent',
        'ecs:ModifyImageSharePermission',
        'ecs:DescribeImageSharePermission',
      ]),
    );
    expect(actions).not.toContain('ram:PassRole');

    const withoutDistribution = newStack('Plain');
    new ImageCopy(withoutDistribution, 'Copy', BASE);
    const [, plainRole] = Template.fromStack(withoutDistribution).resource('ALIYUN::RAM::Role');
    expect(JSON.stringify(plainRole)).not.toContain('ros:CreateStackGroup');
  });

  it('reads attributes: the group name, the image ids and one pair', () => {
    const stack = newStack('Org');
    const distribution = distribute({}, stack);
    const resolve = (token: string) => stack.resolve(token);
    expect(resolve(distribution.attrStackGroupName)).toEqual({ 'Fn::GetAtt': ['Golden', 'StackGroupName'] });
    expect(resolve(distribution.attrImageIds)).toEqual({ 'Fn::GetAtt': ['Golden', 'ImageIds'] });
    expect(resolve(distribution.imageIdFor(ACCOUNT_A, 'cn-beijing'))).toEqual({
      'Fn::GetAtt': ['Golden', `ImageId.${ACCOUNT_A}.cn-beijing`],
    });
    expect(() => distribution.imageIdFor(ACCOUNT_A, 'eu-central-1')).toThrow(/no copies in "eu-central-1"/);
  });

  it('names the stack group after the stack and the construct, within ROS rule', () => {
    expect(defaultStackGroupName('Org', 'Golden')).toBe('Org-Golden');
    expect(defaultStackGroupName('_my.stack', 'Gold en')).toBe('my-stack-Gold-en');
    const long = defaultStackGroupName('S'.repeat(200), 'C'.repeat(100));
    expect(long.length).toBeLessThanOrEqual(255);
    expect(long).toMatch(STACK_GROUP_NAME_PATTERN);
  });

  describe('validation', () => {
    it('requires exactly one of targetAccountIds and targetFolderIds', () => {
      expect(messagesFor({ targetAccountIds: undefined })).toEqual([
        expect.stringContaining('targetAccountIds or targetFolderIds is required'),
      ]);
      expect(messagesFor({ targetFolderIds: ['fd-abc'] })).toEqual([
        expect.stringContaining('targetAccountIds and targetFolderIds are exclusive'),
      ]);
    });

    it('names a malformed account, a repeated one and more than 50', () => {
      expect(messagesFor({ targetAccountIds: ['12345', ACCOUNT_A, ACCOUNT_A] })).toEqual([
        'targetAccountIds[0] "12345" is invalid: each an Alibaba Cloud account id of 16 digits',
        `targetAccountIds[2] "${ACCOUNT_A}" is invalid: is named twice`,
      ]);
      const many = Array.from({ length: 51 }, (_, i) => String(1000000000000000 + i));
      expect(messagesFor({ targetAccountIds: many })).toEqual([
        'targetAccountIds (51) is invalid: at most 50 (ECS shares an image with at most 50 accounts)',
      ]);
    });

    it('names a malformed folder and refuses roles and per-account regions with folders', () => {
      expect(
        messagesFor({
          targetAccountIds: undefined,
          targetFolderIds: ['folder-1'],
          executionRoleName: 'Exec',
        }),
      ).toEqual([
        'targetFolderIds[0] "folder-1" is invalid: each a Resource Directory folder id like "fd-abc123"',
        'executionRoleName "Exec" is invalid: only with targetAccountIds (self-managed permissions); folders use service-managed permissions',
      ]);
    });

    it('checks the regions: shape, repeats, at most 20, and regionsByAccount keys among the accounts', () => {
      expect(messagesFor({ targetRegionIds: ['cn-hangzhou', 'cn-hangzhou', 'Hangzhou'] })).toEqual([
        'targetRegionIds[1] "cn-hangzhou" is invalid: repeats a region',
        expect.stringMatching(/^targetRegionIds\[2\] "Hangzhou" is invalid: must be a region id/),
      ]);
      const regions = Array.from({ length: 21 }, (_, i) => `cn-region${i}`);
      expect(messagesFor({ targetRegionIds: regions })).toEqual([
        expect.stringContaining('(21 regions) are invalid: at most 20 regions'),
      ]);
      expect(messagesFor({ regionsByAccount: { '3333333333333333': ['cn-beijing'] } })).toEqual([
        'regionsByAccount key "3333333333333333" is invalid: must be one of the targetAccountIds',
      ]);
      expect(messagesFor({ targetRegionIds: ros.Token.asList({ Ref: 'Regions' }) })).toEqual([
        expect.stringContaining('targetRegionIds'),
      ]);
    });

    it('checks the operation preferences: ranges and exclusive pairs', () => {
      expect(
        messagesFor({
          operationPreferences: {
            maxConcurrentCount: 21,
            maxConcurrentPercentage: 50,
            failureTolerancePercentage: 101,
            regionConcurrencyType: 'ALL',
          },
        }),
      ).toEqual([
        'operationPreferences.maxConcurrentCount 21 is invalid: must be a whole number from 1 to 20',
        'operationPreferences.failureTolerancePercentage 101 is invalid: must be a whole number from 0 to 100',
        'operationPreferences.maxConcurrentCount and operationPreferences.maxConcurrentPercentage are exclusive: give one',
        'operationPreferences.regionConcurrencyType "ALL" is invalid: must be SEQUENTIAL or PARALLEL',
      ]);
    });

    it('checks the names, the KMS keys and the copies properties', () => {
      expect(messagesFor({ stackGroupName: '-bad name' })).toEqual([
        expect.stringMatching(/^stackGroupName "-bad name" is invalid: must be 1 to 255 letters/),
      ]);
      expect(messagesFor({ kmsKeyIds: { 'cn-hangzhou': 'key' } })).toEqual([
        'kmsKeyIds {"cn-hangzhou":"key"} requires encrypted: true',
      ]);
      expect(messagesFor({ encrypted: true, kmsKeyIds: { 'cn-hangzhou': 'key' } })).toEqual([
        expect.stringContaining('names no key for the target region "cn-beijing"'),
      ]);
      expect(messagesFor({ imageName: ros.Token.asString({ Ref: 'Name' }) })).toEqual([
        expect.stringContaining('imageName is invalid: must be known at synth time'),
      ]);
      expect(messagesFor({ keepPreviousVersions: 11 })).toEqual([
        expect.stringContaining('keepPreviousVersions 11 is invalid'),
      ]);
    });

    it('leaves account ids that are tokens to the handler', () => {
      expect(messagesFor({ targetAccountIds: ros.Token.asList({ Ref: 'Accounts' }) })).toEqual([]);
    });
  });
});
