/**
 * The pure rules of distribution (issue 14): which accounts to share and unshare, in calls of at most 10; which of the
 * source's tags go onto a copy; the name and the ownership mark of a kept previous version; which kept versions go;
 * and the service-key rule the handler applies at deploy time to values that were tokens at synth.
 */
import { planSharing, shareBatches } from '../../lib/handler/distribution';
import { sourceTags, wantedTags } from '../../lib/handler/distribution-tags';
import type { ImageView } from '../../lib/handler/images';
import { versionsBeyond } from '../../lib/handler/previous-versions';
import { readSettings, readSettingsLeniently } from '../../lib/handler/settings';
import {
  confirmedOwnershipValue,
  OWNERSHIP_TAG_KEY,
  ownershipTagValue,
  parseOwnershipTag,
  previousVersionName,
  retiredOwnershipValue,
  SOURCE_TAG_KEY,
} from '../../lib/protocol';

const STACK = 'stack-1';
const REQUEST = 'request-1';

describe('planSharing', () => {
  it('adds the wanted accounts not shared yet, in the order given', () => {
    expect(planSharing(['3', '1', '2'], [], ['1'])).toEqual({ add: ['3', '2'], remove: [] });
  });

  it('removes the accounts wanted before and no longer, and only those that are shared', () => {
    expect(planSharing(['1'], ['1', '2', '3'], ['1', '2'])).toEqual({ add: [], remove: ['2'] });
  });

  it('leaves alone an account shared outside the stack', () => {
    expect(planSharing(['1'], ['1'], ['1', '9'])).toEqual({ add: [], remove: [] });
  });
});

describe('shareBatches', () => {
  it('splits accounts into calls of at most 10 (ModifyImageSharePermission ignores more)', () => {
    const accounts = Array.from({ length: 23 }, (_, i) => `${i}`);
    expect(shareBatches(accounts).map((batch) => batch.length)).toEqual([10, 10, 3]);
    expect(shareBatches(accounts).flat()).toEqual(accounts);
    expect(shareBatches([])).toEqual([]);
  });
});

describe('sourceTags', () => {
  it("copies the source's tags, the user's value winning for a key both have", () => {
    const settings = readSettingsLeniently(
      { SourceImageId: 'm-1', SourceRegionId: 'cn-hangzhou', CopySourceTags: 'true', Tags: { team: 'web' } },
      'cn-shanghai',
    );
    expect(wantedTags(settings, { team: 'ops', os: 'linux' })).toEqual({ team: 'web', os: 'linux' });
  });

  it('never copies a reserved key or a system key (aliyun…, acs:…)', () => {
    expect(
      sourceTags(
        { [OWNERSHIP_TAG_KEY]: 'x', [SOURCE_TAG_KEY]: 'y', 'acs:x': '1', aliyunTag: '2', os: 'linux' },
        {},
        1,
      ),
    ).toEqual({ os: 'linux' });
  });

  it("fits within ECS's 20 tags counting the user's tags and the reserved ones", () => {
    const source = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`s${i}`, `${i}`]));
    const user = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`u${i}`, `${i}`]));
    expect(Object.keys(sourceTags(source, user, 1))).toEqual(['s0', 's1', 's2', 's3']);
    expect(Object.keys(sourceTags(source, user, 2))).toEqual(['s0', 's1', 's2']);
    expect(sourceTags(source, { ...user, u15: '', u16: '', u17: '', u18: '' }, 1)).toEqual({});
  });

  it('adds nothing when CopySourceTags is off', () => {
    const settings = readSettingsLeniently(
      { SourceImageId: 'm-1', SourceRegionId: 'cn-hangzhou', Tags: { team: 'web' } },
      'cn-shanghai',
    );
    expect(wantedTags(settings, { os: 'linux' })).toEqual({ team: 'web' });
  });
});

