/**
 * A stack that manages a stack group, for ros-deploy's tests: its `Custom::ImageDistribution` resource names the
 * group, and its provider waits at a gate while a test runs the group's operations through the stack group API (as
 * ImageDistribution's handler does), so that they happen while ros-deploy follows the stack.
 */
import * as fs from 'fs';
import * as path from 'path';

export const OTHER_REGION = 'cn-beijing';

/**
 * The provider of the stack's ImageDistribution stand-in: each request waits until the file `<gate>/<RequestType>`
 * exists, then answers SUCCESS, or FAILED when `<gate>/fail-<RequestType>` exists too.
 */
const GATED_PROVIDER = `
const fs = require('fs');
const path = require('path');
exports.handler = async (payload) => {
  const e = JSON.parse(payload.toString());
  const gate = e.ResourceProperties.Gate;
  while (!fs.existsSync(path.join(gate, e.RequestType)) && fs.existsSync(gate)) {
    await new Promise((r) => setTimeout(r, 25));
  }
  const failed = fs.existsSync(path.join(gate, 'fail-' + e.RequestType));
  await fetch(e.ResponseURL, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      Status: failed ? 'FAILED' : 'SUCCESS', Reason: failed ? 'the test failed the ' + e.RequestType : undefined,
      PhysicalResourceId: e.ResourceProperties.StackGroupName, StackId: e.StackId,
      RequestId: e.RequestId, LogicalResourceId: e.LogicalResourceId, Data: {},
    }),
  });
};`;

/** `version`: a property of the custom resource whose change updates it (the provider waits at `<gate>/Update`). */
export function stackTemplate(stackGroupName: string, gate: string, version = '1') {
  return {
    ROSTemplateFormatVersion: '2015-09-01',
    Resources: {
      Provider: {
        Type: 'ALIYUN::FC3::Function',
        Properties: {
          FunctionName: `gate-${stackGroupName}`,
          Runtime: 'nodejs20',
          Handler: 'index.handler',
          Timeout: 600,
          Code: { SourceCode: GATED_PROVIDER },
        },
      },
      Distribution: {
        Type: 'Custom::ImageDistribution',
        Properties: {
          ServiceToken: { 'Fn::GetAtt': ['Provider', 'ARN'] },
          Timeout: 600,
          Parameters: { StackGroupName: stackGroupName, Gate: gate, Version: version },
        },
      },
    },
  };
}

/** The instance template: the outputs ImageDistribution's instance template has (ImageId, RegionId). */
export const INSTANCE_TEMPLATE = JSON.stringify({
  ROSTemplateFormatVersion: '2015-09-01',
  Resources: {
    Role: {
      Type: 'ALIYUN::RAM::Role',
      Properties: {
        // Unique per instance stack, within RAM's 64 characters.
        RoleName: {
          'Fn::Join': [
            '-',
            ['copy', { 'Fn::Select': ['0', { 'Fn::Split': ['-', { Ref: 'ALIYUN::StackId' }] }] }],
          ],
        },
        AssumeRolePolicyDocument: {
          Version: '1',
          Statement: [
            { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['fc.aliyuncs.com'] } },
          ],
        },
      },
    },
  },
  Outputs: {
    ImageId: { Value: { 'Fn::Sub': 'm-${ALIYUN::AccountId}-${ALIYUN::Region}' } },
    RegionId: { Value: { Ref: 'ALIYUN::Region' } },
  },
});

export const open = (gate: string, requestType: string) => fs.writeFileSync(path.join(gate, requestType), '');
