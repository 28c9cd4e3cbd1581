import { ImageCopyParameter, OWNERSHIP_TAG_KEY } from '../lib/protocol';
import {
  formatValueForMessage,
  imageCopyInputFromParameters,
  truncateForMessage,
  validateBoolean,
  validateDescription,
  validateImageCopyProperties,
  validateImageId,
  validateImageName,
  validateKmsKey,
  validateRegionId,
  validateResourceGroupId,
  validateTags,
  invalidMessage,
  validateTimeoutMinutes,
  validateTimeoutSeconds,
} from '../lib/validation';

const chars = (count: number, character = 'a') => character.repeat(count);

describe('validateImageName', () => {
  it.each(['ab', 'MyImage', 'web-server_v1.2:latest', '镜像副本', '中文name-1', `a${chars(127)}`])(
    'accepts %j',
    (name) => {
      expect(validateImageName(name, 'imageName')).toEqual([]);
    },
  );

  it('accepts a missing name', () => {
    expect(validateImageName(undefined, 'imageName')).toEqual([]);
  });

  it('accepts a Chinese first character', () => {
    expect(validateImageName('镜', 'imageName')).toEqual([
      'imageName "镜" is invalid: must be 2 to 128 characters long (it has 1)',
    ]);
    expect(validateImageName('镜像', 'imageName')).toEqual([]);
  });

  it('rejects a name shorter than 2 characters', () => {
    expect(validateImageName('a', 'imageName')).toEqual([
      'imageName "a" is invalid: must be 2 to 128 characters long (it has 1)',
    ]);
  });

  it('accepts 128 characters and rejects 129', () => {
    expect(validateImageName(chars(128), 'imageName')).toEqual([]);
    expect(validateImageName(chars(129), 'ImageName')).toEqual([
      `ImageName "${chars(63)}…" (129 characters) is invalid: must be 2 to 128 characters long (it has 129)`,
    ]);
  });

  it('counts a Chinese character as one character', () => {
    expect(validateImageName(chars(128, '镜'), 'imageName')).toEqual([]);
  });

  it('rejects a name that does not start with a letter or a Chinese character', () => {
    expect(validateImageName('1abc', 'imageName')).toEqual([
      'imageName "1abc" is invalid: must start with a letter or a Chinese character',
    ]);
    expect(validateImageName('_abc', 'imageName')).toEqual([
      'imageName "_abc" is invalid: must start with a letter or a Chinese character',
    ]);
  });

  it.each(['aliyun-image', 'Aliyun-image', 'acs:image', 'ACS:image'])(
    'rejects the reserved prefix in %j',
    (name) => {
      expect(validateImageName(name, 'imageName')).toEqual([
        `imageName ${JSON.stringify(name)} is invalid: must not start with "aliyun" or "acs:"`,
      ]);
    },
  );

  it.each(['see-http://example', 'xhttps://example'])('rejects a URL in %j', (name) => {
    expect(validateImageName(name, 'imageName')).toEqual([
      `imageName ${JSON.stringify(name)} is invalid: must not contain "http://" or "https://"`,
    ]);
  });

  it.each([
    ['my image', ' '],
    ['my/image', '/'],
    ['image!', '!'],
  ])('rejects the character in %j', (name, character) => {
    expect(validateImageName(name, 'imageName')).toEqual([
      `imageName ${JSON.stringify(name)} is invalid: may contain only letters, digits, Chinese characters, ".", ":", "_" and "-" (found ${JSON.stringify(character)})`,
    ]);
  });

  it('rejects a value that is not a string', () => {
    expect(validateImageName(42, 'ImageName')).toEqual(['ImageName 42 is invalid: must be a string']);
  });
});

describe('validateDescription', () => {
  it('accepts 2 and 256 characters and a missing description', () => {
    expect(validateDescription('ok', 'description')).toEqual([]);
    expect(validateDescription(chars(256), 'description')).toEqual([]);
    expect(validateDescription(undefined, 'description')).toEqual([]);
    expect(validateDescription('Copied for DR, see http://wiki', 'description')).toEqual([]);
  });

  it('rejects 1 and 257 characters', () => {
    expect(validateDescription('a', 'description')).toEqual([
      'description "a" is invalid: must be 2 to 256 characters long (it has 1)',
    ]);
    expect(validateDescription(chars(257), 'Description')).toEqual([
      `Description "${chars(63)}…" (257 characters) is invalid: must be 2 to 256 characters long (it has 257)`,
    ]);
  });

  it.each(['http://example.com', 'HTTPS://example.com'])(
    'rejects a description starting with %j',
    (description) => {
      expect(validateDescription(description, 'description')).toEqual([
        `description ${JSON.stringify(description)} is invalid: must not start with "http://" or "https://"`,
      ]);
    },
  );
});

