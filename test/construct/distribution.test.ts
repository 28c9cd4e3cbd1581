/**
 * Distribution props (issue 14) at synth time: sharedWithAccounts, imageFamily, copySourceTags and
 * keepPreviousVersions reach the template as their parameters, their attributes read the handler's Data, and every
 * broken rule fails synth naming the property, the value and the rule.
 */
import * as ros from '@alicloud/ros-cdk-core';
import { ImageCopy, type ImageCopyProps, ImageCopyValidationError, ImageReplication } from '../../lib';
import { newStack, Template } from './template';

const CUSTOM_RESOURCE = 'ALIYUN::ROS::CustomResource';
const SOURCE = { sourceImageId: 'm-bp1golden', sourceRegionId: 'cn-hangzhou' } as const;
const ACCOUNT = '1234567890123456';
const SERVICE_KEY_RULE =
  'sharedWithAccounts requires kmsKeyId when encrypted is true: ECS cannot share an image encrypted with its ' +
  'service key, a customer KMS key is required (set kmsKeyId, or leave the copy unencrypted)';
const NAME_RULE_START = 'must start with a letter or a Chinese character';

/** The messages building an ImageCopy with these props fails with, or [] when it builds. */
function messagesFor(props: Partial<ImageCopyProps> | Record<string, unknown>, stack = newStack()): string[] {
  try {
    new ImageCopy(stack, 'Golden', { ...SOURCE, ...props } as ImageCopyProps);
    return [];
  } catch (error) {
    if (!(error instanceof ImageCopyValidationError)) {
      throw error;
    }
    return error.messages;
  }
}

function parametersOf(props: Partial<ImageCopyProps>): Record<string, unknown> {
  const stack = newStack();
  new ImageCopy(stack, 'Golden', { ...SOURCE, ...props });
  return Template.fromStack(stack).resource(CUSTOM_RESOURCE)[1].Properties!.Parameters as Record<
    string,
    unknown
  >;
}

const accounts = (count: number) => Array.from({ length: count }, (_, i) => `${1000000000000000 + i}`);

describe('ImageCopy distribution props in the template', () => {
  it('writes sharedWithAccounts as the SharedWithAccounts list, in the order given', () => {
    expect(parametersOf({ sharedWithAccounts: [ACCOUNT, '2234567890123456'] }).SharedWithAccounts).toEqual([
      ACCOUNT,
      '2234567890123456',
    ]);
  });

  it('writes imageFamily, copySourceTags and keepPreviousVersions as their parameters', () => {
    expect(
      parametersOf({ imageFamily: 'golden-web', copySourceTags: true, keepPreviousVersions: 2 }),
    ).toMatchObject({ ImageFamily: 'golden-web', CopySourceTags: true, KeepPreviousVersions: 2 });
  });

  it('writes none of them when they are not set', () => {
    const parameters = parametersOf({});
    for (const key of ['SharedWithAccounts', 'ImageFamily', 'CopySourceTags', 'KeepPreviousVersions']) {
      expect(parameters).not.toHaveProperty(key);
    }
  });

  it('shares an encrypted copy when a customer KMS key encrypts it', () => {
    expect(
      parametersOf({ encrypted: true, kmsKeyId: 'key-1', sharedWithAccounts: [ACCOUNT] }).SharedWithAccounts,
    ).toEqual([ACCOUNT]);
  });

  it('passes a token list of accounts through for the handler to check', () => {
    const stack = newStack();
    const list = new ros.RosParameter(stack, 'Accounts', { type: ros.RosParameterType.COMMA_DELIMITED_LIST })
      .valueAsList;
    new ImageCopy(stack, 'Golden', { ...SOURCE, sharedWithAccounts: list });
    Template.fromStack(stack).hasResourceProperties(CUSTOM_RESOURCE, {
      Parameters: { SharedWithAccounts: { Ref: 'Accounts' } },
    });
  });

  it('exposes the new Data keys as attrSharedWithAccounts, attrImageFamily and attrPreviousImageIds', () => {
    const stack = newStack();
    const copy = new ImageCopy(stack, 'Golden', SOURCE);
    new ros.RosOutput(stack, 'Shared', { value: copy.attrSharedWithAccounts });
    new ros.RosOutput(stack, 'Family', { value: copy.attrImageFamily });
    new ros.RosOutput(stack, 'Previous', { value: copy.attrPreviousImageIds });
    const template = Template.fromStack(stack);
    template.hasOutput('Shared', { Value: { 'Fn::GetAtt': ['Golden', 'SharedWithAccounts'] } });
    template.hasOutput('Family', { Value: { 'Fn::GetAtt': ['Golden', 'ImageFamily'] } });
    template.hasOutput('Previous', { Value: { 'Fn::GetAtt': ['Golden', 'PreviousImageIds'] } });
  });
});

