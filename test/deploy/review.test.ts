import {
  changesNeedingApproval,
  type DiffResult,
  diffTemplates,
  formatDiff,
  reviewResource,
  summarize,
} from '../../lib/deploy';
import { ImageCopyParameter } from '../../lib/protocol';

/** An ImageCopy as the construct renders it: a custom resource with ImageCopy's parameters. */
const imageCopy = (parameters: Record<string, unknown> = {}) => ({
  Type: 'ALIYUN::ROS::CustomResource',
  Properties: {
    ServiceToken: { 'Fn::GetAtt': ['ImageCopyProviderFunction', 'ARN'] },
    Timeout: 660,
    Parameters: {
      [ImageCopyParameter.SourceImageId]: 'm-source1',
      [ImageCopyParameter.SourceRegionId]: 'cn-hangzhou',
      [ImageCopyParameter.DestinationRegionId]: 'cn-shanghai',
      [ImageCopyParameter.ImageName]: 'golden',
      ...parameters,
    },
  },
});

const policy = (statements: Record<string, unknown>[]) => ({
  Type: 'ALIYUN::RAM::Role',
  Properties: {
    RoleName: 'handler',
    AssumeRolePolicyDocument: {
      Version: '1',
      Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['fc.aliyuncs.com'] } }],
    },
    Policies: [{ PolicyName: 'handler', PolicyDocument: { Version: '1', Statement: statements } }],
  },
});

const describeImages = { Effect: 'Allow', Action: ['ecs:DescribeImages'], Resource: ['acs:ecs:*:*:image/*'] };

/** A diff of two templates' resources, as diffStack returns it. */
function diff(before: Record<string, unknown>, after: Record<string, unknown>): DiffResult {
  const changes = diffTemplates({ Resources: before }, { Resources: after });
  return {
    stackName: 'Images',
    regionId: 'cn-hangzhou',
    exists: true,
    changes,
    hasChanges: changes.length > 0,
    summary: summarize(changes),
  };
}

describe('what a change does to a resource', () => {
  it('replaces an ImageCopy whose source, destination or encryption changes, from its update table', () => {
    for (const key of [
      ImageCopyParameter.SourceImageId,
      ImageCopyParameter.SourceRegionId,
      ImageCopyParameter.DestinationRegionId,
      ImageCopyParameter.Encrypted,
      ImageCopyParameter.KmsKeyId,
    ]) {
      expect(reviewResource(imageCopy(), imageCopy({ [key]: 'changed' }))).toMatchObject({
        action: 'replace',
        imageCopy: true,
        replacement: {
          properties: [`Parameters.${key}`],
          basis: 'image-copy-update-table',
          reason: `${key} changes: a new copy is made, then the old one is deleted`,
        },
      });
    }
  });

  it('modifies an ImageCopy in place for a new name, description, tags, resource group or timeouts', () => {
    for (const key of [
      ImageCopyParameter.ImageName,
      ImageCopyParameter.Description,
      ImageCopyParameter.Tags,
      ImageCopyParameter.ResourceGroupId,
      ImageCopyParameter.CreateTimeoutSeconds,
    ]) {
      const review = reviewResource(imageCopy(), imageCopy({ [key]: 'changed' }));
      expect(review).toEqual({ action: 'modify', imageCopy: true });
    }
  });

  it('replaces other resources whose property ROS documents as not editable, or whose type changes', () => {
    const role = policy([describeImages]);
    const renamed = { ...role, Properties: { ...role.Properties, RoleName: 'other' } };
    expect(reviewResource(role, renamed)).toMatchObject({
      action: 'replace',
      replacement: { properties: ['RoleName'], basis: 'ros-documentation' },
    });
    const token = { Type: 'Custom::Thing', Properties: { ServiceToken: 'acs:fc:a', Parameters: {} } };
    expect(
      reviewResource(token, { ...token, Properties: { ...token.Properties, ServiceToken: 'acs:fc:b' } }),
    ).toMatchObject({ action: 'replace', replacement: { properties: ['ServiceToken'] } });
    expect(reviewResource({ Type: 'ALIYUN::RAM::User' }, { Type: 'ALIYUN::RAM::Role' })).toMatchObject({
      action: 'replace',
      replacement: {
        basis: 'type-change',
        reason: 'the type changes from ALIYUN::RAM::User to ALIYUN::RAM::Role',
      },
    });
    // ROS documents an FC 3.0 function's name as editable: modified in place.
    const fn = { Type: 'ALIYUN::FC3::Function', Properties: { FunctionName: 'a', Handler: 'index.handler' } };
    expect(reviewResource(fn, { ...fn, Properties: { ...fn.Properties, FunctionName: 'b' } })).toEqual({
      action: 'modify',
      imageCopy: false,
    });
  });

  it('marks every RAM change as security-relevant, broadening when it grants, trusts or attaches more', () => {
    const before = policy([describeImages]);
    const wider = policy([describeImages, { Effect: 'Allow', Action: 'ecs:DeleteImage', Resource: '*' }]);
    expect(reviewResource(before, wider).security).toEqual({
      added: ['Allow ecs:DeleteImage on *'],
      removed: [],
      broadening: true,
    });
    expect(reviewResource(wider, before).security).toEqual({
      added: [],
      removed: ['Allow ecs:DeleteImage on *'],
      broadening: false,
    });
    const trusting = policy([describeImages]);
    (trusting.Properties.AssumeRolePolicyDocument.Statement[0].Principal as Record<string, unknown>).RAM = [
      'acs:ram::123:root',
    ];
    expect(reviewResource(before, trusting).security).toMatchObject({
      added: ['trust RAM acs:ram::123:root'],
      broadening: true,
    });
    const denied = policy([describeImages, { Effect: 'Deny', Action: 'ecs:DeleteImage', Resource: '*' }]);
    expect(reviewResource(denied, before).security).toMatchObject({ broadening: true });
    const attached = {
      Type: 'ALIYUN::RAM::Role',
      Properties: { PolicyAttachments: { System: ['AliyunECSFullAccess'] } },
    };
    expect(reviewResource(undefined, attached).security).toMatchObject({
      added: ['attach System policy AliyunECSFullAccess'],
      broadening: true,
    });
    expect(reviewResource(imageCopy(), imageCopy({ ImageName: 'x' })).security).toBeUndefined();
  });
});

