import { readZip, writeZip } from '../../lib/zip';
import {
  distributionData,
  fillTemplate,
  operationTargets,
  readDistributionSettings,
  templateDigest,
  wantedPairs,
} from '../../lib/handler/distribution-group-plan';
import { ImageCopyError } from '../../lib/handler/errors';
import {
  DISTRIBUTION_MAPPING_NAME,
  HANDLER_CODE_PLACEHOLDER,
  RESPONSE_BODY_LIMIT_BYTES,
} from '../../lib/protocol';
import { serializeResponse } from '../../lib/handler/response';

const A = '1111111111111111';
const B = '2222222222222222';
const C = '3333333333333333';

const PROPERTIES = {
  StackGroupName: 'Org-Golden',
  TemplateBody: JSON.stringify({
    ROSTemplateFormatVersion: '2015-09-01',
    Mappings: { [DISTRIBUTION_MAPPING_NAME]: {} },
    Resources: {
      Fn: { Type: 'ALIYUN::FC3::Function', Properties: { Code: { ZipFile: HANDLER_CODE_PLACEHOLDER } } },
    },
  }),
  ReplicaImageIds: { 'cn-hangzhou': 'm-hz', 'cn-beijing': 'm-bj', 'cn-shanghai': 'm-sh' },
  TargetAccountIds: [A, B, C],
  TargetRegionIds: ['cn-hangzhou', 'cn-beijing'],
  RegionsByAccount: { [C]: ['cn-shanghai'] },
  OperationPreferences: { MaxConcurrentCount: '10', RegionConcurrencyType: 'PARALLEL' },
  CreateTimeoutSeconds: '1800',
};

function messageOf(properties: Record<string, unknown>): string {
  try {
    readDistributionSettings(properties);
  } catch (error) {
    expect(error).toBeInstanceOf(ImageCopyError);
    return (error as Error).message;
  }
  throw new Error('expected the properties to be refused');
}

