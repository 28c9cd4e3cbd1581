import { analyzeUpdate, diffTags, UPDATE_BEHAVIOUR } from '../../lib/handler/analyze-update';
import { readSettingsLeniently } from '../../lib/handler/settings';
import { ImageCopyParameter } from '../../lib/protocol';

const base = {
  SourceImageId: 'm-bp1source',
  SourceRegionId: 'cn-hangzhou',
  DestinationRegionId: 'cn-shanghai',
  ImageName: 'web',
  Description: 'the web tier',
  Tags: { team: 'web' },
};
const settings = (properties: Record<string, unknown>) => readSettingsLeniently(properties, 'cn-shanghai');
const plan = (next: Record<string, unknown>, old: Record<string, unknown> = base) =>
  analyzeUpdate(settings(old), settings(next));

describe('analyzeUpdate', () => {
  it('has a row for every parameter', () => {
    expect(Object.keys(UPDATE_BEHAVIOUR).sort()).toEqual(Object.values(ImageCopyParameter).sort());
  });

  it.each([
    ['SourceImageId', 'm-bp1other'],
    ['SourceRegionId', 'cn-beijing'],
    ['DestinationRegionId', 'cn-beijing'],
    ['Encrypted', true],
  ])('replaces on a change of %s', (property, value) => {
    const result = plan({ ...base, [property]: value });
    expect(result.replacement).toBe(true);
    expect(result.replacedBy).toEqual([property]);
  });

  it('replaces on a change of the KMS key of an encrypted copy, but ignores a key without encryption', () => {
    const encrypted = { ...base, Encrypted: 'true', KmsKeyId: 'key-1' };
    expect(plan({ ...encrypted, KmsKeyId: 'key-2' }, encrypted).replacedBy).toEqual(['KmsKeyId']);
    expect(plan({ ...base, KmsKeyId: 'key-2' }, { ...base, KmsKeyId: 'key-1' }).replacement).toBe(false);
  });

  it('does not replace when the destination is spelled out as the event region it defaulted to', () => {
    const { DestinationRegionId: _omitted, ...withoutDestination } = base;
    expect(plan(base, withoutDestination).changes).toEqual([]);
  });

  it('reads booleans and numbers given as strings as the same value', () => {
    const old = { ...base, Encrypted: false, CreateTimeoutSeconds: 600, Force: true };
    expect(
      plan({ ...base, Encrypted: 'false', CreateTimeoutSeconds: '600', Force: 'true' }, old).changes,
    ).toEqual([]);
  });

  it('changes name, description, tags and resource group in place', () => {
    const result = plan({
      ...base,
      ImageName: 'web-2',
      Description: 'new',
      Tags: { team: 'ops' },
      ResourceGroupId: 'rg-acfm1',
    });
    expect(result.replacement).toBe(false);
    expect(result.changes).toEqual([
      { property: 'ImageName', behaviour: 'modify-attribute' },
      { property: 'Description', behaviour: 'modify-attribute' },
      { property: 'Tags', behaviour: 'retag' },
      { property: 'ResourceGroupId', behaviour: 'join-resource-group' },
    ]);
    expect(result).toMatchObject({ imageName: 'web-2', description: 'new', resourceGroupId: 'rg-acfm1' });
  });

  it('needs no call for Force and the timeouts', () => {
    const result = plan({ ...base, Force: true, CreateTimeoutSeconds: 60, DeleteTimeoutSeconds: 60 });
    expect(result.replacement).toBe(false);
    expect(new Set(result.changes.map((c) => c.behaviour))).toEqual(new Set(['no-call']));
  });

  it('notes a removed description, which ECS cannot clear', () => {
    const { Description: _removed, ...withoutDescription } = base;
    expect(plan(withoutDescription).descriptionRemoved).toBe(true);
    expect(plan(base).descriptionRemoved).toBe(false);
  });

  it('reads tag order as irrelevant and tags given as a JSON string as the same tags', () => {
    const old = { ...base, Tags: { a: '1', b: '2' } };
    expect(plan({ ...base, Tags: '{"b":"2","a":"1"}' }, old).changes).toEqual([]);
  });
});

describe('diffTags', () => {
  it('sets only added or changed keys and removes only removed keys', () => {
    expect(diffTags({ a: '1', b: '2', c: '3' }, { a: '1', b: '20', d: '4' })).toEqual({
      set: { b: '20', d: '4' },
      remove: ['c'],
    });
  });

  it('does nothing when nothing changed', () => {
    expect(diffTags({ a: '1' }, { a: '1' })).toEqual({ set: {}, remove: [] });
  });
});
