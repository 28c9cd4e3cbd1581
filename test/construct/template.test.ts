import * as ros from '@alicloud/ros-cdk-core';
import { RosCustomResource } from '@alicloud/ros-cdk-ros';
import { Match, newStack, Template } from './template';

/** The assertion helper fails when it should, so the construct tests built on it mean something. */
describe('Template (test helper)', () => {
  function template(): Template {
    const stack = newStack();
    new RosCustomResource(
      stack,
      'Custom',
      {
        serviceToken: 'acs:fc:cn-hangzhou:123:functions/f',
        timeout: 60,
        parameters: { Name: 'a', List: [1, 2], Nested: { Key: 'v' } },
      },
      true,
    );
    new ros.RosOutput(stack, 'Out', { value: 'x' });
    return Template.fromStack(stack);
  }

  it('matches objects partially, arrays and scalars exactly', () => {
    const t = template();
    t.hasResourceProperties('ALIYUN::ROS::CustomResource', { Parameters: { Name: 'a', List: [1, 2] } });
    expect(() =>
      t.hasResourceProperties('ALIYUN::ROS::CustomResource', { Parameters: { List: [1] } }),
    ).toThrow('Properties.Parameters.List: expected [1], got [1,2]');
    expect(() => t.hasResourceProperties('ALIYUN::ROS::CustomResource', { Timeout: 61 })).toThrow(
      'Properties.Timeout: expected 61, got 60',
    );
  });

  it('has matchers for exact objects, absent keys, any value, arrays containing and patterns', () => {
    const t = template();
    const type = 'ALIYUN::ROS::CustomResource';
    t.hasResourceProperties(type, { Parameters: { Nested: Match.exact({ Key: 'v' }) } });
    expect(() => t.hasResourceProperties(type, { Parameters: Match.exact({ Name: 'a' }) })).toThrow(
      'expected exactly',
    );
    t.hasResourceProperties(type, { Parameters: { Missing: Match.absent(), Name: Match.anyValue() } });
    expect(() => t.hasResourceProperties(type, { Parameters: { Name: Match.absent() } })).toThrow(
      'expected to be absent',
    );
    t.hasResourceProperties(type, { Parameters: { List: Match.arrayWith([2]) } });
    expect(() => t.hasResourceProperties(type, { Parameters: { List: Match.arrayWith([3]) } })).toThrow(
      'no element matches 3',
    );
    t.hasResourceProperties(type, { ServiceToken: Match.stringLikeRegexp(/^acs:fc:/) });
    expect(() => t.hasResourceProperties(type, { ServiceToken: Match.stringLikeRegexp(/^web:/) })).toThrow(
      'matching',
    );
  });

  it('counts and finds resources, and reads outputs and sizes', () => {
    const t = template();
    t.resourceCountIs('ALIYUN::ROS::CustomResource', 1);
    expect(() => t.resourceCountIs('ALIYUN::ROS::CustomResource', 2)).toThrow('expected 2 resources');
    expect(() => t.hasResourceProperties('ALIYUN::RAM::Role', {})).toThrow(
      'no resource of type ALIYUN::RAM::Role',
    );
    expect(t.resource('ALIYUN::ROS::CustomResource')[0]).toBe('Custom');
    t.hasOutput('Out', { Value: 'x' });
    expect(() => t.hasOutput('Out', { Value: 'y' })).toThrow('Outputs.Out.Value: expected "y", got "x"');
    expect(() => t.hasResource('Other', {})).toThrow('no resource Other');
    expect(t.compactByteLength).toBe(Buffer.byteLength(JSON.stringify(t.json)));
    expect(t.byteLength).toBeGreaterThan(t.compactByteLength);
  });
});
