/** The organization example app: `CDK_OUTDIR=cdk.out node --require ./examples/ts-register.js examples/organization/app.ts`. */
import * as ros from '@alicloud/ros-cdk-core';
import { OrganizationStack, organizationPropsFromContext } from './stack';

const app = new ros.App();
new OrganizationStack(app, 'OrganizationExample', organizationPropsFromContext(app));
app.synth();