describe('which changes need approval before a deploy', () => {
  const deployed = { Role: policy([describeImages]), Copy: imageCopy(), Kept: imageCopy() };

  it('at broadening: permissions that widen, an image copy replaced or deleted; not a narrowing or a rename', () => {
    const next = {
      Role: policy([describeImages, { Effect: 'Allow', Action: 'ecs:CopyImage', Resource: '*' }]),
      Copy: imageCopy({ [ImageCopyParameter.SourceImageId]: 'm-source2' }),
      Renamed: imageCopy(),
    };
    expect(changesNeedingApproval([diff(deployed, next)], 'broadening')).toEqual([
      {
        stackName: 'Images',
        id: 'Copy',
        why: expect.stringMatching(/^replaces the image copy \(SourceImageId changes/),
      },
      { stackName: 'Images', id: 'Kept', why: 'deletes the image copy' },
      { stackName: 'Images', id: 'Role', why: 'broadens permissions: Allow ecs:CopyImage on *' },
    ]);
    const quiet = { Role: policy([]), Copy: imageCopy({ ImageName: 'renamed' }), Kept: imageCopy() };
    expect(changesNeedingApproval([diff(deployed, quiet)], 'broadening')).toEqual([]);
    expect(changesNeedingApproval([diff(deployed, quiet)], 'any-change')).toEqual([
      { stackName: 'Images', id: 'Copy', why: 'modifies ALIYUN::ROS::CustomResource' },
      { stackName: 'Images', id: 'Role', why: 'modifies ALIYUN::RAM::Role' },
    ]);
    expect(changesNeedingApproval([diff(deployed, next)], 'never')).toEqual([]);
  });

  it('shows the review in the diff text: the replacement and why, and the security lines', () => {
    const text = formatDiff(
      diff(deployed, {
        ...deployed,
        Copy: imageCopy({ [ImageCopyParameter.DestinationRegionId]: 'cn-beijing' }),
      }),
    );
    expect(text).toContain(
      '[-/+] ALIYUN::ROS::CustomResource Copy replaced: DestinationRegionId changes: a new copy is made, then the old ' +
        'one is deleted\n',
    );
    expect(text).toContain(
      '0 to add, 0 to modify in place, 1 to replace, 0 to remove; 0 security-relevant\n',
    );
  });
});
