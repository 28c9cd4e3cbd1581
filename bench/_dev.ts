import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildOurHandler } from './bundles';
import { LocalCloud } from '../lib/local';
import { handlerPolicyDocument } from '../lib/handler/policy';
async function main() {
  const b = buildOurHandler(fs.mkdtempSync(path.join(os.tmpdir(), 'dev-')));
  const D = Number(process.argv[2] ?? 30);
  const cloud = await LocalCloud.start({ port: 0, copyDurationMs: D * 1000, progressNoise: 0.3, seed: 1 });
  cloud.putRole({
    roleName: 'r',
    assumeRolePolicyDocument: {
      Version: '1',
      Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['fc.aliyuncs.com'] } }],
    },
    policies: [handlerPolicyDocument()],
  });
  cloud.fc.createFunction('cn-shanghai', {
    functionName: 'f',
    runtime: 'nodejs20',
    handler: 'index.handler',
    zipFile: fs.readFileSync(b.zipFile).toString('base64'),
    timeout: 600,
    memorySize: 256,
    role: cloud.roleArn('r'),
  });
  const cb = cloud.createCallback();
  const t0 = Date.now();
  const event = {
    RequestType: 'Create',
    ResponseURL: cb.url,
    StackId: 's1',
    StackName: 's',
    RegionId: 'cn-shanghai',
    RequestId: 'r1',
    ResourceType: 'Custom::ImageCopy',
    LogicalResourceId: 'Copy',
    ResourceProperties: {
      SourceImageId: 'm-bp1seedgoldenimage01',
      SourceRegionId: 'cn-hangzhou',
      DestinationRegionId: 'cn-shanghai',
      ImageName: 'x-copy',
    },
  };
  await cloud.fc.invoke('cn-shanghai', 'f', Buffer.from(JSON.stringify(event)), { async: true });
  const r = await cb.response;
  console.log(r.Status, (Date.now() - t0) / 1000);
  for (const c of cloud.calls)
    console.log(((c.time - t0) / 1000).toFixed(2), c.product, c.action, c.principal, c.status);
  await cloud.fc.settled();
  await cloud.stop();
}
main();
