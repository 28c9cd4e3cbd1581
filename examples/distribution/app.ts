/** The distribution example app: `CDK_OUTDIR=cdk.out node --require ./examples/ts-register.js examples/distribution/app.ts`. */
import * as ros from '@alicloud/ros-cdk-core';
import { DistributionStack, distributionPropsFromContext } from './stack';

const app = new ros.App();
new DistributionStack(app, 'ImageDistributionExample', distributionPropsFromContext(app));
app.synth();