describe('the ImageDistribution plan', () => {
  it('reads the properties as ROS delivers them: numbers as strings, lists and maps as JSON text', () => {
    const settings = readDistributionSettings({
      ...PROPERTIES,
      TargetAccountIds: JSON.stringify([A, B, C]),
      RegionsByAccount: JSON.stringify({ [C]: ['cn-shanghai'] }),
    });
    expect(settings).toMatchObject({
      stackGroupName: 'Org-Golden',
      accountIds: [A, B, C],
      regionsByAccount: { [C]: ['cn-shanghai'] },
      operationPreferences: { MaxConcurrentCount: 10, RegionConcurrencyType: 'PARALLEL' },
      createTimeoutSeconds: 1800,
      deleteTimeoutSeconds: 3600,
    });
  });

  it('refuses at deploy time what tokens hid at synth time, naming the property, the value and the rule', () => {
    expect(messageOf({ ...PROPERTIES, TargetAccountIds: ['12'] })).toContain(
      'TargetAccountIds[0] "12" is invalid: must be an Alibaba Cloud account id of 16 digits',
    );
    const many = Array.from({ length: 51 }, (_, i) => String(1000000000000000 + i));
    expect(messageOf({ ...PROPERTIES, TargetAccountIds: many, RegionsByAccount: undefined })).toContain(
      'TargetAccountIds (51 accounts) is invalid: ECS shares an image with at most 50 accounts',
    );
    expect(messageOf({ ...PROPERTIES, TargetFolderIds: ['fd-1'] })).toContain(
      'exactly one of TargetAccountIds and TargetFolderIds is required',
    );
    expect(messageOf({ ...PROPERTIES, ReplicaImageIds: { 'cn-hangzhou': 'm-hz' } })).toContain(
      'ReplicaImageIds names no replica in the target region "cn-beijing"',
    );
  });

  it('gives each account its regions, and groups accounts with the same regions into operations of at most 20', () => {
    const settings = readDistributionSettings(PROPERTIES);
    const pairs = wantedPairs([A, B, C], settings);
    expect(pairs).toEqual([
      { accountId: A, regionId: 'cn-hangzhou' },
      { accountId: A, regionId: 'cn-beijing' },
      { accountId: B, regionId: 'cn-hangzhou' },
      { accountId: B, regionId: 'cn-beijing' },
      { accountId: C, regionId: 'cn-shanghai' },
    ]);
    expect(operationTargets(pairs)).toEqual([
      { accountIds: [A, B], regionIds: ['cn-beijing', 'cn-hangzhou'] },
      { accountIds: [C], regionIds: ['cn-shanghai'] },
    ]);
    const accounts = Array.from({ length: 45 }, (_, i) => String(1000000000000000 + i));
    const targets = operationTargets(accounts.map((accountId) => ({ accountId, regionId: 'cn-hangzhou' })));
    expect(targets.map((t) => t.accountIds.length)).toEqual([20, 20, 5]);
  });

  it('fills the replicas into the Mappings and the handler code into the provider function', () => {
    const settings = readDistributionSettings(PROPERTIES);
    const code = writeZip([{ name: 'index.js', data: Buffer.from('exports.handler = 1;') }]).toString(
      'base64',
    );
    const filled = JSON.parse(fillTemplate(settings.templateBody, settings.replicaImageIds, code));
    expect(filled.Mappings[DISTRIBUTION_MAPPING_NAME]).toEqual({
      'cn-hangzhou': { ImageId: 'm-hz' },
      'cn-beijing': { ImageId: 'm-bj' },
      'cn-shanghai': { ImageId: 'm-sh' },
    });
    expect(readZip(Buffer.from(filled.Resources.Fn.Properties.Code.ZipFile, 'base64'))).toEqual([
      { name: 'index.js', data: Buffer.from('exports.handler = 1;') },
    ]);
  });

  it('updates the group when the replicas or the template change, not when only the targets do', () => {
    const settings = readDistributionSettings(PROPERTIES);
    const moreAccounts = readDistributionSettings({
      ...PROPERTIES,
      TargetAccountIds: [A, B, C, '4444444444444444'],
    });
    const newSource = readDistributionSettings({
      ...PROPERTIES,
      ReplicaImageIds: { ...PROPERTIES.ReplicaImageIds, 'cn-hangzhou': 'm-new' },
    });
    expect(templateDigest(moreAccounts)).toBe(templateDigest(settings));
    expect(templateDigest(newSource)).not.toBe(templateDigest(settings));
  });

  it('answers every pair while they fit in 4096 bytes, and says how many it left out beyond', () => {
    const images = Array.from({ length: 50 }, (_, a) =>
      ['cn-hangzhou', 'cn-beijing', 'cn-shanghai'].map((regionId) => ({
        accountId: String(1000000000000000 + a),
        regionId,
        imageId: `m-${String(a).padStart(20, '0')}`,
      })),
    ).flat();
    const few = distributionData('Org-Golden', images.slice(0, 3), []);
    expect(JSON.parse(few.ImageIds)).toEqual({
      '1000000000000000': {
        'cn-hangzhou': images[0].imageId,
        'cn-beijing': images[1].imageId,
        'cn-shanghai': images[2].imageId,
      },
    });
    expect(few.ImageIdsLeftOut).toBe('0');
    expect(few[`ImageId.1000000000000000.cn-beijing`]).toBe(images[1].imageId);

    const failed = [{ AccountId: A, RegionId: 'cn-hangzhou', Reason: 'x'.repeat(5000) }];
    const all = distributionData('Org-Golden', images, failed);
    const included = Object.values(JSON.parse(all.ImageIds) as Record<string, object>).reduce(
      (count, regions) => count + Object.keys(regions).length,
      0,
    );
    expect(included).toBeGreaterThan(0);
    expect(Number(all.ImageIdsLeftOut)).toBe(images.length - included);
    expect(JSON.parse(all.FailedTargets)).toEqual([
      { AccountId: A, RegionId: 'cn-hangzhou', Reason: expect.stringMatching(/^x+$/) },
    ]);
    const body = serializeResponse({
      Status: 'SUCCESS',
      PhysicalResourceId: 'image-copy-0123456789ab',
      StackId: 'a'.repeat(36),
      RequestId: 'b'.repeat(36),
      LogicalResourceId: 'Golden',
      Data: all,
    });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(RESPONSE_BODY_LIMIT_BYTES);
    expect(JSON.parse(body).Data).toEqual(all);
  });
});