describe('a kept previous version', () => {
  it('is renamed <name>-previous-<imageId>, freeing the name, once', () => {
    expect(previousVersionName('web', 'm-uf6abc')).toBe('web-previous-m-uf6abc');
    expect(previousVersionName('web-previous-m-uf6abc', 'm-uf6abc')).toBe('web-previous-m-uf6abc');
  });

  it("keeps within ECS's 128 characters", () => {
    const name = previousVersionName(`w${'x'.repeat(127)}`, 'm-uf6abc');
    expect([...name]).toHaveLength(128);
    expect(name.endsWith('-previous-m-uf6abc')).toBe(true);
  });

  it('is marked retired in its ownership tag: still the instance’s, counted as confirmed, never current', () => {
    const value = ownershipTagValue(STACK, 'Copy', REQUEST, { instance: 'abcdef012345', confirmed: true });
    const retired = retiredOwnershipValue(value)!;
    expect(retired).not.toBe(value);
    expect(retired.length).toBeLessThanOrEqual(128);
    expect(parseOwnershipTag(retired)).toMatchObject({
      instance: 'abcdef012345',
      confirmed: true,
      retired: true,
      legacy: false,
    });
    expect(parseOwnershipTag(value)).toMatchObject({ retired: false });
    expect(retiredOwnershipValue(retired)).toBe(retired);
    // Never confirmed again as a current image.
    expect(confirmedOwnershipValue(retired)).toBeUndefined();
  });

  it('cannot be marked when the previous version of the handler tagged the copy', () => {
    expect(retiredOwnershipValue(`${STACK}/Copy#abcdef012345`)).toBeUndefined();
  });
});

describe('versionsBeyond', () => {
  const image = (imageId: string) => ({ imageId }) as ImageView;
  it('keeps the newest `keep` (the list is newest first) and gives the rest for deletion', () => {
    const newestFirst = [image('m-3'), image('m-2'), image('m-1')];
    expect(versionsBeyond(newestFirst, 1).map((i) => i.imageId)).toEqual(['m-2', 'm-1']);
    expect(versionsBeyond(newestFirst, 2).map((i) => i.imageId)).toEqual(['m-1']);
    expect(versionsBeyond(newestFirst, 3)).toEqual([]);
    expect(versionsBeyond(newestFirst, 0)).toHaveLength(3);
  });
});

describe('settings at deploy time', () => {
  const base = { SourceImageId: 'm-bp1golden', SourceRegionId: 'cn-hangzhou' };

  it('refuses to share a copy encrypted with the service key, in the words synth uses', () => {
    expect(() =>
      readSettings({ ...base, Encrypted: 'true', SharedWithAccounts: ['1234567890123456'] }, 'cn-shanghai'),
    ).toThrow(
      'SharedWithAccounts requires KmsKeyId when Encrypted is true: ECS cannot share an image encrypted with its ' +
        'service key, a customer KMS key is required',
    );
  });

  it('reads the accounts from a list, its JSON text or a comma-separated string', () => {
    for (const value of [['1', '2'], '["1","2"]', '1, 2']) {
      expect(readSettings({ ...base, SharedWithAccounts: value }, 'cn-shanghai').sharedWithAccounts).toEqual([
        '1',
        '2',
      ]);
    }
  });

  it('reads the family, CopySourceTags and KeepPreviousVersions, strings included', () => {
    expect(
      readSettings(
        { ...base, ImageFamily: 'golden', CopySourceTags: 'true', KeepPreviousVersions: '2' },
        'cn-shanghai',
      ),
    ).toMatchObject({ imageFamily: 'golden', copySourceTags: true, keepPreviousVersions: 2 });
  });

  it('names the parameter, the value and the rule for a bad account or count', () => {
    expect(() => readSettings({ ...base, SharedWithAccounts: ['12a'] }, 'cn-shanghai')).toThrow(
      'SharedWithAccounts[0] "12a" is invalid: must be an Alibaba Cloud account id',
    );
    expect(() => readSettings({ ...base, KeepPreviousVersions: '11' }, 'cn-shanghai')).toThrow(
      'KeepPreviousVersions "11" is invalid: must be a whole number from 0 to 10',
    );
  });
});
