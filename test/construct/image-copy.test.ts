import * as ros from '@alicloud/ros-cdk-core';
import * as ecs from '@alicloud/ros-cdk-ecs';
import { ImageCopy, type IImageCopy, ImageCopyProvider, type ImageCopyProps } from '../../lib';
import { UPDATE_BEHAVIOUR, type UpdateBehaviour } from '../../lib/handler/analyze-update';
import { ImageCopyData, ImageCopyParameter, type ImageCopyParameterKey } from '../../lib/protocol';
import { Match, newStack, Template } from './template';

const CUSTOM_RESOURCE = 'ALIYUN::ROS::CustomResource';
const SOURCE = { sourceImageId: 'm-bp1golden', sourceRegionId: 'cn-hangzhou' } as const;

function synth(props: ImageCopyProps, id = 'Golden', stack = newStack()): Template {
  new ImageCopy(stack, id, props);
  return Template.fromStack(stack);
}

describe('ImageCopy', () => {
  it('synthesizes a custom resource served by the provider function, copying into the stack region by default', () => {
    const template = synth(SOURCE);
    template.hasResource('Golden', {
      Type: CUSTOM_RESOURCE,
      Properties: Match.exact({
        ServiceToken: { 'Fn::GetAtt': [ImageCopyProvider.FUNCTION_LOGICAL_ID, 'ARN'] },
        Timeout: 1500,
        Parameters: {
          SourceImageId: 'm-bp1golden',
          SourceRegionId: 'cn-hangzhou',
          // No DestinationRegionId: the handler copies into the region of the request, the stack's.
        },
      }),
    });
    // The GetAtt orders it after the function (and the function after the role): no DependsOn to repeat that.
    expect(template.resource(CUSTOM_RESOURCE)[1].DependsOn).toBeUndefined();
  });

  it('passes every prop to the handler as the parameter lib/protocol.ts names', () => {
    const template = synth({
      ...SOURCE,
      destinationRegionId: 'cn-shanghai',
      imageName: 'golden-copy',
      description: 'The golden image, copied',
      encrypted: true,
      kmsKeyId: 'key-shanghai-1',
      tags: { env: 'prod', team: '' },
      resourceGroupId: 'rg-acfmgolden',
      force: true,
      existingImageId: 'm-uf6existing',
      timeouts: { create: 30, delete: 5 },
    });
    template.hasResourceProperties(CUSTOM_RESOURCE, {
      Parameters: Match.exact({
        [ImageCopyParameter.SourceImageId]: 'm-bp1golden',
        [ImageCopyParameter.SourceRegionId]: 'cn-hangzhou',
        [ImageCopyParameter.DestinationRegionId]: 'cn-shanghai',
        [ImageCopyParameter.ImageName]: 'golden-copy',
        [ImageCopyParameter.Description]: 'The golden image, copied',
        [ImageCopyParameter.Encrypted]: true,
        [ImageCopyParameter.KmsKeyId]: 'key-shanghai-1',
        [ImageCopyParameter.Tags]: { env: 'prod', team: '' },
        [ImageCopyParameter.ResourceGroupId]: 'rg-acfmgolden',
        [ImageCopyParameter.Force]: true,
        [ImageCopyParameter.ExistingImageId]: 'm-uf6existing',
        [ImageCopyParameter.CreateTimeoutSeconds]: 1800,
        [ImageCopyParameter.DeleteTimeoutSeconds]: 300,
      }),
    });
  });

  it('writes false flags explicitly and leaves unset props out', () => {
    const template = synth({ ...SOURCE, encrypted: false, force: false });
    template.hasResourceProperties(CUSTOM_RESOURCE, {
      Parameters: {
        Encrypted: false,
        Force: false,
        ImageName: Match.absent(),
        Description: Match.absent(),
        KmsKeyId: Match.absent(),
        Tags: Match.absent(),
        ResourceGroupId: Match.absent(),
        ExistingImageId: Match.absent(),
      },
    });
  });

  it("copies into the stack's env.region when the stack has one", () => {
    const stack = newStack('Beijing', { env: { region: 'cn-beijing' } });
    const copy = new ImageCopy(stack, 'Golden', SOURCE);
    expect(copy.destinationRegionId).toBe('cn-beijing');
    Template.fromStack(stack).hasResourceProperties(CUSTOM_RESOURCE, {
      Parameters: { DestinationRegionId: 'cn-beijing' },
    });
  });

  it('exposes the Data keys as attrXxx and the image id as ref', () => {
    const stack = newStack();
    const copy = new ImageCopy(stack, 'Golden', SOURCE);
    const outputs = {
      Ref: copy.ref,
      ImageId: copy.attrImageId,
      RegionId: copy.attrRegionId,
      SourceImageId: copy.attrSourceImageId,
      SourceRegionId: copy.attrSourceRegionId,
      ImageName: copy.attrImageName,
      SharedWithAccounts: copy.attrSharedWithAccounts,
      ImageFamily: copy.attrImageFamily,
      PreviousImageIds: copy.attrPreviousImageIds,
    };
    for (const [id, value] of Object.entries(outputs)) {
      new ros.RosOutput(stack, id, { value });
    }
    const template = Template.fromStack(stack);
    // The image id, as for an imported image: the custom resource's own Ref is its physical id, not an image.
    template.hasOutput('Ref', { Value: { 'Fn::GetAtt': ['Golden', 'ImageId'] } });
    for (const key of Object.values(ImageCopyData)) {
      template.hasOutput(key, { Value: { 'Fn::GetAtt': ['Golden', key] } });
    }
  });

  it('makes each attribute token once, when first read, and gives the same one after', () => {
    const copy = new ImageCopy(newStack(), 'Golden', SOURCE);
    expect(copy.attrImageId).toBe(copy.attrImageId);
    expect(copy.attrImageName).toBe(copy.attrImageName);
    expect(copy.attrImageId).not.toBe(copy.attrImageName);
  });

  it('gives access to its custom resource and provider, and the logical id is the construct id', () => {
    const stack = newStack();
    const copy = new ImageCopy(stack, 'Golden', SOURCE);
    expect(copy.customResource.logicalId).toBe('Golden');
    expect(copy.provider).toBe(ImageCopyProvider.getOrCreate(stack));
    expect(copy.props).toEqual(SOURCE);
  });

  it('lets other resources use the copied image: a launch template waits for the copy through Fn::GetAtt', () => {
    const stack = newStack();
    const copy = new ImageCopy(stack, 'Golden', SOURCE);
    new ecs.LaunchTemplate(stack, 'Web', { launchTemplateName: 'web', imageId: copy.attrImageId });
    Template.fromStack(stack).hasResourceProperties('ALIYUN::ECS::LaunchTemplate', {
      ImageId: { 'Fn::GetAtt': ['Golden', 'ImageId'] },
    });
  });

  it('honours a removal policy of RETAIN (ROS then never asks the handler to delete the copy)', () => {
    const stack = newStack();
    new ImageCopy(stack, 'Golden', SOURCE).applyRemovalPolicy(ros.RemovalPolicy.RETAIN);
    Template.fromStack(stack).hasResource('Golden', { DeletionPolicy: 'Retain' });
  });

  describe('timeouts', () => {
    it.each([
      // The handler's defaults (600 s) are left out of the template.
      ['the defaults, 10 minutes each', undefined, { Timeout: 1500, Create: undefined, Delete: undefined }],
      ['a longer create', { create: 30 }, { Timeout: 2700, Create: 1800, Delete: undefined }],
      ['a shorter delete', { delete: 1 }, { Timeout: 960, Create: undefined, Delete: 60 }],
      [
        'fractions of a minute, rounded up to whole seconds',
        { create: 0.51, delete: 0.01 },
        { Timeout: 332, Create: 31, Delete: 1 },
      ],
      [
        'the 12-hour cap of ROS',
        { create: 720, delete: 720 },
        { Timeout: 43200, Create: 42900, Delete: 42900 },
      ],
      [
        'a create of 12 hours and a short delete',
        { create: 720, delete: 1 },
        { Timeout: 43200, Create: 42900, Delete: 60 },
      ],
    ])('%s', (_name, timeouts, expected) => {
      const [, resource] = synth({ ...SOURCE, timeouts }).resource(CUSTOM_RESOURCE);
      const properties = resource.Properties as { Timeout: number; Parameters: Record<string, number> };
      expect(properties.Timeout).toBe(expected.Timeout);
      expect(properties.Parameters.CreateTimeoutSeconds).toBe(expected.Create);
      expect(properties.Parameters.DeleteTimeoutSeconds).toBe(expected.Delete);
    });

    it('lets ROS wait longer than the handler works on a replacing update (create + delete), within 43200 s', () => {
      for (const create of [1, 10, 60, 360, 720]) {
        for (const remove of [1, 10, 60, 360, 720]) {
          const [, resource] = synth({ ...SOURCE, timeouts: { create, delete: remove } }).resource(
            CUSTOM_RESOURCE,
          );
          const properties = resource.Properties as { Timeout: number; Parameters: Record<string, number> };
          const handlerWork =
            (properties.Parameters.CreateTimeoutSeconds ?? 600) +
            (properties.Parameters.DeleteTimeoutSeconds ?? 600);
          expect(properties.Timeout).toBeLessThanOrEqual(43200);
          expect(properties.Timeout).toBeGreaterThan(
            Math.max(create, remove) * 60 > 42900 ? 42900 : Math.max(create, remove) * 60,
          );
          if (handlerWork + 300 <= 43200) {
            expect(properties.Timeout).toBe(handlerWork + 300);
          }
        }
      }
    });
  });

  describe('unresolved tokens', () => {
    it('are passed through to the handler, which checks them at deploy time', () => {
      const stack = newStack();
      const parameter = (id: string, type = ros.RosParameterType.STRING) =>
        new ros.RosParameter(stack, id, { type });
      new ImageCopy(stack, 'Golden', {
        sourceImageId: parameter('SourceImage').valueAsString,
        sourceRegionId: parameter('SourceRegion').valueAsString,
        destinationRegionId: parameter('DestinationRegion').valueAsString,
        imageName: ros.Fn.join('-', ['golden', ros.RosPseudo.stackName]),
        description: parameter('Description').valueAsString,
        encrypted: parameter('Encrypted', ros.RosParameterType.BOOLEAN),
        kmsKeyId: 'key-1',
        tags: { env: parameter('Env').valueAsString },
        resourceGroupId: parameter('ResourceGroup').valueAsString,
        force: parameter('Force', ros.RosParameterType.BOOLEAN),
        existingImageId: parameter('Existing').valueAsString,
      });
      Template.fromStack(stack).hasResourceProperties(CUSTOM_RESOURCE, {
        Parameters: {
          SourceImageId: { Ref: 'SourceImage' },
          SourceRegionId: { Ref: 'SourceRegion' },
          DestinationRegionId: { Ref: 'DestinationRegion' },
          ImageName: { 'Fn::Join': ['-', ['golden', { Ref: 'ALIYUN::StackName' }]] },
          Description: { Ref: 'Description' },
          Encrypted: { Ref: 'Encrypted' },
          KmsKeyId: 'key-1',
          Tags: { env: { Ref: 'Env' } },
          ResourceGroupId: { Ref: 'ResourceGroup' },
          Force: { Ref: 'Force' },
          ExistingImageId: { Ref: 'Existing' },
        },
      });
    });

    it('are accepted as a whole tags map', () => {
      const stack = newStack();
      const map = new ros.RosParameter(stack, 'TagMap', { type: ros.RosParameterType.JSON });
      new ImageCopy(stack, 'Mapped', {
        ...SOURCE,
        tags: ros.Token.asAny(map.value) as unknown as { [k: string]: string },
      });
      Template.fromStack(stack).hasResource('Mapped', {
        Properties: { Parameters: { Tags: { Ref: 'TagMap' } } },
      });
    });

    it('are refused as tag keys, which a template map cannot have, with what to do instead', () => {
      const stack = newStack();
      const key = new ros.RosParameter(stack, 'TagKey', { type: ros.RosParameterType.STRING }).valueAsString;
      expect(() => new ImageCopy(stack, 'Keyed', { ...SOURCE, tags: { [key]: 'value' } })).toThrow(
        /tags key \$\{Token\[TOKEN\.\d+\]\} is invalid: a tag key must be known at synth time .* pass the whole tags map as a token/,
      );
    });

    it('still count towards the limit of 19 tags', () => {
      const stack = newStack();
      const tags: { [key: string]: string } = {};
      for (let i = 0; i < 20; i++) {
        tags[`key${i}`] = new ros.RosParameter(stack, `Value${i}`, {
          type: ros.RosParameterType.STRING,
        }).valueAsString;
      }
      expect(() => new ImageCopy(stack, 'Golden', { ...SOURCE, tags })).toThrow('tags (20 tags) is invalid');
    });

    it('do not hide the concrete mistakes next to them', () => {
      const stack = newStack();
      const region = new ros.RosParameter(stack, 'Region', { type: ros.RosParameterType.STRING })
        .valueAsString;
      expect(
        () => new ImageCopy(stack, 'Golden', { ...SOURCE, destinationRegionId: region, description: 'x' }),
      ).toThrow('description "x" is invalid: must be 2 to 256 characters long (it has 1)');
    });
  });

  describe('a change of each prop is applied as the handler says: replaced, or in place', () => {
    // What ImageCopyProps documents, checked against the handler's decision table for the parameter it becomes.
    const documented: [
      keyof ImageCopyProps,
      Partial<ImageCopyProps>,
      ImageCopyParameterKey,
      UpdateBehaviour,
    ][] = [
      ['sourceImageId', { sourceImageId: 'm-bp1other' }, 'SourceImageId', 'replace'],
      ['sourceRegionId', { sourceRegionId: 'cn-qingdao' }, 'SourceRegionId', 'replace'],
      ['destinationRegionId', { destinationRegionId: 'cn-beijing' }, 'DestinationRegionId', 'replace'],
      ['encrypted', { encrypted: true }, 'Encrypted', 'replace'],
      ['kmsKeyId', { encrypted: true, kmsKeyId: 'key-2' }, 'KmsKeyId', 'replace'],
      ['imageName', { imageName: 'renamed' }, 'ImageName', 'modify-attribute'],
      ['description', { description: 'described' }, 'Description', 'modify-attribute'],
      ['tags', { tags: { a: 'b' } }, 'Tags', 'retag'],
      ['resourceGroupId', { resourceGroupId: 'rg-other' }, 'ResourceGroupId', 'join-resource-group'],
      ['force', { force: true }, 'Force', 'no-call'],
      ['existingImageId', { existingImageId: 'm-bp1adopted' }, 'ExistingImageId', 'no-call'],
      ['timeouts', { timeouts: { create: 20 } }, 'CreateTimeoutSeconds', 'no-call'],
      ['timeouts', { timeouts: { delete: 20 } }, 'DeleteTimeoutSeconds', 'no-call'],
      [
        'sharedWithAccounts',
        // A customer key encrypts the base copy, so it may be shared.
        { sharedWithAccounts: ['1234567890123456'] },
        'SharedWithAccounts',
        'share',
      ],
      ['imageFamily', { imageFamily: 'golden' }, 'ImageFamily', 'modify-attribute'],
      ['copySourceTags', { copySourceTags: true }, 'CopySourceTags', 'retag'],
      ['keepPreviousVersions', { keepPreviousVersions: 1 }, 'KeepPreviousVersions', 'prune'],
    ];

    it.each(documented)('%s → %s', (_prop, change, parameter, behaviour) => {
      const base = { ...SOURCE, encrypted: true, kmsKeyId: 'key-1' };
      const before = synth(base).resource(CUSTOM_RESOURCE)[1].Properties!.Parameters as Record<
        string,
        unknown
      >;
      const after = synth({ ...base, ...change }).resource(CUSTOM_RESOURCE)[1].Properties!
        .Parameters as Record<string, unknown>;
      const changed = Object.keys({ ...before, ...after }).filter(
        (key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]),
      );
      if (parameter === 'Encrypted') {
        // encrypted is already true in the base; compare against an unencrypted copy instead.
        const plain = synth(SOURCE).resource(CUSTOM_RESOURCE)[1].Properties!.Parameters as Record<
          string,
          unknown
        >;
        expect(plain[parameter]).toBeUndefined();
      } else if (parameter !== 'KmsKeyId' || change.kmsKeyId !== base.kmsKeyId) {
        expect(changed).toEqual([parameter]);
      }
      expect(UPDATE_BEHAVIOUR[parameter]).toBe(behaviour);
    });

    it('covers every parameter the construct can write', () => {
      // ReplicaRegionIds is written by ImageReplication on its copies (image-replication.test.ts); no call either.
      expect(UPDATE_BEHAVIOUR.ReplicaRegionIds).toBe('no-call');
      expect(new Set([...documented.map(([, , parameter]) => parameter), 'ReplicaRegionIds'])).toEqual(
        new Set(Object.values(ImageCopyParameter)),
      );
    });
  });
});