describe('ImageCopy distribution validation', () => {
  it.each([
    [
      'an account id with letters',
      { sharedWithAccounts: ['12345abc'] },
      'sharedWithAccounts[0] "12345abc" is invalid: must be an Alibaba Cloud account id like "1234567890123456": ' +
        'digits only, at most 64',
    ],
    [
      'an empty account id',
      { sharedWithAccounts: [ACCOUNT, ''] },
      'sharedWithAccounts[1] "" is invalid: must be an Alibaba Cloud account id like "1234567890123456": ' +
        'digits only, at most 64',
    ],
    [
      'an account twice',
      { sharedWithAccounts: [ACCOUNT, ACCOUNT] },
      `sharedWithAccounts[1] "${ACCOUNT}" is invalid: repeats an account: each account is shared with once`,
    ],
    [
      'more accounts than ECS shares an image with',
      { sharedWithAccounts: accounts(51) },
      'sharedWithAccounts (51 accounts) is invalid: ECS shares an image with at most 50 accounts',
    ],
    [
      'accounts that are not a list',
      { sharedWithAccounts: { account: ACCOUNT } },
      `sharedWithAccounts {"account":"${ACCOUNT}"} is invalid: must be a list of Alibaba Cloud account ids (strings of digits)`,
    ],
    [
      'an encrypted copy without a customer key, shared',
      { encrypted: true, sharedWithAccounts: [ACCOUNT] },
      SERVICE_KEY_RULE,
    ],
    [
      'a family of one character',
      { imageFamily: 'g' },
      'imageFamily "g" is invalid: must be 2 to 128 characters long (it has 1)',
    ],
    [
      'a family starting with a digit',
      { imageFamily: '1golden' },
      `imageFamily "1golden" is invalid: ${NAME_RULE_START}`,
    ],
    [
      'a family starting with aliyun',
      { imageFamily: 'aliyun-golden' },
      'imageFamily "aliyun-golden" is invalid: must not start with "aliyun" or "acs:"',
    ],
    [
      'a family starting with acs:',
      { imageFamily: 'acs:golden' },
      'imageFamily "acs:golden" is invalid: must not start with "aliyun" or "acs:"',
    ],
    [
      'a family with a URL',
      { imageFamily: 'golden-http://x' },
      'imageFamily "golden-http://x" is invalid: must not contain "http://" or "https://"',
    ],
    [
      'a family with a space',
      { imageFamily: 'golden web' },
      'imageFamily "golden web" is invalid: may contain only letters, digits, Chinese characters, ".", ":", "_" and "-" (found " ")',
    ],
    [
      'a family of 129 characters',
      { imageFamily: `g${'x'.repeat(128)}` },
      'is invalid: must be 2 to 128 characters long (it has 129)',
    ],
    [
      'copySourceTags not a boolean',
      { copySourceTags: 'yes' },
      'copySourceTags "yes" is invalid: must be true or false',
    ],
    [
      'a negative keepPreviousVersions',
      { keepPreviousVersions: -1 },
      "keepPreviousVersions -1 is invalid: must be a whole number from 0 to 10 (each kept version is an image in the region's quota)",
    ],
    [
      'a fractional keepPreviousVersions',
      { keepPreviousVersions: 1.5 },
      'keepPreviousVersions 1.5 is invalid: must be a whole number from 0 to 10',
    ],
    [
      'more than 10 previous versions',
      { keepPreviousVersions: 11 },
      'keepPreviousVersions 11 is invalid: must be a whole number from 0 to 10',
    ],
  ])('refuses %s', (_name, props, message) => {
    const messages = messagesFor(props);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(message);
  });

  it('accepts 50 accounts, a family of 128 characters, a Chinese family and 10 previous versions', () => {
    expect(messagesFor({ sharedWithAccounts: accounts(50) })).toEqual([]);
    expect(messagesFor({ imageFamily: `g${'x'.repeat(127)}` })).toEqual([]);
    expect(messagesFor({ imageFamily: '黄金镜像.v1:web_2-x' })).toEqual([]);
    expect(messagesFor({ keepPreviousVersions: 10, copySourceTags: false })).toEqual([]);
  });

  it('fails synth before anything is built, naming the construct path and the service-key rule', () => {
    const stack = newStack();
    expect(
      () => new ImageCopy(stack, 'Golden', { ...SOURCE, encrypted: true, sharedWithAccounts: [ACCOUNT] }),
    ).toThrow(`ImageCopy TestStack/Golden: ${SERVICE_KEY_RULE}`);
  });

  it('leaves the service-key rule to the handler when encryption or the key is a token', () => {
    const stack = newStack();
    const encrypted = new ros.RosParameter(stack, 'Encrypted', { type: ros.RosParameterType.BOOLEAN });
    expect(messagesFor({ encrypted, sharedWithAccounts: [ACCOUNT] }, stack)).toEqual([]);
    const other = newStack();
    const key = new ros.RosParameter(other, 'Key', { type: ros.RosParameterType.STRING }).valueAsString;
    expect(messagesFor({ encrypted: true, kmsKeyId: key, sharedWithAccounts: [ACCOUNT] }, other)).toEqual([]);
  });

  it('counts token accounts without judging their values', () => {
    const stack = newStack();
    const account = new ros.RosParameter(stack, 'Account', { type: ros.RosParameterType.STRING })
      .valueAsString;
    expect(messagesFor({ sharedWithAccounts: [ACCOUNT, account] }, stack)).toEqual([]);
    const many = newStack();
    const token = new ros.RosParameter(many, 'Account', { type: ros.RosParameterType.STRING }).valueAsString;
    expect(messagesFor({ sharedWithAccounts: [...accounts(50), token] }, many)).toEqual([
      'sharedWithAccounts (51 accounts) is invalid: ECS shares an image with at most 50 accounts',
    ]);
  });
});

