import { managesStackGroups, shortAccountId, stackGroupsOf } from '../../lib/deploy/stack-groups';

const context = { stackName: 'Org', regionId: 'cn-hangzhou', parameters: { Env: 'prod' } };

describe('finding the stack groups a template manages', () => {
  it('reads StackGroupName of ImageDistribution (in its Parameters) and of the ROS stack group types', () => {
    const template = {
      Resources: {
        Distribution: {
          Type: 'Custom::ImageDistribution',
          Properties: { ServiceToken: 'acs:fc:…', Parameters: { StackGroupName: 'golden-images' } },
        },
        Group: { Type: 'ALIYUN::ROS::StackGroup', Properties: { StackGroupName: 'baseline' } },
        Instances: { Type: 'ALIYUN::ROS::StackInstances', Properties: { StackGroupName: 'baseline' } },
        Other: { Type: 'ALIYUN::RAM::Role', Properties: { RoleName: 'x' } },
      },
    };
    expect(managesStackGroups(template)).toBe(true);
    expect(stackGroupsOf(template, context)).toEqual({
      groups: [
        { stackGroupName: 'golden-images', logicalResourceIds: ['Distribution'], retained: false },
        { stackGroupName: 'baseline', logicalResourceIds: ['Group', 'Instances'], retained: false },
      ],
      unresolved: [],
    });
  });

  it('resolves names made of parameters (given, else their default), pseudo parameters and the group resource they refer to', () => {
    const template = {
      Parameters: { Env: { Type: 'String' }, Team: { Type: 'String', Default: 'images' } },
      Resources: {
        A: {
          Type: 'ALIYUN::ROS::StackGroup',
          Properties: {
            StackGroupName: { 'Fn::Join': ['-', [{ Ref: 'ALIYUN::StackName' }, { Ref: 'Env' }]] },
          },
        },
        B: {
          Type: 'ALIYUN::ROS::StackGroup',
          Properties: { StackGroupName: { 'Fn::Sub': '${Team}-${ALIYUN::Region}' } },
          DeletionPolicy: 'Retain',
        },
        Instances: {
          Type: 'ALIYUN::ROS::StackInstances',
          Properties: { StackGroupName: { Ref: 'A' } },
        },
        More: {
          Type: 'ALIYUN::ROS::StackInstances',
          Properties: { StackGroupName: { 'Fn::GetAtt': ['B', 'StackGroupName'] } },
        },
        C: {
          Type: 'ALIYUN::ROS::StackGroup',
          Properties: { StackGroupName: { 'Fn::GetAtt': ['Other', 'Name'] } },
        },
      },
    };
    expect(stackGroupsOf(template, context)).toEqual({
      groups: [
        { stackGroupName: 'Org-prod', logicalResourceIds: ['A', 'Instances'], retained: false },
        { stackGroupName: 'images-cn-hangzhou', logicalResourceIds: ['B', 'More'], retained: true },
      ],
      unresolved: ['C'],
    });
  });

  it('finds none in a template without stack group resources', () => {
    const template = { Resources: { R: { Type: 'ALIYUN::RAM::Role', Properties: {} } } };
    expect(managesStackGroups(template)).toBe(false);
    expect(stackGroupsOf(template, context)).toEqual({ groups: [], unresolved: [] });
  });

  it('shortens a 16-digit account id for progress lines', () => {
    expect(shortAccountId('1234567890125678')).toBe('1234…5678');
  });
});