describe('ImageCopy.fromImageId', () => {
  it('references an image without adding anything to the template', () => {
    const stack = newStack('Referencing', { env: { region: 'cn-shenzhen' } });
    const image: IImageCopy = ImageCopy.fromImageId(stack, 'Existing', 'm-wz9existing');
    expect(image.attrImageId).toBe('m-wz9existing');
    expect(image.attrRegionId).toBe('cn-shenzhen');
    expect(image.stack).toBe(stack);
    new ecs.LaunchTemplate(stack, 'Web', { launchTemplateName: 'web', imageId: image.attrImageId });
    new ros.RosOutput(stack, 'Ref', { value: (image as ImageCopy).ref });
    const template = Template.fromStack(stack);
    expect(Object.keys(template.resources)).toEqual(['Web']);
    template.hasResourceProperties('ALIYUN::ECS::LaunchTemplate', { ImageId: 'm-wz9existing' });
    template.hasOutput('Ref', { Value: 'm-wz9existing' });
  });

  it("takes the stack's region token when the stack has no env.region", () => {
    const stack = newStack();
    const image = ImageCopy.fromImageId(stack, 'Existing', 'm-bp1existing');
    new ros.RosOutput(stack, 'Region', { value: image.attrRegionId });
    Template.fromStack(stack).hasOutput('Region', { Value: { Ref: 'ALIYUN::Region' } });
  });

  it('accepts a token', () => {
    const stack = newStack();
    const id = new ros.RosParameter(stack, 'ImageId', { type: ros.RosParameterType.STRING }).valueAsString;
    const image = ImageCopy.fromImageId(stack, 'Existing', id);
    new ros.RosOutput(stack, 'Id', { value: image.attrImageId });
    Template.fromStack(stack).hasOutput('Id', { Value: { Ref: 'ImageId' } });
  });

  it('rejects something that is not an image id, naming the value and the rule', () => {
    expect(() => ImageCopy.fromImageId(newStack(), 'Existing', 'ubuntu_22_04')).toThrow(
      'ImageCopy.fromImageId(Existing): imageId "ubuntu_22_04" is invalid: must be an ECS image id like ' +
        '"m-bp1example": "m-" followed by lowercase letters and digits, at most 64 characters',
    );
  });
});
