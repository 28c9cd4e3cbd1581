import {
  ALL_IMAGE_STATUSES,
  clientTokenFor,
  confirmedOwnershipValue,
  CONTINUATION_KEY,
  customResourceTimeoutSeconds,
  DEFAULT_CREATE_TIMEOUT_MINUTES,
  DEFAULT_DELETE_TIMEOUT_MINUTES,
  FAILED_STATUSES,
  ImageCopyData,
  ImageCopyParameter,
  isOwnedBy,
  isStartedByRequest,
  legacyOwnershipTagValue,
  MAX_TIMEOUT_MINUTES,
  MAX_TIMEOUT_SECONDS,
  MAX_USER_TAGS,
  ownerPrefix,
  ownershipOwner,
  ownershipRequestHash,
  ownershipTagValue,
  OWNERSHIP_TAG_KEY,
  parseBooleanParameter,
  parseNumberParameter,
  parseOwnershipTag,
  parseTagsParameter,
  PENDING_STATUSES,
  physicalIdFor,
  readPhysicalId,
  RESPONSE_BODY_LIMIT_BYTES,
} from '../lib/protocol';
import { validateTagKey, validateTagValue } from '../lib/validation';

const STACK_ID = '4a6c9851-3b0f-4f5f-b4ca-a14bf6910001';
const LOGICAL_ID = 'CopyToShanghai';
const REQUEST_ID = 'C5B0C0F4-2E47-4B6A-9F3E-7A1D2C3B4E5F';

describe('parameter and Data keys', () => {
  it('spells every parameter key as its own name', () => {
    expect(Object.keys(ImageCopyParameter).sort()).toEqual(
      [
        'CreateTimeoutSeconds',
        'DeleteTimeoutSeconds',
        'Description',
        'DestinationRegionId',
        'Encrypted',
        'ExistingImageId',
        'Force',
        'ImageName',
        'KmsKeyId',
        'ReplicaRegionIds',
        'ResourceGroupId',
        'SourceImageId',
        'SourceRegionId',
        'Tags',
        'SharedWithAccounts',
        'ImageFamily',
        'CopySourceTags',
        'KeepPreviousVersions',
      ].sort(),
    );
    for (const [key, value] of Object.entries(ImageCopyParameter)) {
      expect(value).toBe(key);
    }
  });

  it('spells every Data key as its own name', () => {
    expect(Object.values(ImageCopyData)).toEqual([
      'ImageId',
      'RegionId',
      'SourceImageId',
      'SourceRegionId',
      'ImageName',
      'SharedWithAccounts',
      'ImageFamily',
      'PreviousImageIds',
    ]);
    for (const [key, value] of Object.entries(ImageCopyData)) {
      expect(value).toBe(key);
    }
  });

  it('exports the shared limits and defaults', () => {
    expect(DEFAULT_CREATE_TIMEOUT_MINUTES).toBe(10);
    expect(DEFAULT_DELETE_TIMEOUT_MINUTES).toBe(10);
    expect(MAX_TIMEOUT_MINUTES).toBe(720);
    expect(MAX_TIMEOUT_SECONDS).toBe(43200);
    expect(MAX_USER_TAGS).toBe(19);
    expect(RESPONSE_BODY_LIMIT_BYTES).toBe(4096);
    expect(CONTINUATION_KEY).toBe('ImageCopyContinuation');
  });

  it('groups image statuses into pending and failed', () => {
    expect(ALL_IMAGE_STATUSES.join(',')).toBe(
      'Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated',
    );
    expect(PENDING_STATUSES).toEqual(['Creating', 'Waiting']);
    expect(FAILED_STATUSES).toEqual(['CreateFailed', 'UnAvailable']);
  });
});

