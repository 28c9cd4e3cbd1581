/**
 * What a resource type's handler is: the interface the stack engine drives (create, update in place or say what needs
 * replacement, delete), the context and cloud services it works with, and the property readers handlers share.
 */
import type { Callback, CallbackOptions } from '../../callbacks';
import type { Clock } from '../../clock';
import type { EcsService } from '../../ecs';
import type { FunctionCompute } from '../../fc';
import type { Ram } from '../../ram';
import type { CloudVariants } from '../../variants';
import type { LaunchTemplateStore } from '../launch-templates';
import type { StackGroupPort } from './stack-group-port';

/** A resource operation failed; `message` becomes the resource's StatusReason. */
export class ResourceError extends Error {
  constructor(
    message: string,
    /** The PhysicalResourceId a custom resource's FAILED answer carried, if any. */
    readonly answeredPhysicalId?: string,
  ) {
    super(message);
    this.name = 'ResourceError';
  }
}

/** What ROS knows of a Create that failed or was never answered, for the Delete it sends afterwards. */
export interface FailedCreate {
  /** The PhysicalResourceId the provider's FAILED answer carried (none when there was no answer, or it had none). */
  readonly answeredPhysicalId?: string;
}

/** What a resource type's handler works with. */
export interface ProvisionContext {
  readonly regionId: string;
  readonly accountId: string;
  readonly stackId: string;
  readonly stackName: string;
  readonly logicalId: string;
  readonly resourceType: string;
  /** Aborted when the stack operation times out. */
  readonly signal: AbortSignal;
  /** Seconds left before the stack operation times out. */
  readonly secondsLeft: () => number;
}

/** The cloud services resource handlers act on. */
export interface CloudServices {
  readonly ram: Ram;
  readonly fc: FunctionCompute;
  /** ECS, read-only: a launch template's image is looked up in it. */
  readonly ecs: Pick<EcsService, 'getImage'>;
  /** The ECS launch templates of the account, by region (created by `ALIYUN::ECS::LaunchTemplate`). */
  readonly launchTemplates: LaunchTemplateStore;
  /** The readings of undocumented ROS behaviours in force (`physicalIdChange`, `deleteAfterFailedCreate`, ...). */
  readonly variants: CloudVariants;
  /** ROS's clock: a custom resource's `Timeout` is measured on it. */
  readonly clock: Clock;
  createCallback(options?: CallbackOptions): Callback;
  discardCallback(id: string): void;
  /** Fault hook: how many times to deliver each custom-resource request (duplicate delivery). Default 1. */
  deliveries?(logicalId: string, requestType: string): number;
  /** The account's stack groups (`ALIYUN::ROS::StackGroup`, `ALIYUN::ROS::StackInstances`), when it has them. */
  stackGroups?(): StackGroupPort | undefined;
}

export interface Provisioned {
  readonly physicalId: string;
  /** Values for `Fn::GetAtt`. */
  readonly attributes: Record<string, unknown>;
}

/** One resource type: create, update in place (or say what needs replacement), delete. */
export interface ResourceHandler {
  create(ctx: ProvisionContext, properties: Record<string, unknown>): Promise<Provisioned>;
  /**
   * Properties whose change cannot be applied in place; a change to one of them replaces the resource. `'*'`: no
   * property can (every property of the type is documented "Editable: No").
   */
  readonly replacementProperties: readonly string[] | '*';
  update(
    ctx: ProvisionContext,
    current: Provisioned,
    properties: Record<string, unknown>,
    oldProperties: Record<string, unknown>,
  ): Promise<Provisioned>;
  /** `current` is undefined for a resource whose Create failed or was never answered (see `failedCreate`). */
  delete(
    ctx: ProvisionContext,
    current: Provisioned | undefined,
    properties: Record<string, unknown>,
    failedCreate?: FailedCreate,
  ): Promise<void>;
}

/** Whether a change to `property` replaces the resource rather than updating it in place. */
export function requiresReplacement(handler: ResourceHandler, property: string): boolean {
  return handler.replacementProperties === '*' || handler.replacementProperties.includes(property);
}

// ---------------------------------------------------------------------------------------------------------------
// Property readers: each failure names the property and what it must be.

export function requireString(p: Record<string, unknown>, name: string): string {
  const value = p[name];
  if (typeof value !== 'string' || value === '') {
    throw new ResourceError(`${name} is required and must be a string`);
  }
  return value;
}

export function optionalNumber(p: Record<string, unknown>, name: string): number | undefined {
  const value = p[name];
  if (value === undefined) {
    return undefined;
  }
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    throw new ResourceError(`${name} must be a number, got ${JSON.stringify(value)}`);
  }
  return n;
}

export function optionalList(p: Record<string, unknown>, name: string): unknown[] | undefined {
  const value = p[name];
  if (value === undefined) {
    return undefined;
  }
  if (!Array.isArray(value)) {
    throw new ResourceError(`${name} must be a list`);
  }
  return value;
}
