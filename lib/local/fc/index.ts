/** Function Compute 3.0 in LocalCloud, as the rest of LocalCloud uses it: the model, its API and their types. */

export { FcApi } from './api';
export { FunctionCompute } from './function-compute';
export type { FunctionComputeOptions } from './function-compute';
export type { FunctionInfo, FunctionSpec } from './functions';
export type { InvocationHooks, InvocationRecord, InvokeResult } from './runtime';