describe('ownership tag', () => {
  it('uses the reserved key', () => {
    expect(OWNERSHIP_TAG_KEY).toBe('ros-cdk-image-copy:owner');
  });

  it('is <StackId>/<LogicalResourceId>#<instance>.<request> for ordinary ids, <instance>:<request> confirmed', () => {
    const request = ownershipRequestHash(REQUEST_ID);
    // A Create's copy: its instance is the hash of its own request.
    expect(ownershipTagValue(STACK_ID, LOGICAL_ID, REQUEST_ID)).toBe(
      `${STACK_ID}/${LOGICAL_ID}#${request}.${request}`,
    );
    // An Update's copy for the instance the Create made, once ROS accepted the answer naming it.
    expect(
      ownershipTagValue(STACK_ID, LOGICAL_ID, 'update-request', { instance: request, confirmed: true }),
    ).toBe(`${STACK_ID}/${LOGICAL_ID}#${request}:${ownershipRequestHash('update-request')}`);
    // The previous version's form.
    expect(legacyOwnershipTagValue(STACK_ID, LOGICAL_ID, REQUEST_ID)).toBe(
      `${STACK_ID}/${LOGICAL_ID}#${request}`,
    );
  });

  it('confirms an unconfirmed value of this version, and nothing else', () => {
    const unconfirmed = ownershipTagValue(STACK_ID, LOGICAL_ID, REQUEST_ID);
    const confirmed = ownershipTagValue(STACK_ID, LOGICAL_ID, REQUEST_ID, { confirmed: true });
    expect(confirmedOwnershipValue(unconfirmed)).toBe(confirmed);
    expect(confirmedOwnershipValue(confirmed)).toBeUndefined();
    expect(
      confirmedOwnershipValue(legacyOwnershipTagValue(STACK_ID, LOGICAL_ID, REQUEST_ID)),
    ).toBeUndefined();
    expect(confirmedOwnershipValue('not ours')).toBeUndefined();
  });

  it('is deterministic', () => {
    expect(ownershipTagValue(STACK_ID, LOGICAL_ID, REQUEST_ID)).toBe(
      ownershipTagValue(STACK_ID, LOGICAL_ID, REQUEST_ID),
    );
  });

  it('differs between requests but shares the resource prefix', () => {
    const first = ownershipTagValue(STACK_ID, LOGICAL_ID, REQUEST_ID);
    const second = ownershipTagValue(STACK_ID, LOGICAL_ID, 'another-request');
    expect(first).not.toBe(second);
    expect(first.startsWith(ownerPrefix(STACK_ID, LOGICAL_ID))).toBe(true);
    expect(second.startsWith(ownerPrefix(STACK_ID, LOGICAL_ID))).toBe(true);
    expect(first.startsWith(ownerPrefix(STACK_ID, 'OtherCopy'))).toBe(false);
  });

  it('stays within 128 characters and deterministic for very long stack ids', () => {
    const longStackId = `acs:ros:cn-hangzhou:123456789:stacks/${'x'.repeat(300)}`;
    const value = ownershipTagValue(longStackId, LOGICAL_ID, REQUEST_ID);
    expect(value.length).toBeLessThanOrEqual(128);
    expect(ownershipTagValue(longStackId, LOGICAL_ID, REQUEST_ID)).toBe(value);
    expect(ownershipTagValue(`${longStackId}y`, LOGICAL_ID, REQUEST_ID)).not.toBe(value);
    expect(validateTagValue(value, 'owner')).toEqual([]);
  });

  it('is exactly 128 characters at the longest plain owner (102) and shortened one character later', () => {
    const logicalFor = (ownerLength: number) => 'L'.repeat(ownerLength - STACK_ID.length - 1);
    const atLimit = ownershipTagValue(STACK_ID, logicalFor(102), REQUEST_ID, { confirmed: true });
    expect(atLimit.length).toBe(128);
    expect(atLimit.startsWith(`${STACK_ID}/`)).toBe(true);
    const over = ownershipOwner(STACK_ID, logicalFor(103));
    expect(over).toMatch(/~[0-9a-f]{32}$/);
    expect(over.length).toBeLessThanOrEqual(102);
  });

  it("recognises the previous version's values, whose owner was shortened only past 115 characters", () => {
    const logicalFor = (ownerLength: number) => 'L'.repeat(ownerLength - STACK_ID.length - 1);
    for (const length of [60, 110, 115, 200]) {
      const legacy = legacyOwnershipTagValue(STACK_ID, logicalFor(length), REQUEST_ID);
      expect(legacy.length).toBeLessThanOrEqual(128);
      expect(parseOwnershipTag(legacy)).toMatchObject({ legacy: true, confirmed: false });
      expect(isOwnedBy(legacy, STACK_ID, logicalFor(length))).toBe(true);
      expect(isStartedByRequest(legacy, STACK_ID, logicalFor(length), REQUEST_ID)).toBe(true);
      expect(isOwnedBy(legacy, STACK_ID, logicalFor(length + 1))).toBe(false);
    }
  });

  it('shortens owners that would make an invalid tag value or an ambiguous one', () => {
    for (const [stackId, logicalId] of [
      ['acs:ros:stack', 'Copy'],
      ['http://stack', 'Copy'],
      ['stack#1', 'Copy'],
      ['stack with spaces', 'Copy'],
    ]) {
      const value = ownershipTagValue(stackId, logicalId, REQUEST_ID);
      expect(value.length).toBeLessThanOrEqual(128);
      expect(validateTagValue(value, 'owner')).toEqual([]);
      expect(parseOwnershipTag(value)?.owner).toBe(ownershipOwner(stackId, logicalId));
    }
  });

  it('has a key that is itself a valid tag key apart from being reserved', () => {
    expect(validateTagKey(OWNERSHIP_TAG_KEY, 'tags')).toEqual([
      'tags key "ros-cdk-image-copy:owner" is invalid: it is reserved by ros-cdk-image-copy',
    ]);
  });

  it('parses back into owner, instance, request and confirmation (round trip), also for shortened owners', () => {
    for (const stackId of [STACK_ID, 'S'.repeat(500)]) {
      for (const confirmed of [false, true]) {
        const value = ownershipTagValue(stackId, LOGICAL_ID, REQUEST_ID, {
          instance: 'abcdef012345',
          confirmed,
        });
        expect(parseOwnershipTag(value)).toEqual({
          owner: ownershipOwner(stackId, LOGICAL_ID),
          instance: 'abcdef012345',
          request: ownershipRequestHash(REQUEST_ID),
          confirmed,
          retired: false,
          legacy: false,
        });
        expect(`${parseOwnershipTag(value)?.owner}#`).toBe(ownerPrefix(stackId, LOGICAL_ID));
      }
    }
  });

  it('does not parse values it did not write', () => {
    expect(parseOwnershipTag('')).toBeUndefined();
    expect(parseOwnershipTag('no-separator')).toBeUndefined();
    expect(parseOwnershipTag('#0123456789ab')).toBeUndefined();
    expect(parseOwnershipTag('owner#not-a-hash')).toBeUndefined();
    expect(parseOwnershipTag('owner#0123456789AB')).toBeUndefined();
    expect(parseOwnershipTag('a#b#0123456789ab')).toBeUndefined();
    expect(parseOwnershipTag('owner#0123456789ab-0123456789ab')).toBeUndefined();
    expect(parseOwnershipTag('owner#0123456789ab.0123456789a')).toBeUndefined();
  });

  it('recognises copies of this resource and of this request', () => {
    const value = ownershipTagValue(STACK_ID, LOGICAL_ID, REQUEST_ID);
    expect(isOwnedBy(value, STACK_ID, LOGICAL_ID)).toBe(true);
    expect(isOwnedBy(value, STACK_ID, 'Other')).toBe(false);
    expect(isOwnedBy(value, 'other-stack', LOGICAL_ID)).toBe(false);
    expect(isStartedByRequest(value, STACK_ID, LOGICAL_ID, REQUEST_ID)).toBe(true);
    expect(isStartedByRequest(value, STACK_ID, LOGICAL_ID, 'other-request')).toBe(false);
  });

  it('does not let one logical id own another whose name extends it', () => {
    const value = ownershipTagValue(STACK_ID, 'Copy2', REQUEST_ID);
    expect(isOwnedBy(value, STACK_ID, 'Copy')).toBe(false);
    expect(value.startsWith(ownerPrefix(STACK_ID, 'Copy'))).toBe(false);
  });
});