describe('ImageReplication distribution props', () => {
  it('gives every copy the accounts, the family, copySourceTags and keepPreviousVersions', () => {
    const stack = newStack();
    new ImageReplication(stack, 'Everywhere', {
      ...SOURCE,
      destinationRegionIds: ['cn-shanghai', 'cn-beijing'],
      sharedWithAccounts: [ACCOUNT],
      imageFamily: 'golden',
      copySourceTags: true,
      keepPreviousVersions: 1,
    });
    const copies = Object.values(Template.fromStack(stack).resources).filter(
      (resource) => resource.Type === CUSTOM_RESOURCE,
    );
    expect(copies).toHaveLength(2);
    for (const copy of copies) {
      expect(copy.Properties!.Parameters).toMatchObject({
        SharedWithAccounts: [ACCOUNT],
        ImageFamily: 'golden',
        CopySourceTags: true,
        KeepPreviousVersions: 1,
      });
    }
  });

  it('exposes each region’s shared accounts, family and previous image ids', () => {
    const stack = newStack();
    const replication = new ImageReplication(stack, 'Everywhere', {
      ...SOURCE,
      destinationRegionIds: ['cn-shanghai', 'cn-beijing'],
    });
    new ros.RosOutput(stack, 'Shared', { value: replication.sharedWithAccountsIn('cn-beijing') });
    new ros.RosOutput(stack, 'Family', { value: replication.imageFamilyIn('cn-beijing') });
    new ros.RosOutput(stack, 'Previous', { value: replication.previousImageIdsIn('cn-shanghai') });
    const template = Template.fromStack(stack);
    template.hasOutput('Shared', { Value: { 'Fn::GetAtt': ['EverywhereCnBeijing', 'SharedWithAccounts'] } });
    template.hasOutput('Family', { Value: { 'Fn::GetAtt': ['EverywhereCnBeijing', 'ImageFamily'] } });
    template.hasOutput('Previous', { Value: { 'Fn::GetAtt': ['EverywhereCnShanghai', 'PreviousImageIds'] } });
  });

  it('refuses to share encrypted copies without a customer key in every region, naming the rule', () => {
    const stack = newStack();
    expect(
      () =>
        new ImageReplication(stack, 'Everywhere', {
          ...SOURCE,
          destinationRegionIds: ['cn-shanghai'],
          encrypted: true,
          sharedWithAccounts: [ACCOUNT],
        }),
    ).toThrow(SERVICE_KEY_RULE);
  });
});
