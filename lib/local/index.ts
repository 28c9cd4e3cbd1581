/**
 * The public API of LocalCloud (`ros-cdk-image-copy/local`): `LocalCloud` and the types and constants of what it
 * shows. Everything else under `lib/local/` is internal; docs/local-cloud.md says where each piece lives.
 */
export { LocalCloud, MAX_ACCOUNTS } from './local-cloud';
export type { LocalAccount } from './accounts';
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
