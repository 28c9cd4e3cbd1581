/** The launch-template example app: `CDK_OUTDIR=cdk.out node --require ./examples/ts-register.js examples/launch-template/app.ts`. */
import * as ros from '@alicloud/ros-cdk-core';
import { LaunchTemplateStack, launchTemplatePropsFromContext } from './stack';

const app = new ros.App();
new LaunchTemplateStack(app, 'LaunchTemplateExample', launchTemplatePropsFromContext(app));
app.synth();
