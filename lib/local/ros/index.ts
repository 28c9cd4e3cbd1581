/**
 * ROS in LocalCloud, as the rest of LocalCloud uses it: the API (`RosService`), the stack engine, change sets, the
 * launch templates resources create, and the types `LocalCloud` shows of them.
 */

export { RosService } from './api';
export { ChangeSets, MAX_CHANGE_SETS_PER_STACK } from './change-sets';
export { ClientTokens } from './client-tokens';
export type {
  ChangeSetState,
  ChangeSetStatus,
  ChangeSetType,
  ExecutionStatus,
  ListChangeSetsFilter,
} from './change-sets';
export type {
  Change,
  ResourceChange,
  ResourceChangeDetail,
  ResourceTargetDefinition,
  Replacement,
} from './changes';
export { StackEngine } from './engine';
export type { EngineOptions, StackEvent, StackState } from './engine';
export { LaunchTemplateStore, MAX_LAUNCH_TEMPLATES_PER_REGION } from './launch-templates';
export type { LaunchTemplate } from './launch-templates';
export { LAUNCH_TEMPLATE_PROPERTIES } from './resources/launch-template';
export type { CloudServices } from './resources';
export { StackGroups, DEFAULT_ADMINISTRATION_ROLE, DEFAULT_EXECUTION_ROLE } from './stack-groups';
export type {
  OperationState as StackGroupOperationState,
  ResourceDirectoryView,
  StackGroupState,
  StackInstanceState,
} from './stack-groups';