describe('validateTags', () => {
  const tagsOf = (count: number) =>
    Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, `v${i}`]));

  it('accepts up to 19 tags, an empty value and missing tags', () => {
    expect(validateTags(tagsOf(19), 'tags')).toEqual([]);
    expect(validateTags({ env: '' }, 'tags')).toEqual([]);
    expect(validateTags(undefined, 'tags')).toEqual([]);
    expect(validateTags({}, 'tags')).toEqual([]);
  });

  it('accepts tags as a JSON string, as the handler may receive them', () => {
    expect(validateTags('{"env":"prod"}', 'Tags')).toEqual([]);
  });

  it('rejects more than 19 tags because the ownership tag is reserved', () => {
    expect(validateTags(tagsOf(20), 'tags')).toEqual([
      'tags (20 tags) is invalid: at most 19 tags are allowed (ECS allows 20 per image and ros-cdk-image-copy reserves "ros-cdk-image-copy:owner")',
    ]);
  });

  it('rejects something that is not an object', () => {
    expect(validateTags(['env'], 'tags')).toEqual([
      'tags ["env"] is invalid: must be an object mapping tag keys to string values',
    ]);
    expect(validateTags('env=prod', 'Tags')).toEqual([
      'Tags "env=prod" is invalid: must be an object mapping tag keys to string values',
    ]);
  });

  it('rejects the reserved ownership key', () => {
    expect(validateTags({ [OWNERSHIP_TAG_KEY]: 'mine' }, 'tags')).toEqual([
      'tags key "ros-cdk-image-copy:owner" is invalid: it is reserved by ros-cdk-image-copy',
    ]);
  });

  it('rejects an empty key', () => {
    expect(validateTags({ '': 'v' }, 'tags')).toEqual(['tags key "" is invalid: must not be empty']);
  });

  it('accepts a 128-character key and rejects 129', () => {
    expect(validateTags({ [chars(128)]: 'v' }, 'tags')).toEqual([]);
    expect(validateTags({ [chars(129)]: 'v' }, 'tags')).toEqual([
      `tags key "${chars(63)}…" (129 characters) is invalid: must be at most 128 characters long (it has 129)`,
    ]);
  });

  it.each(['aliyun-team', 'acs:owner', 'ACS:owner'])('rejects the key prefix in %j', (key) => {
    expect(validateTags({ [key]: 'v' }, 'tags')).toEqual([
      `tags key ${JSON.stringify(key)} is invalid: must not start with "aliyun" or "acs:"`,
    ]);
  });

  it('rejects a URL in a key', () => {
    expect(validateTags({ 'see-https://x': 'v' }, 'tags')).toEqual([
      'tags key "see-https://x" is invalid: must not contain "http://" or "https://"',
    ]);
  });

  it('accepts a 128-character value and rejects 129', () => {
    expect(validateTags({ env: chars(128) }, 'tags')).toEqual([]);
    expect(validateTags({ env: chars(129) }, 'tags')).toEqual([
      `tags["env"] "${chars(63)}…" (129 characters) is invalid: must be at most 128 characters long (it has 129)`,
    ]);
  });

  it('rejects a value starting with acs: but allows one starting with aliyun', () => {
    expect(validateTags({ env: 'acs:x' }, 'tags')).toEqual([
      'tags["env"] "acs:x" is invalid: must not start with "acs:"',
    ]);
    expect(validateTags({ env: 'aliyun-team' }, 'tags')).toEqual([]);
  });

  it('rejects a URL in a value', () => {
    expect(validateTags({ docs: 'http://example.com' }, 'Tags')).toEqual([
      'Tags["docs"] "http://example.com" is invalid: must not contain "http://" or "https://"',
    ]);
  });

  it('rejects a value that is not a string', () => {
    expect(validateTags({ count: 3 }, 'tags')).toEqual(['tags["count"] 3 is invalid: must be a string']);
  });

  it('reports every offending tag', () => {
    expect(validateTags({ 'acs:a': 'ok', b: 'acs:b' }, 'tags')).toHaveLength(2);
  });
});

describe('validateRegionId', () => {
  it.each(['cn-hangzhou', 'ap-southeast-1', 'us-west-1', 'cn-hangzhou-finance', 'eu-central-1'])(
    'accepts %j',
    (region) => {
      expect(validateRegionId(region, 'sourceRegionId')).toEqual([]);
    },
  );

  it.each([
    'hangzhou',
    'CN-Hangzhou',
    'cn_hangzhou',
    'cn-',
    '-cn-hangzhou',
    'cn--hangzhou',
    `cn-${chars(62)}`,
  ])('rejects %j', (region) => {
    expect(validateRegionId(region, 'sourceRegionId')).toEqual([
      `sourceRegionId ${formatValueForMessage(region)} is invalid: must be a region id like "cn-hangzhou": lowercase letters and digits in two or more parts joined by "-", at most 64 characters`,
    ]);
  });

  it('accepts 64 characters', () => {
    expect(validateRegionId(`cn-${chars(61)}`, 'sourceRegionId')).toEqual([]);
  });
});

