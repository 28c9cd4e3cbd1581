import { readSettings } from '../../lib/handler/settings';

const base = { SourceImageId: 'm-bp1golden', SourceRegionId: 'cn-hangzhou' };
const tags = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, 'v']));

describe('readSettings: the replica regions of an ImageReplication copy', () => {
  it.each([
    ['a list', ['cn-beijing', 'cn-qingdao']],
    ['its JSON text', '["cn-beijing","cn-qingdao"]'],
    ['a comma-separated string', 'cn-beijing, cn-qingdao'],
  ])('reads them given as %s', (_how, value) => {
    expect(readSettings({ ...base, ReplicaRegionIds: value }, 'cn-shanghai').replicaRegionIds).toEqual([
      'cn-beijing',
      'cn-qingdao',
    ]);
  });

  it('has none for a lone copy', () => {
    expect(readSettings(base, 'cn-shanghai').replicaRegionIds).toEqual([]);
  });

  it('refuses a bad region id, naming it', () => {
    expect(() =>
      readSettings({ ...base, ReplicaRegionIds: ['cn-beijing', 'Qingdao'] }, 'cn-shanghai'),
    ).toThrow(/ReplicaRegionIds\[1\] "Qingdao" is invalid: must be a region id/);
  });

  it('allows 18 user tags on a replica (the source tag takes one), 19 on a lone copy', () => {
    expect(() => readSettings({ ...base, Tags: tags(19) }, 'cn-shanghai')).not.toThrow();
    expect(() =>
      readSettings({ ...base, Tags: tags(18), ReplicaRegionIds: ['cn-beijing'] }, 'cn-shanghai'),
    ).not.toThrow();
    expect(() =>
      readSettings({ ...base, Tags: tags(19), ReplicaRegionIds: ['cn-beijing'] }, 'cn-shanghai'),
    ).toThrow(
      'Tags (19 tags) is invalid: at most 18 tags are allowed (ECS allows 20 per image and ros-cdk-image-copy ' +
        'reserves "ros-cdk-image-copy:owner" and "ros-cdk-image-copy:source" on the copies of an ImageReplication)',
    );
  });
});
