/**
 * `npm run synth`: every example stack in one app, synthesized to `cdk.out/` (or `$CDK_OUTDIR`) as the ROS CDK
 * does: one `<Stack>.template.json` per stack, `manifest.json` and `tree.json`.
 */
import * as ros from '@alicloud/ros-cdk-core';
import { DistributionStack, distributionPropsFromContext } from './distribution/stack';
import { LaunchTemplateStack, launchTemplatePropsFromContext } from './launch-template/stack';
import { ReplicationStack, replicationPropsFromContext } from './replication/stack';
import { SingleCopyStack, singleCopyPropsFromContext } from './single-copy/stack';

const app = new ros.App({ outdir: process.env.CDK_OUTDIR ?? 'cdk.out' });
new SingleCopyStack(app, 'ImageCopyExample', singleCopyPropsFromContext(app));
new ReplicationStack(app, 'ImageReplicationExample', replicationPropsFromContext(app));
new LaunchTemplateStack(app, 'LaunchTemplateExample', launchTemplatePropsFromContext(app));
new DistributionStack(app, 'ImageDistributionExample', distributionPropsFromContext(app));
const assembly = app.synth();
for (const stack of assembly.stacks) {
  console.log(`${stack.stackName}: ${assembly.directory}/${stack.templateFile}`);
}
