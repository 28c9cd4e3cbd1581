import * as ros from '@alicloud/ros-cdk-core';
import { ImageCopy, ImageCopyValidationError, ImageReplication, type ImageReplicationProps } from '../../lib';
import { Match, newStack, Template } from './template';

const CUSTOM_RESOURCE = 'ALIYUN::ROS::CustomResource';
const SOURCE = { sourceImageId: 'm-bp1golden', sourceRegionId: 'cn-hangzhou' } as const;

function replicate(props: Partial<ImageReplicationProps>, stack = newStack()): ImageReplication {
  return new ImageReplication(stack, 'Everywhere', {
    ...SOURCE,
    destinationRegionIds: ['cn-shanghai', 'cn-beijing', 'ap-southeast-1'],
    ...props,
  });
}

function messagesFor(props: Partial<ImageReplicationProps> | Record<string, unknown>): string[] {
  try {
    replicate(props as Partial<ImageReplicationProps>);
    return [];
  } catch (error) {
    if (!(error instanceof ImageCopyValidationError)) {
      throw error;
    }
    return error.messages;
  }
}

describe('ImageReplication', () => {
  it('makes one copy per destination region, named after the region, all served by the one provider', () => {
    const stack = newStack();
    const replication = replicate({}, stack);
    const template = Template.fromStack(stack);
    template.resourceCountIs(CUSTOM_RESOURCE, 3);
    template.resourceCountIs('ALIYUN::FC3::Function', 1);
    expect(Object.keys(template.findResources(CUSTOM_RESOURCE))).toEqual([
      'EverywhereCnShanghai',
      'EverywhereCnBeijing',
      'EverywhereApSoutheast1',
    ]);
    for (const regionId of ['cn-shanghai', 'cn-beijing', 'ap-southeast-1']) {
      template.hasResourceProperties(CUSTOM_RESOURCE, {
        Parameters: {
          ...{ SourceImageId: 'm-bp1golden', SourceRegionId: 'cn-hangzhou' },
          DestinationRegionId: regionId,
        },
      });
    }
    expect(replication.copies).toHaveLength(3);
    expect(replication.copies.every((copy) => copy instanceof ImageCopy)).toBe(true);
    expect(new Set(replication.copies.map((copy) => copy.provider)).size).toBe(1);
    expect(replication.destinationRegionIds).toEqual(['cn-shanghai', 'cn-beijing', 'ap-southeast-1']);
  });

  it('copies in parallel: no copy depends on another', () => {
    const stack = newStack();
    replicate({}, stack);
    const template = Template.fromStack(stack);
    for (const resource of Object.values(template.findResources(CUSTOM_RESOURCE))) {
      expect(resource.DependsOn).toBeUndefined();
      expect(JSON.stringify(resource.Properties)).not.toContain('Everywhere'); // no reference to a sibling copy
    }
  });

  it('tells each copy the other regions, so that a copy may be made from a finished one (ReplicaRegionIds)', () => {
    const stack = newStack();
    replicate({}, stack);
    const template = Template.fromStack(stack);
    template.hasResource('EverywhereCnShanghai', {
      Properties: { Parameters: { ReplicaRegionIds: ['cn-beijing', 'ap-southeast-1'] } },
    });
    template.hasResource('EverywhereApSoutheast1', {
      Properties: { Parameters: { ReplicaRegionIds: ['cn-shanghai', 'cn-beijing'] } },
    });
    const single = newStack('Single');
    replicate({ destinationRegionIds: ['cn-beijing'] }, single);
    Template.fromStack(single).hasResource('EverywhereCnBeijing', {
      Properties: { Parameters: { ReplicaRegionIds: Match.absent() } },
    });
  });

  it('gives every copy the shared props, and each region its own KMS key', () => {
    const stack = newStack();
    replicate(
      {
        imageName: 'golden',
        description: 'The golden image',
        encrypted: true,
        kmsKeyIds: { 'cn-beijing': 'key-beijing' },
        tags: { release: '2026.11' },
        resourceGroupId: 'rg-acfmgolden',
        force: true,
        timeouts: { create: 60, delete: 20 },
      },
      stack,
    );
    const template = Template.fromStack(stack);
    const shared = {
      ImageName: 'golden',
      Description: 'The golden image',
      Encrypted: true,
      Tags: { release: '2026.11' },
      ResourceGroupId: 'rg-acfmgolden',
      Force: true,
      CreateTimeoutSeconds: 3600,
      DeleteTimeoutSeconds: 1200,
    };
    template.hasResource('EverywhereCnBeijing', {
      Properties: { Timeout: 5100, Parameters: { ...shared, KmsKeyId: 'key-beijing' } },
    });
    for (const id of ['EverywhereCnShanghai', 'EverywhereApSoutheast1']) {
      template.hasResource(id, { Properties: { Parameters: { ...shared, KmsKeyId: Match.absent() } } });
    }
  });

  it("returns each region's copy and image id", () => {
    const stack = newStack();
    const replication = replicate({}, stack);
    expect(replication.copyIn('cn-beijing').node.id).toBe('EverywhereCnBeijing');
    new ros.RosOutput(stack, 'Beijing', { value: replication.imageIdIn('cn-beijing') });
    Template.fromStack(stack).hasOutput('Beijing', {
      Value: { 'Fn::GetAtt': ['EverywhereCnBeijing', 'ImageId'] },
    });
  });

  it('says which regions it has when asked for another', () => {
    expect(() => replicate({}).imageIdIn('eu-central-1')).toThrow(
      'ImageReplication TestStack/Everywhere has no copy in "eu-central-1"; its destination regions are ' +
        '"cn-shanghai", "cn-beijing", "ap-southeast-1".',
    );
  });

  it('accepts tokens for the source and the shared props', () => {
    const stack = newStack();
    const image = new ros.RosParameter(stack, 'Image', { type: ros.RosParameterType.STRING }).valueAsString;
    replicate(
      { sourceImageId: image, imageName: ros.Fn.join('-', ['golden', ros.RosPseudo.stackName]) },
      stack,
    );
    Template.fromStack(stack).hasResource('EverywhereCnShanghai', {
      Properties: { Parameters: { SourceImageId: { Ref: 'Image' } } },
    });
  });

  describe('validation', () => {
    const rule =
      'must be a region id like "cn-hangzhou": lowercase letters and digits in two or more parts joined by "-", ' +
      'at most 64 characters';
    it.each([
      [
        'no regions',
        { destinationRegionIds: [] },
        ['destinationRegionIds [] is invalid: must name at least one region'],
      ],
      ['regions missing', { destinationRegionIds: undefined }, ['destinationRegionIds is required']],
      [
        'a region twice',
        { destinationRegionIds: ['cn-beijing', 'cn-shanghai', 'cn-beijing'] },
        ['destinationRegionIds[2] "cn-beijing" is invalid: repeats a region: each region gets one copy'],
      ],
      [
        'a bad region id',
        { destinationRegionIds: ['cn-beijing', 'Shanghai'] },
        [`destinationRegionIds[1] "Shanghai" is invalid: ${rule}`],
      ],
      [
        'a KMS key for a region not in the list',
        { encrypted: true, destinationRegionIds: ['cn-beijing'], kmsKeyIds: { 'cn-shanghai': 'key-1' } },
        [
          'kmsKeyIds key "cn-shanghai" is invalid: must be one of the destinationRegionIds (it picks that region\'s key)',
        ],
      ],
    ])('rejects %s', (_name, props, messages) => {
      expect(messagesFor(props)).toEqual(messages);
    });

    it('allows 18 tags on the copies of a replication to several regions (the source tag takes one), 19 to one', () => {
      const tags = (count: number) =>
        Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, 'v']));
      expect(messagesFor({ tags: tags(18) })).toEqual([]);
      expect(messagesFor({ tags: tags(19) })).toEqual([
        'tags (19 tags) is invalid: at most 18 tags are allowed on the copies of an ImageReplication to more than ' +
          'one region (ECS allows 20 per image; ros-cdk-image-copy reserves its ownership tag and ' +
          '"ros-cdk-image-copy:source")',
      ]);
      expect(messagesFor({ tags: tags(19), destinationRegionIds: ['cn-beijing'] })).toEqual([]);
    });

    it('refuses the reserved source tag key', () => {
      expect(() => replicate({ tags: { 'ros-cdk-image-copy:source': 'x' } })).toThrow(
        'tags key "ros-cdk-image-copy:source" is invalid: it is reserved by ros-cdk-image-copy',
      );
    });

    it('rejects a region list that is a token or has a token in it: regions name the copies', () => {
      const stack = newStack();
      const list = new ros.RosParameter(stack, 'Regions', {
        type: ros.RosParameterType.COMMA_DELIMITED_LIST,
      });
      expect(() => replicate({ destinationRegionIds: list.valueAsList }, stack)).toThrow(
        /destinationRegionIds .* is invalid: must be a list of region ids known at synth time/,
      );
      // The rejected replication left nothing behind: the same id can be used again in the same stack.
      const one = new ros.RosParameter(stack, 'Region', { type: ros.RosParameterType.STRING }).valueAsString;
      expect(() => replicate({ destinationRegionIds: ['cn-beijing', one] }, stack)).toThrow(
        "destinationRegionIds[1] is invalid: must be a region id known at synth time (it names the copy's logical id)",
      );
    });

    it("leaves the shared props to each copy's own validation", () => {
      expect(() => replicate({ imageName: '1golden' })).toThrow(
        'ImageCopy TestStack/Everywhere/EverywhereCnShanghai: imageName "1golden" is invalid: must start with a ' +
          'letter or a Chinese character',
      );
      expect(() => replicate({ kmsKeyIds: { 'cn-beijing': 'key-1' } })).toThrow(
        'kmsKeyId "key-1" requires encrypted: true',
      );
    });
  });
});
