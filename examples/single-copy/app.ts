/** The single-copy example app (cdk.json runs it): `npx ros-deploy deploy --local`, or `npm run synth`. */
import * as ros from '@alicloud/ros-cdk-core';
import { SingleCopyStack, singleCopyPropsFromContext } from './stack';

const app = new ros.App();
new SingleCopyStack(app, 'ImageCopyExample', singleCopyPropsFromContext(app));
app.synth();