describe('validateImageId', () => {
  it('accepts ECS custom image ids', () => {
    expect(validateImageId('m-bp1g6zv0ce8oghu7k9a2', 'sourceImageId')).toEqual([]);
    expect(validateImageId(`m-${chars(62)}`, 'sourceImageId')).toEqual([]);
  });

  it.each([
    'bp1g6zv0ce8oghu7k9a2',
    'm-',
    'M-bp1',
    'm-BP1',
    'ubuntu_22_04_x64_20G_alibase_20240101.vhd',
    `m-${chars(63)}`,
  ])('rejects %j', (id) => {
    expect(validateImageId(id, 'SourceImageId')).toEqual([
      `SourceImageId ${formatValueForMessage(id)} is invalid: must be an ECS image id like "m-bp1example": "m-" followed by lowercase letters and digits, at most 64 characters`,
    ]);
  });
});

describe('validateResourceGroupId', () => {
  it('accepts resource group ids', () => {
    expect(validateResourceGroupId('rg-acfmzw2jz2z7abc', 'resourceGroupId')).toEqual([]);
  });

  it('rejects other shapes', () => {
    expect(validateResourceGroupId('default', 'resourceGroupId')).toEqual([
      'resourceGroupId "default" is invalid: must be a resource group id like "rg-acfmexample": "rg-" followed by lowercase letters and digits, at most 64 characters',
    ]);
  });
});

describe('validateKmsKey', () => {
  it('accepts a key with encryption, and no key at all', () => {
    expect(validateKmsKey(true, 'key-123', 'encrypted', 'kmsKeyId')).toEqual([]);
    expect(validateKmsKey('true', 'key-123', 'Encrypted', 'KmsKeyId')).toEqual([]);
    expect(validateKmsKey(undefined, undefined, 'encrypted', 'kmsKeyId')).toEqual([]);
    expect(validateKmsKey(false, undefined, 'encrypted', 'kmsKeyId')).toEqual([]);
  });

  it('requires encrypted: true for a key', () => {
    expect(validateKmsKey(undefined, 'key-123', 'encrypted', 'kmsKeyId')).toEqual([
      'kmsKeyId "key-123" requires encrypted: true',
    ]);
    expect(validateKmsKey('false', 'key-123', 'Encrypted', 'KmsKeyId')).toEqual([
      'KmsKeyId "key-123" requires Encrypted: true',
    ]);
  });

  it('rejects an empty key', () => {
    expect(validateKmsKey(true, '', 'encrypted', 'kmsKeyId')).toEqual([
      'kmsKeyId "" is invalid: must be a non-empty string',
    ]);
  });
});

describe('validateBoolean', () => {
  it('accepts booleans and their string forms', () => {
    for (const value of [true, false, 'true', 'false', undefined]) {
      expect(validateBoolean(value, 'Force')).toEqual([]);
    }
  });

  it('rejects anything else', () => {
    expect(validateBoolean('yes', 'Force')).toEqual(['Force "yes" is invalid: must be true or false']);
  });
});

describe('timeouts', () => {
  it('accepts minutes more than 0 and at most 720', () => {
    for (const value of [0.5, 1, 10, 720, '30']) {
      expect(validateTimeoutMinutes(value, 'timeouts.create')).toEqual([]);
    }
  });

  it.each([0, -1, 721, Number.NaN, Number.POSITIVE_INFINITY, 'ten'])('rejects %p minutes', (value) => {
    expect(validateTimeoutMinutes(value, 'timeouts.create')).toEqual([
      `timeouts.create ${formatValueForMessage(value)} is invalid: must be a number of minutes more than 0 and at most 720`,
    ]);
  });

  it('accepts seconds from 1 to 43200, also as numeric strings', () => {
    for (const value of [1, 600, 43200, '600']) {
      expect(validateTimeoutSeconds(value, 'CreateTimeoutSeconds')).toEqual([]);
    }
  });

  it.each([0, 0.5, 43201, '43201', 'soon'])('rejects %p seconds', (value) => {
    expect(validateTimeoutSeconds(value, 'DeleteTimeoutSeconds')).toEqual([
      `DeleteTimeoutSeconds ${formatValueForMessage(value)} is invalid: must be a number of seconds from 1 to 43200 (720 minutes)`,
    ]);
  });
});

