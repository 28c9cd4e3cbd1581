import * as ros from '@alicloud/ros-cdk-core';
import { ImageCopy, type ImageCopyProps, ImageCopyValidationError } from '../../lib';
import { newStack, Template } from './template';

/**
 * Synth-time validation: every bad prop fails while the construct is built — before any template is written —
 * with a message that names the property, the value and the rule (`<property> <value> is invalid: <rule>`).
 */

const SOURCE = { sourceImageId: 'm-bp1golden', sourceRegionId: 'cn-hangzhou' } as const;

const IMAGE_ID_RULE =
  'must be an ECS image id like "m-bp1example": "m-" followed by lowercase letters and digits, at most 64 characters';
const REGION_RULE =
  'must be a region id like "cn-hangzhou": lowercase letters and digits in two or more parts joined by "-", ' +
  'at most 64 characters';
const long = (length: number) => 'x'.repeat(length);
const truncated = (length: number) => `"${'x'.repeat(63)}…" (${length} characters)`;
const tags = (count: number) =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`key${i}`, `v${i}`]));

/** The messages building an ImageCopy with these props fails with, or [] when it builds. */
function messagesFor(props: Partial<ImageCopyProps> | Record<string, unknown>): string[] {
  try {
    new ImageCopy(newStack(), 'Golden', { ...SOURCE, ...props } as ImageCopyProps);
    return [];
  } catch (error) {
    if (!(error instanceof ImageCopyValidationError)) {
      throw error;
    }
    return error.messages;
  }
}

describe('ImageCopy validation of values of the wrong type (JavaScript callers, casts)', () => {
  it.each([
    ['a string', 'team=web', '"team=web"'],
    ['an array', ['team', 'web'], '["team","web"]'],
  ])('refuses tags that are %s instead of a map', (_name, tags, shown) => {
    expect(messagesFor({ tags })).toEqual([
      `tags ${shown} is invalid: must be an object mapping tag keys to string values`,
    ]);
  });

  it('names the tag whose value is nested too deep to print, instead of overflowing the stack', () => {
    let deep: unknown = [];
    for (let i = 0; i < 20_000; i++) {
      deep = [deep];
    }
    expect(messagesFor({ tags: { deep } })).toEqual([expect.stringContaining('tags["deep"]')]);
  });
});