describe('physical id', () => {
  it("is image-copy-<12 hex of the Create's RequestId>, the same for every delivery of it", () => {
    expect(physicalIdFor(REQUEST_ID)).toBe(`image-copy-${ownershipRequestHash(REQUEST_ID)}`);
    expect(physicalIdFor(REQUEST_ID)).toBe(physicalIdFor(REQUEST_ID));
    expect(physicalIdFor('another-request')).not.toBe(physicalIdFor(REQUEST_ID));
  });

  it("reads the instance of this version's ids and of the previous version's placeholder", () => {
    const instance = ownershipRequestHash(REQUEST_ID);
    expect(readPhysicalId(physicalIdFor(REQUEST_ID))).toEqual({ kind: 'instance', instance });
    expect(readPhysicalId(`image-copy-failed-${instance}`)).toEqual({ kind: 'instance', instance });
  });

  it('reads an image id as a resource of the previous version, whose copies carry the hash of that id', () => {
    expect(readPhysicalId('m-uf6abc123')).toEqual({
      kind: 'legacy-image',
      instance: ownershipRequestHash('m-uf6abc123'),
      imageId: 'm-uf6abc123',
    });
  });

  it('reads anything else as foreign: ROS after a failed or unanswered Create', () => {
    expect(readPhysicalId(undefined)).toEqual({ kind: 'foreign' });
    expect(readPhysicalId('')).toEqual({ kind: 'foreign' });
    expect(readPhysicalId('Copy')).toEqual({ kind: 'foreign', instance: ownershipRequestHash('Copy') });
    expect(readPhysicalId('Copy-never-created').kind).toBe('foreign');
    expect(readPhysicalId('image-copy-0123456789AB').kind).toBe('foreign');
    expect(readPhysicalId('image-copy-0123456789abc').kind).toBe('foreign');
  });
});

