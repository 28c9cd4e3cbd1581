import { connect } from '../../lib/deploy/connection';
import { ImageCopyWatcher } from '../../lib/deploy/image-progress';
import { OWNERSHIP_TAG_KEY, ownershipTagValue } from '../../lib/protocol';
import { REGION, withCloud } from './fixtures';

const STACK_ID = '0f0e0d0c-0b0a-4909-8807-060504030201';
const template = {
  Resources: {
    Copy: {
      Type: 'ALIYUN::ROS::CustomResource',
      Properties: {
        Parameters: { SourceImageId: 'm-src', SourceRegionId: REGION, DestinationRegionId: 'cn-shanghai' },
      },
    },
    Here: {
      Type: 'ALIYUN::ROS::CustomResource',
      Properties: { Parameters: { SourceImageId: 'm-src', SourceRegionId: 'cn-beijing' } },
    },
    Role: { Type: 'ALIYUN::RAM::Role', Properties: {} },
  },
};

describe('ImageCopyWatcher', () => {
  it('reads the progress of the copies owned by the resources in progress, in their destination regions', async () => {
    await withCloud({}, async ({ cloud, connection }) => {
      const copy = cloud.ecs.putImage('cn-shanghai', {
        status: 'Creating',
        tags: { [OWNERSHIP_TAG_KEY]: ownershipTagValue(STACK_ID, 'Copy', 'request-1') },
      });
      cloud.ecs.putImage('cn-shanghai', {
        status: 'Creating',
        tags: { [OWNERSHIP_TAG_KEY]: ownershipTagValue('another-stack', 'Copy', 'request-1') },
      });
      const here = cloud.ecs.putImage(REGION, {
        status: 'Waiting',
        tags: { [OWNERSHIP_TAG_KEY]: ownershipTagValue(STACK_ID, 'Here', 'request-2') },
      });
      const watcher = new ImageCopyWatcher(await connect(connection), template, 0);
      expect(watcher.any).toBe(true);
      const readings = await watcher.progress(STACK_ID, ['Copy', 'Here', 'Role']);
      expect(readings).toEqual([
        { logicalResourceId: 'Copy', imageId: copy, regionId: 'cn-shanghai', percent: expect.any(Number) },
        { logicalResourceId: 'Here', imageId: here, regionId: REGION, percent: expect.any(Number) },
      ]);
      expect(await watcher.progress(STACK_ID, ['Role'])).toEqual([]);
    });
  });

  it('turns itself off quietly when the deploying identity may not describe images', async () => {
    await withCloud({}, async ({ cloud, connection }) => {
      const rosOnly = cloud.issueRoleCredentials('deployer', {
        Version: '1',
        Statement: [{ Effect: 'Allow', Action: ['ros:*'], Resource: ['*'] }],
      });
      const watcher = new ImageCopyWatcher(
        await connect({ ...connection, credentials: rosOnly }),
        template,
        0,
      );
      expect(await watcher.progress(STACK_ID, ['Copy'])).toEqual([]);
      expect(await watcher.progress(STACK_ID, ['Copy'])).toEqual([]);
      const describes = cloud.calls.filter((c) => c.product === 'ecs' && c.action === 'DescribeImages');
      expect(describes).toEqual([expect.objectContaining({ code: 'Forbidden.RAM' })]);
    });
  });
});