describe('message formatting', () => {
  it('keeps short values whole and truncates long ones', () => {
    expect(truncateForMessage('short')).toBe('short');
    expect(truncateForMessage(chars(100), 10)).toBe(`${chars(9)}…`);
    expect(formatValueForMessage('x')).toBe('"x"');
    expect(formatValueForMessage(chars(300))).toBe(`"${chars(63)}…" (300 characters)`);
    expect(formatValueForMessage(undefined)).toBe('undefined');
    expect(formatValueForMessage({ a: 1 })).toBe('{"a":1}');
  });

  it('shows NaN as NaN, not as JSON null', () => {
    expect(formatValueForMessage(NaN)).toBe('NaN');
    expect(invalidMessage('timeouts.create', NaN, 'must be a number')).toBe(
      'timeouts.create NaN is invalid: must be a number',
    );
  });

  it('describes values too deep for JSON instead of overflowing the stack', () => {
    let deep: unknown = [];
    for (let i = 0; i < 20_000; i++) {
      deep = [deep];
    }
    expect(formatValueForMessage(deep)).toBe('(an array of 1 items)');
    let deepObject: Record<string, unknown> = {};
    for (let i = 0; i < 20_000; i++) {
      deepObject = { a: deepObject };
    }
    expect(formatValueForMessage(deepObject)).toBe('(an object with 1 keys)');
    expect(validateTags({ deep }, 'Tags')).toEqual([expect.stringContaining('Tags["deep"]')]);
  });
});

describe('validateImageCopyProperties', () => {
  const valid = {
    sourceImageId: 'm-bp1g6zv0ce8oghu7k9a2',
    sourceRegionId: 'cn-hangzhou',
    destinationRegionId: 'cn-shanghai',
    imageName: 'web-copy',
    description: 'A copy for DR',
    encrypted: true,
    kmsKeyId: 'key-123',
    tags: { env: 'prod' },
    force: false,
    resourceGroupId: 'rg-acfmzw2jz2z7abc',
    createTimeoutMinutes: 30,
    deleteTimeoutMinutes: 10,
  };

  it('accepts valid construct props', () => {
    expect(validateImageCopyProperties(valid, 'construct')).toEqual([]);
  });

  it('requires the source image and source region', () => {
    expect(validateImageCopyProperties({}, 'construct')).toEqual([
      'sourceImageId is required',
      'sourceRegionId is required',
    ]);
    expect(validateImageCopyProperties({}, 'template')).toEqual([
      'SourceImageId is required',
      'SourceRegionId is required',
    ]);
  });

  it('reports every problem with construct names', () => {
    expect(
      validateImageCopyProperties(
        {
          ...valid,
          imageName: '1abc',
          encrypted: false,
          tags: { [OWNERSHIP_TAG_KEY]: 'x' },
          createTimeoutMinutes: 721,
        },
        'construct',
      ),
    ).toEqual([
      'imageName "1abc" is invalid: must start with a letter or a Chinese character',
      'kmsKeyId "key-123" requires encrypted: true',
      'tags key "ros-cdk-image-copy:owner" is invalid: it is reserved by ros-cdk-image-copy',
      'timeouts.create 721 is invalid: must be a number of minutes more than 0 and at most 720',
    ]);
  });

  it('validates ResourceProperties with template names, strings for booleans and numbers included', () => {
    const properties = {
      [ImageCopyParameter.SourceImageId]: 'm-bp1g6zv0ce8oghu7k9a2',
      [ImageCopyParameter.SourceRegionId]: 'cn-hangzhou',
      [ImageCopyParameter.Encrypted]: 'true',
      [ImageCopyParameter.KmsKeyId]: 'key-123',
      [ImageCopyParameter.Tags]: { env: 'prod' },
      [ImageCopyParameter.Force]: 'false',
      [ImageCopyParameter.CreateTimeoutSeconds]: '600',
      [ImageCopyParameter.DeleteTimeoutSeconds]: 600,
    };
    expect(validateImageCopyProperties(imageCopyInputFromParameters(properties), 'template')).toEqual([]);
    expect(
      validateImageCopyProperties(
        imageCopyInputFromParameters({
          ...properties,
          [ImageCopyParameter.ImageName]: 'acs:copy',
          [ImageCopyParameter.ExistingImageId]: 'image-1',
          [ImageCopyParameter.DestinationRegionId]: 'Shanghai',
          [ImageCopyParameter.CreateTimeoutSeconds]: '0',
        }),
        'template',
      ),
    ).toEqual([
      'DestinationRegionId "Shanghai" is invalid: must be a region id like "cn-hangzhou": lowercase letters and digits in two or more parts joined by "-", at most 64 characters',
      'ImageName "acs:copy" is invalid: must not start with "aliyun" or "acs:"',
      'ExistingImageId "image-1" is invalid: must be an ECS image id like "m-bp1example": "m-" followed by lowercase letters and digits, at most 64 characters',
      'CreateTimeoutSeconds "0" is invalid: must be a number of seconds from 1 to 43200 (720 minutes)',
    ]);
  });
});
