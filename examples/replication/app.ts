/** The replication example app: `CDK_OUTDIR=cdk.out node --require ./examples/ts-register.js examples/replication/app.ts`. */
import * as ros from '@alicloud/ros-cdk-core';
import { ReplicationStack, replicationPropsFromContext } from './stack';

const app = new ros.App();
new ReplicationStack(app, 'ImageReplicationExample', replicationPropsFromContext(app));
app.synth();
