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
  StackOperationResult,
  StackOutputsResult,
  StackSource,
} from './operations';
export { diffStack, diffTemplates, formatDiff, parseTemplateBody } from './diff';
export type { DiffResult, DiffStackOptions, PropertyChange, TemplateChange } from './diff';
export { readAssembly, synthesize, assemblyStack } from './assembly';
export type { AssemblyStack, CloudAssembly, SynthOptions } from './assembly';
export { MISSING_CREDENTIALS_HELP } from './connection';
export type { AccessKeyCredentials, ConnectionOptions } from './connection';
export { DeployError } from './errors';
export type { DeployErrorCode } from './errors';
export type { DeployEvent, StackOperation } from './follow';
export type { ImageCopyProgress } from './image-progress';
export type { RetryNotice, RetryOptions } from './retry';
export type { StackEvent, StackOutput } from './stack-api';
export { runInOrder } from './order';
export {
  requiredStackTimeout,
  DEFAULT_STACK_TIMEOUT_MINUTES,
  MAX_STACK_TIMEOUT_MINUTES,
  STACK_TIMEOUT_MARGIN_MINUTES,
} from './stack-timeout';
export type { StackTimeout, TimedResource } from './stack-timeout';
export type { Ordered, RunInOrderOptions } from './order';
