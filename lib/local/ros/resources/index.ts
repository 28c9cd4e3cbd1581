/**
 * The resource types LocalCloud's ROS implements, one handler each; any other type fails its resource with "Resource
 * type X is not supported by LocalCloud". The interface they implement is `handler.ts`.
 */
import { CustomResourceHandler } from './custom-resource';
import { FunctionHandler } from './function';
import type { CloudServices, ResourceHandler } from './handler';
import { LaunchTemplateHandler } from './launch-template';
import { RoleHandler } from './role';
import { StackGroupHandler } from './stack-group';
import { StackInstancesHandler } from './stack-instances';

export { requiresReplacement, ResourceError } from './handler';
export type { CloudServices, FailedCreate, ProvisionContext, Provisioned, ResourceHandler } from './handler';
export type { StackGroupPort } from './stack-group-port';

/** The handler for a resource type, or undefined when LocalCloud does not implement it. */
export function handlerFor(type: string, cloud: CloudServices): ResourceHandler | undefined {
  if (type === 'ALIYUN::RAM::Role') {
    return new RoleHandler(cloud);
  }
  if (type === 'ALIYUN::FC3::Function') {
    return new FunctionHandler(cloud);
  }
  if (type === 'ALIYUN::ROS::CustomResource' || type.startsWith('Custom::')) {
    return new CustomResourceHandler(cloud);
  }
  if (type === 'ALIYUN::ECS::LaunchTemplate') {
    return new LaunchTemplateHandler(cloud);
  }
  if (type === 'ALIYUN::ROS::StackGroup') {
    return new StackGroupHandler(cloud);
  }
  if (type === 'ALIYUN::ROS::StackInstances') {
    return new StackInstancesHandler(cloud);
  }
  return undefined;
}