describe('customResourceTimeoutSeconds', () => {
  it('is create + delete + 5 minutes, at most 12 hours', () => {
    expect(customResourceTimeoutSeconds(600, 600)).toBe(1500);
    expect(customResourceTimeoutSeconds(43_200, 600)).toBe(43_200);
  });
});

describe('clientTokenFor', () => {
  it('is at most 64 ASCII characters', () => {
    const token = clientTokenFor('S'.repeat(1000), 'L'.repeat(300), 'R'.repeat(300));
    expect(token.length).toBeLessThanOrEqual(64);
    expect(token).toMatch(/^[\x21-\x7e]+$/);
  });

  it('is deterministic', () => {
    expect(clientTokenFor(STACK_ID, LOGICAL_ID, REQUEST_ID)).toBe(
      clientTokenFor(STACK_ID, LOGICAL_ID, REQUEST_ID),
    );
  });

  it('differs for a different request, resource or stack', () => {
    const token = clientTokenFor(STACK_ID, LOGICAL_ID, REQUEST_ID);
    expect(clientTokenFor(STACK_ID, LOGICAL_ID, 'another-request')).not.toBe(token);
    expect(clientTokenFor(STACK_ID, 'Other', REQUEST_ID)).not.toBe(token);
    expect(clientTokenFor('other-stack', LOGICAL_ID, REQUEST_ID)).not.toBe(token);
  });

  it('does not confuse where one id ends and the next begins', () => {
    expect(clientTokenFor('a', 'bc', 'd')).not.toBe(clientTokenFor('ab', 'c', 'd'));
  });
});

describe('parameter coercion', () => {
  it('reads booleans given as booleans or as "true"/"false"', () => {
    expect(parseBooleanParameter(true)).toBe(true);
    expect(parseBooleanParameter(false)).toBe(false);
    expect(parseBooleanParameter('true')).toBe(true);
    expect(parseBooleanParameter(' FALSE ')).toBe(false);
    expect(parseBooleanParameter(undefined)).toBeUndefined();
    expect(parseBooleanParameter('yes')).toBeUndefined();
    expect(parseBooleanParameter(1)).toBeUndefined();
  });

  it('reads numbers given as numbers or numeric strings', () => {
    expect(parseNumberParameter(600)).toBe(600);
    expect(parseNumberParameter('600')).toBe(600);
    expect(parseNumberParameter(' 1.5 ')).toBe(1.5);
    expect(parseNumberParameter(undefined)).toBeUndefined();
    expect(parseNumberParameter('')).toBeUndefined();
    expect(parseNumberParameter('10m')).toBeUndefined();
    expect(parseNumberParameter(Number.NaN)).toBeUndefined();
    expect(parseNumberParameter(Number.POSITIVE_INFINITY)).toBeUndefined();
  });

  it('reads tags given as an object or as its JSON string', () => {
    expect(parseTagsParameter({ env: 'prod' })).toEqual({ env: 'prod' });
    expect(parseTagsParameter('{"env":"prod"}')).toEqual({ env: 'prod' });
    expect(parseTagsParameter(undefined)).toBeUndefined();
    expect(parseTagsParameter('not json')).toBeUndefined();
    expect(parseTagsParameter(['env'])).toBeUndefined();
    expect(parseTagsParameter(null)).toBeUndefined();
  });
});
