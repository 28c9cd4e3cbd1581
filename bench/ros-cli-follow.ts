/**
 * A replay of how the official ROS CDK CLI (`ros-cdk deploy --sync`) creates a stack and follows it, as documented
 * in ../shared/reference/ros-api.md §5.4 (the CLI source): look the stack up by name (`ListStacks(StackName=[name],
 * PageSize=10)`), `CreateStack` with a ClientToken, then `GetStack{RegionId, StackId}` every 1 s with a
 * `ListStackResources` table redrawn every 5 s, until the status matches /COMPLETE/ or /FAILED/; the outputs are
 * printed from the last GetStack. Throttling never happens against LocalCloud, so its 30 s back-off is left out.
 *
 * Used by benchmarks 4 and 5 as the baseline deploy loop; it talks to the same ROS API with the same SDK client
 * (`@alicloud/ros20190910`) as the deploy helper.
 */
import { randomUUID } from 'crypto';
import Ros, * as $Ros from '@alicloud/ros20190910';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import type { LocalCloud } from '../lib/local';
import { sleep } from './stats';

const GET_STACK_EVERY_MS = 1000;
const RESOURCES_EVERY_POLLS = 5;

export interface CliDeployResult {
  readonly status: string;
  readonly stackId: string;
}

export async function cliDeploy(
  cloud: LocalCloud,
  regionId: string,
  stackName: string,
  templateBody: string,
): Promise<CliDeployResult> {
  const ros = new Ros(
    new $OpenApiUtil.Config({ ...cloud.credentials, regionId, endpoint: cloud.endpoint, protocol: 'http' }),
  );
  const existing = await ros.listStacks(
    new $Ros.ListStacksRequest({ regionId, stackName: [stackName], pageSize: 10 }),
  );
  if ((existing.body?.stacks ?? []).length > 0) {
    throw new Error(`stack ${stackName} already exists in this region`);
  }
  const created = await ros.createStack(
    new $Ros.CreateStackRequest({
      regionId,
      stackName,
      templateBody,
      timeoutInMinutes: 20,
      disableRollback: false,
      clientToken: randomUUID(),
    }),
  );
  const stackId = created.body!.stackId!;
  for (let poll = 0; ; poll++) {
    const stack = await ros.getStack(new $Ros.GetStackRequest({ regionId, stackId }));
    const status = stack.body?.status ?? '';
    if (/COMPLETE/.test(status) || /FAILED/.test(status)) {
      return { status, stackId };
    }
    if (poll % RESOURCES_EVERY_POLLS === 0) {
      await ros.listStackResources(new $Ros.ListStackResourcesRequest({ regionId, stackId }));
    }
    await sleep(GET_STACK_EVERY_MS);
  }
}