describe('ImageCopy validation', () => {
  const bad: [string, Record<string, unknown>, string][] = [
    ['sourceImageId missing', { sourceImageId: undefined }, 'sourceImageId is required'],
    [
      'sourceImageId not an image id',
      { sourceImageId: 'bp1golden' },
      `sourceImageId "bp1golden" is invalid: ${IMAGE_ID_RULE}`,
    ],
    [
      'sourceImageId with capitals',
      { sourceImageId: 'm-BP1' },
      `sourceImageId "m-BP1" is invalid: ${IMAGE_ID_RULE}`,
    ],
    ['sourceRegionId missing', { sourceRegionId: undefined }, 'sourceRegionId is required'],
    [
      'sourceRegionId not a region',
      { sourceRegionId: 'Hangzhou' },
      `sourceRegionId "Hangzhou" is invalid: ${REGION_RULE}`,
    ],
    [
      'destinationRegionId with "_"',
      { destinationRegionId: 'cn_shanghai' },
      `destinationRegionId "cn_shanghai" is invalid: ${REGION_RULE}`,
    ],
    [
      'imageName too short',
      { imageName: 'g' },
      'imageName "g" is invalid: must be 2 to 128 characters long (it has 1)',
    ],
    [
      'imageName too long',
      { imageName: long(129) },
      `imageName ${truncated(129)} is invalid: must be 2 to 128 characters long (it has 129)`,
    ],
    [
      'imageName starting with a digit',
      { imageName: '1golden' },
      'imageName "1golden" is invalid: must start with a letter or a Chinese character',
    ],
    [
      'imageName starting with "aliyun"',
      { imageName: 'aliyun-golden' },
      'imageName "aliyun-golden" is invalid: must not start with "aliyun" or "acs:"',
    ],
    [
      'imageName starting with "acs:"',
      { imageName: 'ACS:golden' },
      'imageName "ACS:golden" is invalid: must not start with "aliyun" or "acs:"',
    ],
    [
      'imageName with a URL',
      { imageName: 'golden-http://x' },
      'imageName "golden-http://x" is invalid: must not contain "http://" or "https://"',
    ],
    [
      'imageName with a space',
      { imageName: 'golden image' },
      'imageName "golden image" is invalid: may contain only letters, digits, Chinese characters, ".", ":", "_" and "-" (found " ")',
    ],
    [
      'description too short',
      { description: 'x' },
      'description "x" is invalid: must be 2 to 256 characters long (it has 1)',
    ],
    [
      'description too long',
      { description: long(257) },
      `description ${truncated(257)} is invalid: must be 2 to 256 characters long (it has 257)`,
    ],
    [
      'description starting with a URL',
      { description: 'https://example.com/golden' },
      'description "https://example.com/golden" is invalid: must not start with "http://" or "https://"',
    ],
    ['encrypted not a boolean', { encrypted: 'yes' }, 'encrypted "yes" is invalid: must be true or false'],
    ['kmsKeyId without encrypted', { kmsKeyId: 'key-1' }, 'kmsKeyId "key-1" requires encrypted: true'],
    [
      'kmsKeyId with encrypted false',
      { encrypted: false, kmsKeyId: 'key-1' },
      'kmsKeyId "key-1" requires encrypted: true',
    ],
    [
      'kmsKeyId empty',
      { encrypted: true, kmsKeyId: ' ' },
      'kmsKeyId " " is invalid: must be a non-empty string',
    ],
    [
      '20 tags',
      { tags: tags(20) },
      'tags (20 tags) is invalid: at most 19 tags are allowed (ECS allows 20 per image and ros-cdk-image-copy reserves "ros-cdk-image-copy:owner")',
    ],
    [
      'the reserved tag key',
      { tags: { 'ros-cdk-image-copy:owner': 'me' } },
      'tags key "ros-cdk-image-copy:owner" is invalid: it is reserved by ros-cdk-image-copy',
    ],
    [
      'a tag key starting with "acs:"',
      { tags: { 'acs:env': 'prod' } },
      'tags key "acs:env" is invalid: must not start with "aliyun" or "acs:"',
    ],
    [
      'a tag key starting with "Aliyun"',
      { tags: { AliyunEnv: 'prod' } },
      'tags key "AliyunEnv" is invalid: must not start with "aliyun" or "acs:"',
    ],
    ['an empty tag key', { tags: { '': 'prod' } }, 'tags key "" is invalid: must not be empty'],
    [
      'a tag key with a URL',
      { tags: { 'see-http://x': 'prod' } },
      'tags key "see-http://x" is invalid: must not contain "http://" or "https://"',
    ],
    [
      'a tag key too long',
      { tags: { [long(129)]: 'prod' } },
      `tags key ${truncated(129)} is invalid: must be at most 128 characters long (it has 129)`,
    ],
    [
      'a tag value starting with "acs:"',
      { tags: { env: 'acs:prod' } },
      'tags["env"] "acs:prod" is invalid: must not start with "acs:"',
    ],
    [
      'a tag value with a URL',
      { tags: { env: 'see https://x' } },
      'tags["env"] "see https://x" is invalid: must not contain "http://" or "https://"',
    ],
    [
      'a tag value too long',
      { tags: { env: long(129) } },
      `tags["env"] ${truncated(129)} is invalid: must be at most 128 characters long (it has 129)`,
    ],
    ['a tag value not a string', { tags: { env: 1 } }, 'tags["env"] 1 is invalid: must be a string'],
    [
      'resourceGroupId not a group id',
      { resourceGroupId: 'group-1' },
      'resourceGroupId "group-1" is invalid: must be a resource group id like "rg-acfmexample": "rg-" followed by lowercase letters and digits, at most 64 characters',
    ],
    ['force not a boolean', { force: 1 }, 'force 1 is invalid: must be true or false'],
    [
      'existingImageId not an image id',
      { existingImageId: 'golden' },
      `existingImageId "golden" is invalid: ${IMAGE_ID_RULE}`,
    ],
    [
      'timeouts.create of 0',
      { timeouts: { create: 0 } },
      'timeouts.create 0 is invalid: must be a number of minutes more than 0 and at most 720',
    ],
    [
      'timeouts.create over 12 hours',
      { timeouts: { create: 721 } },
      'timeouts.create 721 is invalid: must be a number of minutes more than 0 and at most 720',
    ],
    [
      'timeouts.delete negative',
      { timeouts: { delete: -5 } },
      'timeouts.delete -5 is invalid: must be a number of minutes more than 0 and at most 720',
    ],
    [
      'timeouts.delete not a number',
      { timeouts: { delete: 'ten' } },
      'timeouts.delete "ten" is invalid: must be a number of minutes more than 0 and at most 720',
    ],
  ];

  it.each(bad)('rejects %s', (_name, props, message) => {
    expect(messagesFor(props)).toEqual([message]);
  });

  it('fails before anything is synthesized, naming the construct path and the broken rule', () => {
    const stack = newStack('Golden');
    const scope = new ros.Construct(stack, 'Images');
    expect(() => new ImageCopy(scope, 'Copy', { ...SOURCE, imageName: '1golden' })).toThrow(
      'ImageCopy Golden/Images/Copy: imageName "1golden" is invalid: must start with a letter or a Chinese character',
    );
  });

  it('leaves nothing in the construct tree when it fails', () => {
    const stack = newStack();
    expect(() => new ImageCopy(stack, 'Golden', { ...SOURCE, imageName: '1golden' })).toThrow(
      ImageCopyValidationError,
    );
    expect(stack.node.tryFindChild('Golden')).toBeUndefined();
    expect(stack.node.tryFindChild('ImageCopyProvider')).toBeUndefined();
    new ImageCopy(stack, 'Golden', SOURCE);
    Template.fromStack(stack).resourceCountIs('ALIYUN::ROS::CustomResource', 1);
  });

  it('lists every broken rule at once', () => {
    let error: unknown;
    try {
      new ImageCopy(newStack(), 'Golden', {
        sourceImageId: 'golden',
        sourceRegionId: 'cn-hangzhou',
        imageName: 'aliyun',
        kmsKeyId: 'key-1',
        timeouts: { create: 1000 },
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ImageCopyValidationError);
    const { messages, message, name } = error as ImageCopyValidationError;
    expect(name).toBe('ImageCopyValidationError');
    expect(messages).toEqual([
      `sourceImageId "golden" is invalid: ${IMAGE_ID_RULE}`,
      'imageName "aliyun" is invalid: must not start with "aliyun" or "acs:"',
      'kmsKeyId "key-1" requires encrypted: true',
      'timeouts.create 1000 is invalid: must be a number of minutes more than 0 and at most 720',
    ]);
    expect(message).toBe(`ImageCopy TestStack/Golden: \n  - ${messages.join('\n  - ')}`);
  });

  it('refuses timeouts that are tokens: they set the Timeout of the custom resource at synth time', () => {
    const stack = newStack();
    const minutes = new ros.RosParameter(stack, 'Minutes', { type: ros.RosParameterType.NUMBER })
      .valueAsNumber;
    expect(() => new ImageCopy(stack, 'Golden', { ...SOURCE, timeouts: { create: minutes } })).toThrow(
      "timeouts.create must be a number known at synth time (1 to 720 minutes): it sets the custom resource's Timeout",
    );
  });

  const good: [string, Partial<ImageCopyProps>][] = [
    ['a Chinese image name', { imageName: '黄金镜像' }],
    ['an image name with every allowed sign', { imageName: 'Golden.v1:2_3-4' }],
    ['an image name of 128 characters', { imageName: `g${long(127)}` }],
    ['a description of 256 characters', { description: long(256) }],
    ['a description mentioning a URL after its start', { description: 'see https://example.com' }],
    ['19 tags', { tags: tags(19) }],
    ['an empty tag value', { tags: { env: '' } }],
    ['a KMS key with encryption', { encrypted: true, kmsKeyId: 'key-1' }],
    ['a copy into the same region (to encrypt it)', { destinationRegionId: 'cn-hangzhou', encrypted: true }],
    ['a finance-cloud region', { destinationRegionId: 'cn-shanghai-finance-1' }],
    ['timeouts of 720 minutes', { timeouts: { create: 720, delete: 720 } }],
    ['timeouts in fractions of a minute', { timeouts: { create: 0.5 } }],
  ];

  it.each(good)('accepts %s', (_name, props) => {
    expect(messagesFor(props)).toEqual([]);
    const stack = newStack();
    new ImageCopy(stack, 'Golden', { ...SOURCE, ...props });
    Template.fromStack(stack).resourceCountIs('ALIYUN::ROS::CustomResource', 1);
  });
});
