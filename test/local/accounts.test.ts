/**
 * The accounts of a LocalCloud as other processes reach them: an embedded LocalCloud with `accounts` (what
 * `ros-deploy --local` starts with `ROS_LOCAL_ACCOUNTS`), and the accounts a connection and a served cloud's
 * discovery report.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Ecs, * as $Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import { localTarget } from '../../lib/deploy/target';
import { LocalCloud } from '../../lib/local';
import { accountsFromEnvironment, connectLocalCloud } from '../../lib/local/connect';

describe('accounts across processes', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accounts-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads ROS_LOCAL_ACCOUNTS: unset is the default, a whole number from 1 to 100 is taken, anything else refused naming it', () => {
    expect(accountsFromEnvironment({})).toBeUndefined();
    expect(accountsFromEnvironment({ ROS_LOCAL_ACCOUNTS: '3' })).toBe(3);
    for (const bad of ['0', '101', 'two', '1.5']) {
      expect(() => accountsFromEnvironment({ ROS_LOCAL_ACCOUNTS: bad })).toThrow(
        `ROS_LOCAL_ACCOUNTS=${bad}: the number of accounts must be a whole number from 1 to 100`,
      );
    }
  });

  it("an embedded connection has the accounts asked for and reports each one's id and root key, which sign as it", async () => {
    const connection = await connectLocalCloud(dir, { accounts: 2 });
    try {
      expect(connection.accounts).toHaveLength(2);
      expect(connection.accounts[0].credentials).toEqual(connection.credentials);
      const second = connection.accounts[1];
      const ecs = new Ecs(
        new $OpenApiUtil.Config({
          ...second.credentials,
          regionId: 'cn-hangzhou',
          endpoint: connection.endpoint,
          protocol: 'http',
        }),
      );
      const images = await ecs.describeImages(new $Ecs.DescribeImagesRequest({ regionId: 'cn-hangzhou' }));
      expect(images.body!.totalCount).toBe(0);
    } finally {
      await connection.stop();
    }
  });

  it("ros-deploy --local's embedded LocalCloud starts with ROS_LOCAL_ACCOUNTS accounts, and a wrong value is a clear error", async () => {
    const target = await localTarget({ directory: dir, env: { ROS_LOCAL_ACCOUNTS: '2' } });
    await target.close();
    const cloud = await LocalCloud.start({ stateFile: path.join(dir, '.ros-local', 'state.json') });
    try {
      expect(cloud.accounts).toHaveLength(2);
    } finally {
      await cloud.stop();
    }
    await expect(localTarget({ directory: dir, env: { ROS_LOCAL_ACCOUNTS: 'many' } })).rejects.toThrow(
      'cannot start LocalCloud: ROS_LOCAL_ACCOUNTS=many: the number of accounts must be a whole number from 1 to 100',
    );
  });
});
