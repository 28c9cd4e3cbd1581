/**
 * The public API of LocalCloud (`ros-cdk-image-copy/local`): `LocalCloud` and the types and constants of what it
 * shows. Everything else under `lib/local/` is internal; docs/local-cloud.md says where each piece lives.
 */
export { LocalCloud, MAX_ACCOUNTS } from './local-cloud';
export type { AccountKey, LocalAccount } from './accounts';
export type { LocalCloudOptions } from './local-cloud';
export type { AccessKey, TemporaryCredentials, PolicyDocument, PolicyStatement } from './ram';
export type { CallInfo, CallRecord, FaultHook } from './server';
export { ApiError } from './errors';
export { StateLockedError } from './state-lock';
export { connectLocalCloud, ServedStateError } from './connect';
export type { ConnectLocalCloudOptions, LocalCloudConnection } from './connect';
export { findRunningLocalCloud } from './discovery';
export type { RunningLocalCloud, ServerInfo } from './discovery';
export type { LockHolder } from './state-lock';
export { StateFileError } from './state-schema';
export type { RoleDefinition } from './ram';
export type { Callback, CallbackOptions, CustomResourceResponse } from './callbacks';
export type { FunctionSpec, FunctionInfo, InvocationRecord, InvokeResult, InvocationHooks } from './fc';
export { FaultPlan, FaultPlanError, FAULT_KINDS } from './faults';
export type {
  FaultPlanSpec,
  FaultRule,
  FaultKind,
  FaultStats,
  FaultSelector,
  CallFaultRule,
  InjectedFault,
} from './faults';
export { ECS_REGIONS, ECS_REGION_IDS, defaultCopyDurationMs } from './ecs';
export type { EcsService, EcsOptions, EcsRegion, PutImageSpec } from './ecs';
export type { EcsImage, ImageStatus } from './ecs/images';
export type { EngineOptions, StackEngine, StackState, StackEvent } from './ros';
export type { Clock } from './clock';
export { MAX_CHANGE_SETS_PER_STACK } from './ros';
export type {
  ChangeSets,
  ChangeSetState,
  ChangeSetStatus,
  ChangeSetType,
  ExecutionStatus,
  ListChangeSetsFilter,
} from './ros';
export type {
  Change,
  ResourceChange,
  ResourceChangeDetail,
  ResourceTargetDefinition,
  Replacement,
} from './ros';
export { MAX_LAUNCH_TEMPLATES_PER_REGION, LAUNCH_TEMPLATE_PROPERTIES } from './ros';
export type { LaunchTemplate, LaunchTemplateStore } from './ros';
export type { FunctionCompute } from './fc';
export { SEEDED_IMAGES, IMAGE_STATUSES, MAX_RUNNING_COPIES_PER_REGION } from './ecs';
export {
  VARIANT_VALUES,
  VARIANT_NAMES,
  DEFAULT_VARIANTS,
  VariantError,
  resolveVariants,
  parseVariantAssignments,
  variantsFromEnvironment,
  VARIANTS_ENVIRONMENT_VARIABLE,
} from './variants';
export type { CloudVariants, VariantName } from './variants';
export { ResourceDirectoryError } from './rd';
export type { DirectoryFolder, DirectoryMember, ResourceDirectory, ResourceDirectoryOptions } from './rd';
export type {
  AutoDeployment,
  InstanceStatus,
  OperationAction,
  OperationPreferences,
  OperationResult,
  OperationState,
  OperationStatus,
  PermissionModel,
  ResourceDirectoryView,
  ResultStatus,
  StackGroupState,
  StackInstanceState,
} from './ros/stack-groups/model';
export type {
  CreateStackGroupInput,
  OperationInput,
  StackGroups,
  TargetsInput,
  UpdateStackGroupInput,
} from './ros/stack-groups/stack-groups';
export { STACK_GROUP_ADMINISTRATION_ROLE, STACK_GROUP_EXECUTION_ROLE } from './stack-group-roles';
// The types the exported classes' members name (so the API reference documents them too).
export type { RequestContext, RpcService } from './service';
export type {
  CallFaultKind,
  CloudFaultKind,
  CopyFaultRule,
  CopyInfo,
  DuplicateDeliveryRule,
  FaultPlanOptions,
  KillInvocationRule,
  ResponseUrlFailureRule,
} from './faults';
export type { EcsVariants } from './ecs/actions';
export type { StateStore } from './state';
export type { ChangeAction, ChangeAttribute, ChangeSource, RequiresRecreation } from './ros/changes';
export type {
  CreateStackInput,
  OperationListener,
  ResourceState,
  RetiredInstance,
  UpdateStackInput,
} from './ros/engine';
export type { PseudoParameters, ResolvedParameters, StackOutput, StackPlan } from './ros/template';
export type {
  OutputDefinition,
  ParameterDefinition,
  ResourceDefinition,
  RuleDefinition,
  Template,
} from './ros/template-schema';
export type { Mappings } from './ros/intrinsics';
export type { DependencyGraph } from './ros/graph';
export type { Principal } from './ram/ram';
export type { CreateChangeSetInput } from './ros/change-sets';
