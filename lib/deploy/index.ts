/**
 * The deploy library (`ros-cdk-image-copy/deploy`): load a CDK app, select its stacks, and deploy, destroy or diff
 * them through the ROS API against the real cloud or LocalCloud, following each operation with live events; read a
 * stack's outputs and events. The `ros-deploy` CLI is a thin front end over these functions.
 */
export {
  deployStack,
  destroyStack,
  stackOutputs,
  stackEvents,
  resolveTemplate,
  MAX_TEMPLATE_BYTES,
} from './operations';
export type {
  DeployStackOptions,
  DestroyStackOptions,
  FailedResource,
  OperationOptions,
  ResolvedTemplate,
  StackEventWithPath,
  StackEventsOptions,
  StackOperationResult,
  StackOutputsResult,
  StackSource,
} from './operations';
export { diffStack, diffTemplates, formatDiff, parseTemplateBody, summarize } from './diff';
export type { DiffResult, DiffStackOptions, DiffSummary, PropertyChange, TemplateChange } from './diff';
export { isImageCopyResource, NOT_EDITABLE, reviewResource } from './review';
export type { Replacement, ResourceAction, ResourceReview, SecurityChange, TemplateResource } from './review';
export { APPROVAL_LEVELS, changesNeedingApproval } from './approval';
export type { ApprovalItem, ApprovalLevel } from './approval';
export { readAssembly, synthesize, assemblyStack, constructPathsOf } from './assembly';
export type { AssemblyStack, CloudAssembly, SynthOptions } from './assembly';
export { assemblyDirectory, hasApp, synthesizeApp } from './app';
export type { AppOptions, SynthesizedApp } from './app';
export { selectStacks, stackByName } from './selection';
export type { Selection, SelectOptions } from './selection';
export {
  createChangeSets,
  deployStacks,
  destroyStacks,
  diffStacks,
  discardChangeSets,
  executeChangeSets,
  stackRegions,
} from './stacks';
export { createChangeSet, formatChangeSet } from './change-sets';
export type { ChangeSet, CreateChangeSetOptions } from './change-sets';
export type { ResourceChange } from './stack-types';
export type { DeployStacksOptions, StacksOptions, StacksTarget } from './stacks';
export { initApp, SEEDED_IMAGE } from './init';
export type { InitOptions, InitResult } from './init';
export { regionResolver } from './region';
export type { RegionOptions, RegionResolver } from './region';
export { cloudTarget, localTarget, LOCAL_DEFAULT_REGION } from './target';
export type { CloudTargetOptions, LocalTargetOptions, Target } from './target';
export { MISSING_CREDENTIALS_HELP, missingCredentialsHelp } from './connection';
export type { AccessKeyCredentials, ConnectionOptions, RosConnection } from './connection';
export { missingProfile, profileRegion } from './profile';
export { DeployError, LIBRARY_WORDING, quote } from './errors';
export type { DeployErrorCode, Describe, OptionDetail, OptionName, Wording } from './errors';
export type { DeployEvent, GroupFollowing, PollInterval, StackOperation } from './follow';
export type { ImageCopyProgress } from './image-progress';
export type { RetryNotice, RetryOptions } from './retry';
export type { StackEvent, StackOutput } from './stack-types';
export { runInOrder } from './order';
export {
  failureCount,
  imageIdsOf,
  IMAGE_DISTRIBUTION_RESOURCE_TYPE,
  readGroup,
  shortAccountId,
  STACK_GROUP_RESOURCE_TYPES,
  StackGroupFollower,
  stackGroupsOf,
} from './stack-groups';
export type {
  ManagedStackGroup,
  NameContext,
  StackGroupInstance,
  StackGroupReport,
  StackInstanceFailure,
} from './stack-groups';
export { StackGroupApi } from './stack-group-api';
export type {
  StackGroupOperation,
  StackGroupOperationResult,
  StackInstanceOutput,
  StackInstanceSummary,
} from './stack-group-api';
export {
  requiredStackTimeout,
  DEFAULT_STACK_TIMEOUT_MINUTES,
  MAX_STACK_TIMEOUT_MINUTES,
  STACK_TIMEOUT_MARGIN_MINUTES,
} from './stack-timeout';
export type { StackTimeout, TimedResource } from './stack-timeout';
export type { Ordered, RunInOrderOptions } from './order';
export type { Clock } from '../clock';
