/** ROS stack groups in LocalCloud: the model, the operations that run them, and their API actions. */
export { stackGroupActions } from './api';
export type { StackGroupApiOptions } from './api';
export {
  DEFAULT_ADMINISTRATION_ROLE,
  DEFAULT_EXECUTION_ROLE,
  MAX_INSTANCES_PER_GROUP,
  MAX_STACK_GROUPS_PER_ACCOUNT,
} from './model';
export type {
  InstanceStatus,
  OperationState,
  OperationStatus,
  ResourceDirectoryView,
  ResultStatus,
  StackGroupState,
  StackInstanceState,
} from './model';
export type { StackGroupAccount } from './operations';
export { StackGroups } from './stack-groups';
export type { StackGroupsOptions } from './stack-groups';
