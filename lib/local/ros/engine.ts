/**
 * The ROS stack engine, the model behind the stack API: stacks in the state, and their operations run in the
 * background (create, update, delete, rollback), resources in dependency order and in parallel, each through its
 * type's handler (`resources/`), with ROS's events, statuses and outputs, NoEcho values masked, and each operation
 * bounded by the stack's timeout on ROS's clock (`operation.ts`). The template language is `template.ts`.
 */
import { randomUUID } from 'crypto';
import { isDeepStrictEqual } from 'util';
import { systemClock, type Clock } from '../clock';
import { ApiError } from '../errors';
import type { StateStore } from '../state';
import { Operation, timedOutReason } from './operation';
import {
  CloudServices,
  FailedCreate,
  handlerFor,
  Provisioned,
  ProvisionContext,
  requiresReplacement,
  ResourceError,
  ResourceHandler,
} from './resources';
import {
  createResolveContext,
  dependencies,
  MASK,
  parseTemplate,
  planStack,
  resolveOutputs,
  resolveResourceProperties,
  reverseGraph,
  StackOutput,
  StackPlan,
  Template,
  TemplateError,
} from './template';

/** A stack event, as ListStackEvents answers it. */
export interface StackEvent {
  readonly EventId: string;
  readonly StackId: string;
  readonly StackName: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId: string;
  readonly ResourceType: string;
  readonly Status: string;
  readonly StatusReason: string;
  readonly CreateTime: string;
}

export interface ResourceState {
  readonly logicalId: string;
  type: string;
  physicalId?: string;
  status: string;
  statusReason?: string;
  /** The resolved properties last applied (kept from before the Create is sent, so a Delete can follow it). */
  properties?: Record<string, unknown>;
  attributes?: Record<string, unknown>;
  createTime: string;
  updateTime?: string;
  /** The PhysicalResourceId a custom resource's FAILED answer to Create carried. */
  answeredPhysicalId?: string;
  /**
   * Instances ROS still has to delete: the old one of a replacement (deleted once the stack update succeeds), or
   * one whose Create failed or was cut off before a later operation created the resource anew. Kept in the state
   * file, so neither a restart nor a failed update loses one.
   */
  retired?: RetiredInstance[];
}

/** An instance of a resource that ROS has to delete although the resource lives on (see `ResourceState.retired`). */
export interface RetiredInstance {
  readonly physicalId?: string;
  readonly properties: Record<string, unknown>;
  readonly attributes?: Record<string, unknown>;
  readonly answeredPhysicalId?: string;
}

export interface StackState {
  readonly stackId: string;
  readonly stackName: string;
  readonly regionId: string;
  status: string;
  statusReason: string;
  readonly createTime: string;
  updateTime?: string;
  deleteTime?: string;
  templateBody: string;
  parameters: Record<string, string>;
  timeoutInMinutes: number;
  disableRollback: boolean;
  tags: { Key: string; Value: string }[];
  deletionProtection: 'Enabled' | 'Disabled';
  resources: Record<string, ResourceState>;
  /** Unmasked outputs of the last successful operation. */
  outputs: StackOutput[];
  /** NoEcho parameter names, and the values to hide wherever they might appear. */
  noEcho: string[];
  events: StackEvent[];
}

interface RosState {
  stacks: Record<string, StackState>;
}

export interface CreateStackInput {
  readonly regionId: string;
  readonly stackName: string;
  readonly templateBody: string;
  readonly parameters: Record<string, string>;
  readonly timeoutInMinutes: number;
  readonly disableRollback: boolean;
  readonly tags: { Key: string; Value: string }[];
  readonly deletionProtection: 'Enabled' | 'Disabled';
}

export interface UpdateStackInput {
  readonly regionId: string;
  readonly stackId: string;
  readonly templateBody?: string;
  readonly parameters: Record<string, string>;
  readonly usePreviousParameters: boolean;
  readonly timeoutInMinutes?: number;
  readonly disableRollback?: boolean;
  readonly replacementOption: 'Enabled' | 'Disabled';
  readonly tags?: { Key: string; Value: string }[];
}

export interface EngineOptions {
  /** How long a resource operation may take at most, whatever the template says (tests). Default: no cap. */
  readonly maxOperationSeconds?: number;
  /**
   * How long a change set takes to compute (CREATE_PENDING for the first half, CREATE_IN_PROGRESS for the
   * second), so clients wait for CREATE_COMPLETE as they must with ROS. Default 200 ms.
   */
  readonly changeSetCreationMs?: number;
  /**
   * ROS's clock: stack timeouts, custom resources' `Timeout`, change-set computation, the times stacks, events and
   * change sets show, ClientToken lifetimes. Tests give one they move forward. Default: the system clock.
   */
  readonly clock?: Clock;
}

/**
 * `TimeoutInMinutes` of an operation that does not give it: "Default value: 60", 10 to 1440 allowed
 * (`@alicloud/ros20190910` CreateStackRequest, UpdateStackRequest, CreateChangeSetRequest).
 */
export const DEFAULT_TIMEOUT_IN_MINUTES = 60;

/** Statuses from which UpdateStack may start (ROS documentation). */
export const UPDATABLE_STATUSES = [
  'CREATE_COMPLETE',
  'UPDATE_FAILED',
  'UPDATE_COMPLETE',
  'ROLLBACK_COMPLETE',
  'ROLLBACK_FAILED',
  'IMPORT_CREATE_COMPLETE',
  'IMPORT_UPDATE_COMPLETE',
  'IMPORT_UPDATE_FAILED',
  'IMPORT_UPDATE_ROLLBACK_COMPLETE',
  'IMPORT_UPDATE_ROLLBACK_FAILED',
  'CHECK_FAILED',
  'CHECK_COMPLETE',
];

const STACK_TYPE = 'ALIYUN::ROS::Stack';

/** The status of a stack a CREATE change set made, until the change set is executed (ROS CreateChangeSet). */
export const REVIEW_STATUS = 'REVIEW_IN_PROGRESS';

/** Told when a stack operation has ended (the stack's status says how). */
export type OperationListener = (stack: StackState) => void;

/** Runs stack operations in the background: resources in dependency order, in parallel, with events. */
export class StackEngine {
  private readonly state: RosState;
  private readonly running = new Set<Promise<void>>();
  private readonly clock: Clock;

  constructor(
    private readonly store: StateStore,
    private readonly accountId: string,
    private readonly cloud: CloudServices,
    private readonly options: EngineOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.state = store.section<RosState>('ros', () => ({ stacks: {} }));
    this.recoverInterrupted();
  }

  /** Resolves when no stack operation is running. */
  async settled(): Promise<void> {
    while (this.running.size > 0) {
      await Promise.allSettled([...this.running]);
    }
  }

  stacks(regionId: string): StackState[] {
    return Object.values(this.state.stacks).filter((s) => s.regionId === regionId);
  }

  /** A stack by id in a region; throws `StackNotFound`. Deleted stacks stay visible with DELETE_COMPLETE. */
  get(regionId: string, stackId: string): StackState {
    const stack = this.state.stacks[stackId];
    if (!stack || stack.regionId !== regionId) {
      throw new ApiError('StackNotFound', `The Stack (${stackId}) could not be found.`, 404);
    }
    return stack;
  }

  /** Creates a stack and starts its creation; `onFinished` is told when the operation has ended, however it ended. */
  create(input: CreateStackInput, onFinished?: OperationListener): StackState {
    const { stack, template, plan } = this.newStack(input, 'CREATE_IN_PROGRESS', 'Stack CREATE started');
    this.background(this.runCreate(stack, template, plan), () => onFinished?.(stack));
    return stack;
  }

  /**
   * Makes a stack in REVIEW_IN_PROGRESS for a CREATE change set (ROS CreateChangeSet reference): it has the template
   * and parameters (checked as CreateStack checks them) but no resources, until `executeReview` creates it.
   */
  review(input: CreateStackInput): StackState {
    return this.newStack(input, REVIEW_STATUS, 'Stack REVIEW started').stack;
  }

  /** Creates a stack that is in REVIEW_IN_PROGRESS, with the settings its CREATE change set carries. */
  executeReview(
    regionId: string,
    stackId: string,
    settings: Pick<CreateStackInput, 'parameters' | 'timeoutInMinutes' | 'disableRollback' | 'tags'>,
    onFinished?: OperationListener,
  ): StackState {
    const stack = this.get(regionId, stackId);
    if (stack.status !== REVIEW_STATUS) {
      throw new ApiError(
        'NotSupported',
        `Stack ${stack.stackName} is ${stack.status}, not ${REVIEW_STATUS}: only a stack a CREATE change set made can be created from one.`,
        400,
      );
    }
    const template = parse(stack.templateBody);
    const plan = this.plan(template, settings.parameters, stack.regionId, stack.stackId, stack.stackName);
    stack.parameters = settings.parameters;
    stack.timeoutInMinutes = settings.timeoutInMinutes;
    stack.disableRollback = settings.disableRollback;
    stack.tags = settings.tags;
    stack.noEcho = noEchoValues(plan);
    this.setStatus(stack, 'CREATE_IN_PROGRESS', 'Stack CREATE started');
    this.background(this.runCreate(stack, template, plan), () => onFinished?.(stack));
    return stack;
  }

  /** The template and plan of `templateBody` with `parameters` for an existing stack (`InvalidTemplate`, ...). */
  planFor(
    stack: StackState,
    templateBody: string,
    parameters: Record<string, string>,
  ): { template: Template; plan: StackPlan } {
    const template = parse(templateBody);
    return {
      template,
      plan: this.plan(template, parameters, stack.regionId, stack.stackId, stack.stackName),
    };
  }

  /**
   * Whether an update with this template, parameters and tags would change nothing (UpdateStack answers
   * `NotSupported` then: "Update the completely same stack ... is not supported").
   */
  isUnchanged(
    stack: StackState,
    template: Template,
    plan: StackPlan,
    tags: { Key: string; Value: string }[] | undefined,
  ): boolean {
    const current = this.planFor(stack, stack.templateBody, stack.parameters);
    return (
      isDeepStrictEqual(template, current.template) &&
      isDeepStrictEqual(plan.parameters.strings, current.plan.parameters.strings) &&
      (tags === undefined || isDeepStrictEqual(tags, stack.tags))
    );
  }

  /** Refuses (`ActionInProgress`, `NotSupported`) when the stack cannot be updated now. */
  checkUpdatable(stack: StackState): void {
    this.refuseWhileBusy(stack);
    if (!UPDATABLE_STATUSES.includes(stack.status)) {
      throw new ApiError(
        'NotSupported',
        `Stack ${stack.stackName} in status ${stack.status} cannot be updated; ` +
          (stack.status.startsWith('CREATE')
            ? 'delete it and create it again.'
            : 'only stacks in a completed state can.'),
        400,
      );
    }
  }

  /** Keeps `work` (a change set being computed, say) among what `settled()` waits for. */
  track(work: Promise<void>): void {
    const tracked = work.catch(() => undefined);
    this.running.add(tracked);
    void tracked.finally(() => this.running.delete(tracked));
  }

  private newStack(
    input: CreateStackInput,
    status: string,
    reason: string,
  ): { stack: StackState; template: Template; plan: StackPlan } {
    const live = this.stacks(input.regionId).find(
      (s) => s.stackName === input.stackName && s.status !== 'DELETE_COMPLETE',
    );
    if (live) {
      throw new ApiError('StackExists', `The Stack (${input.stackName}) already exists`, 409);
    }
    const stackId = randomUUID();
    const template = parse(input.templateBody);
    const plan = this.plan(template, input.parameters, input.regionId, stackId, input.stackName);
    const stack: StackState = {
      stackId,
      stackName: input.stackName,
      regionId: input.regionId,
      status,
      statusReason: reason,
      createTime: this.timestamp(),
      templateBody: input.templateBody,
      parameters: input.parameters,
      timeoutInMinutes: input.timeoutInMinutes,
      disableRollback: input.disableRollback,
      tags: input.tags,
      deletionProtection: input.deletionProtection,
      resources: {},
      outputs: [],
      noEcho: noEchoValues(plan),
      events: [],
    };
    this.state.stacks[stackId] = stack;
    this.stackEvent(stack, status, reason);
    return { stack, template, plan };
  }

  /** Starts an update; `onFinished` is told when the operation has ended, however it ended. */
  update(input: UpdateStackInput, onFinished?: OperationListener): StackState {
    const stack = this.get(input.regionId, input.stackId);
    this.checkUpdatable(stack);
    const templateBody = input.templateBody ?? stack.templateBody;
    const parameters = input.usePreviousParameters
      ? { ...stack.parameters, ...input.parameters }
      : input.parameters;
    const { template, plan } = this.planFor(stack, templateBody, parameters);
    if (this.isUnchanged(stack, template, plan, input.tags)) {
      throw new ApiError(
        'NotSupported',
        `Update the completely same stack ${stack.stackName} is not supported`,
        400,
      );
    }
    const previous = { templateBody: stack.templateBody, parameters: stack.parameters, noEcho: stack.noEcho };
    stack.templateBody = templateBody;
    stack.parameters = parameters;
    stack.noEcho = noEchoValues(plan);
    if (input.timeoutInMinutes !== undefined) {
      stack.timeoutInMinutes = input.timeoutInMinutes;
    }
    if (input.disableRollback !== undefined) {
      stack.disableRollback = input.disableRollback;
    }
    if (input.tags !== undefined) {
      stack.tags = input.tags;
    }
    this.setStatus(stack, 'UPDATE_IN_PROGRESS', 'Stack UPDATE started');
    stack.updateTime = this.timestamp();
    this.background(this.runUpdate(stack, template, plan, previous, input.replacementOption), () =>
      onFinished?.(stack),
    );
    return stack;
  }

  /** Starts a deletion; `onFinished` is told when the operation has ended, however it ended. */
  delete(
    regionId: string,
    stackId: string,
    retain: { all: boolean; resources: string[] },
    onFinished?: OperationListener,
  ): void {
    const stack = this.get(regionId, stackId);
    if (stack.status === 'DELETE_COMPLETE') {
      return;
    }
    // A stack a CREATE change set made is deleted while it waits for review (ROS: "you can delete the stack").
    if (stack.status !== REVIEW_STATUS) {
      this.refuseWhileBusy(stack);
    }
    if (stack.deletionProtection === 'Enabled') {
      throw new ApiError(
        'DeletionProtectionEnabled',
        `Stack ${stack.stackName} has deletion protection enabled.`,
        400,
      );
    }
    this.setStatus(stack, 'DELETE_IN_PROGRESS', 'Stack DELETE started');
    this.background(this.runDelete(stack, retain), () => onFinished?.(stack));
  }

  /** A stack's outputs as GetStack shows them (NoEcho masked). */
  visibleOutputs(stack: StackState): StackOutput[] {
    // An output marked NoEcho, or one whose value shows a NoEcho parameter, is masked.
    const showsSecret = (value: unknown) =>
      stack.noEcho.some((secret) => secret !== '' && JSON.stringify(value ?? null).includes(secret));
    return stack.outputs.map((o) =>
      o.NoEcho || showsSecret(o.OutputValue) ? { ...o, OutputValue: MASK } : o,
    );
  }

  /** The template of a stack as parsed, for the API. */
  template(stack: StackState): Template {
    return parse(stack.templateBody);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Operations

  private async runCreate(stack: StackState, template: Template, plan: StackPlan): Promise<void> {
    const op = this.operation(stack);
    try {
      const failure = await this.walk(
        plan.resources,
        (id) => [...(plan.graph.get(id) ?? [])],
        op,
        (id) => this.createResource(stack, template, plan, id, op),
      );
      if (!failure) {
        const note = this.finishOutputs(stack, template, plan);
        return this.setStatus(stack, 'CREATE_COMPLETE', `Stack CREATE completed successfully${note}`);
      }
      const reason = op.timedOut ? timedOutReason('CREATE', op) : failure;
      if (stack.disableRollback) {
        return this.setStatus(stack, 'CREATE_FAILED', reason);
      }
      this.setStatus(stack, 'CREATE_ROLLBACK_IN_PROGRESS', reason);
      const rollback = this.operation(stack);
      const rollbackFailure = await this.deleteResources(
        stack,
        this.existing(stack),
        reverseGraph(plan.graph),
        rollback,
      );
      op.dispose();
      rollback.dispose();
      this.setStatus(
        stack,
        rollbackFailure ? 'CREATE_ROLLBACK_FAILED' : 'CREATE_ROLLBACK_COMPLETE',
        rollbackFailure ?? `Stack CREATE failed and was rolled back: ${reason}`,
      );
    } finally {
      op.dispose();
    }
  }

  private async runUpdate(
    stack: StackState,
    template: Template,
    plan: StackPlan,
    previous: { templateBody: string; parameters: Record<string, string>; noEcho: string[] },
    replacementOption: 'Enabled' | 'Disabled',
  ): Promise<void> {
    const op = this.operation(stack);
    const oldTemplate = parse(previous.templateBody);
    const oldPlan = this.plan(
      oldTemplate,
      previous.parameters,
      stack.regionId,
      stack.stackId,
      stack.stackName,
    );
    /** What the update did to each resource, to clean up after success or undo on failure. */
    const changes = new Map<string, Change>();
    try {
      const failure = await this.walk(
        plan.resources,
        (id) => [...(plan.graph.get(id) ?? [])],
        op,
        (id) => this.updateResource(stack, template, plan, id, op, replacementOption, changes),
      );
      if (!failure) {
        // Cleanup: resources removed from the template, and the old instances of replaced ones, dependents first.
        const removed = Object.keys(stack.resources).filter((id) => !plan.resources.includes(id));
        const cleanup = this.operation(stack);
        const cleanupFailure = await this.deleteResources(
          stack,
          removed,
          reverseGraph(oldPlan.graph),
          cleanup,
        );
        await this.deleteRetiredInstances(stack, reverseGraph(plan.graph), cleanup);
        cleanup.dispose();
        if (cleanupFailure) {
          return this.setStatus(stack, 'UPDATE_FAILED', cleanupFailure);
        }
        const note = this.finishOutputs(stack, template, plan);
        return this.setStatus(stack, 'UPDATE_COMPLETE', `Stack UPDATE completed successfully${note}`);
      }
      const reason = op.timedOut ? timedOutReason('UPDATE', op) : failure;
      if (stack.disableRollback) {
        return this.setStatus(stack, 'UPDATE_FAILED', reason);
      }
      this.setStatus(stack, 'ROLLBACK_IN_PROGRESS', reason);
      stack.templateBody = previous.templateBody;
      stack.parameters = previous.parameters;
      stack.noEcho = previous.noEcho;
      const rollback = this.operation(stack);
      const rollbackFailure = await this.undo(stack, oldTemplate, oldPlan, plan, changes, rollback);
      rollback.dispose();
      this.setStatus(
        stack,
        rollbackFailure ? 'ROLLBACK_FAILED' : 'ROLLBACK_COMPLETE',
        rollbackFailure ?? `Stack UPDATE failed and was rolled back: ${reason}`,
      );
    } finally {
      op.dispose();
    }
  }

  private async runDelete(stack: StackState, retain: { all: boolean; resources: string[] }): Promise<void> {
    const template = parse(stack.templateBody);
    const ids = Object.keys(stack.resources);
    const graph = reverseGraph(
      dependencies(
        template,
        ids.filter((id) => template.Resources[id]),
      ),
    );
    const op = this.operation(stack);
    const failure = await this.deleteResources(
      stack,
      ids,
      graph,
      op,
      (id) =>
        retain.all || retain.resources.includes(id) || template.Resources[id]?.DeletionPolicy === 'Retain',
    );
    op.dispose();
    if (failure) {
      return this.setStatus(stack, 'DELETE_FAILED', op.timedOut ? timedOutReason('DELETE', op) : failure);
    }
    stack.deleteTime = this.timestamp();
    this.setStatus(stack, 'DELETE_COMPLETE', 'Stack DELETE completed successfully');
  }

  // -------------------------------------------------------------------------------------------------------------
  // Resources

  /** Creates resource `id` anew; `retired` are instances the new record must still delete (see ResourceState). */
  private async createResource(
    stack: StackState,
    template: Template,
    plan: StackPlan,
    id: string,
    op: Operation,
    retired?: RetiredInstance[],
  ) {
    const type = template.Resources[id].Type;
    const record: ResourceState = {
      logicalId: id,
      type,
      status: 'CREATE_IN_PROGRESS',
      createTime: this.timestamp(),
      ...(retired && retired.length > 0 && { retired }),
    };
    stack.resources[id] = record;
    this.resourceEvent(stack, record, 'CREATE_IN_PROGRESS', 'state changed');
    try {
      const handler = this.handler(type);
      const properties = resolveResourceProperties(template, id, this.resolver(stack, template, plan));
      record.properties = properties;
      // Persisted before the request goes out: if LocalCloud stops now, a later delete still sends its Delete.
      this.store.changed();
      const result = await handler.create(this.context(stack, id, type, op), properties);
      record.physicalId = result.physicalId;
      record.attributes = result.attributes;
      this.resourceEvent(stack, record, 'CREATE_COMPLETE', 'state changed');
    } catch (err) {
      if (err instanceof ResourceError && err.answeredPhysicalId !== undefined) {
        record.answeredPhysicalId = err.answeredPhysicalId;
      }
      this.resourceEvent(stack, record, 'CREATE_FAILED', reasonOf(err, op));
      throw err;
    }
  }

  private async updateResource(
    stack: StackState,
    template: Template,
    plan: StackPlan,
    id: string,
    op: Operation,
    replacementOption: 'Enabled' | 'Disabled',
    changes: Map<string, Change>,
  ): Promise<void> {
    const existing = stack.resources[id];
    if (!existing || !existing.physicalId || existing.status.startsWith('DELETE_COMPLETE')) {
      changes.set(id, { kind: 'created' });
      // A resource whose Create failed or was cut off (by a failed update, or LocalCloud stopping) may have
      // started something: it is deleted with the rest once this operation succeeds.
      const retired = [...(existing?.retired ?? [])];
      if (existing?.properties && !existing.status.startsWith('DELETE_COMPLETE')) {
        retired.push(retiredInstance(existing));
      }
      return this.createResource(stack, template, plan, id, op, retired);
    }
    const type = template.Resources[id].Type;
    const properties = resolveResourceProperties(template, id, this.resolver(stack, template, plan));
    if (type === existing.type && isDeepStrictEqual(properties, existing.properties)) {
      return;
    }
    const handler = this.handler(type);
    const changed = Object.keys({ ...properties, ...existing.properties }).filter(
      (key) => !isDeepStrictEqual(properties[key], existing.properties?.[key]),
    );
    const replace = type !== existing.type || changed.some((key) => requiresReplacement(handler, key));
    const before = snapshot(existing);
    if (replace) {
      if (replacementOption !== 'Enabled') {
        const reason =
          type !== existing.type
            ? `the type changed from ${existing.type} to ${type}`
            : `${changed.filter((k) => requiresReplacement(handler, k)).join(', ')} cannot be updated in place`;
        const message = `Update of resource ${id} requires replacement: ${reason}; update the stack with ReplacementOption=Enabled`;
        this.resourceEvent(stack, existing, 'UPDATE_FAILED', message);
        throw new ResourceError(message);
      }
      if (this.cloud.variants.replacementOrder === 'delete-first') {
        // "Replacement update deletes the resource and then recreates it" (UpdateStack, ReplacementOption).
        const change: Change = { kind: 'replaced', before, order: 'delete-first', oldDeleted: false };
        changes.set(id, change);
        await this.deleteOne(stack, existing, op);
        change.oldDeleted = true;
        return this.createResource(stack, template, plan, id, op, existing.retired);
      }
      // Create the new resource first; the old one is deleted once the stack update succeeded.
      changes.set(id, { kind: 'replaced', before, order: 'create-first' });
      return this.createResource(stack, template, plan, id, op, [
        ...(existing.retired ?? []),
        retiredInstance(existing),
      ]);
    }
    changes.set(id, { kind: 'updated', before, attempted: properties });
    existing.updateTime = this.timestamp();
    this.resourceEvent(stack, existing, 'UPDATE_IN_PROGRESS', 'state changed');
    try {
      const result = await handler.update(
        this.context(stack, id, type, op),
        provisioned(existing),
        properties,
        existing.properties ?? {},
      );
      if (result.physicalId !== existing.physicalId) {
        // The provider replaced the resource (a custom resource answered with a new id, `physicalIdChange:
        // replace`): the old id is deleted in the cleanup phase, as CloudFormation does.
        changes.set(id, { kind: 'replaced', before, attempted: properties, order: 'create-first' });
        existing.retired = [...(existing.retired ?? []), retiredInstance(existing)];
      }
      existing.physicalId = result.physicalId;
      existing.attributes = result.attributes;
      existing.properties = properties;
      this.resourceEvent(stack, existing, 'UPDATE_COMPLETE', 'state changed');
    } catch (err) {
      this.resourceEvent(stack, existing, 'UPDATE_FAILED', reasonOf(err, op));
      throw err;
    }
  }

  /** Undoes an update that failed: new resources deleted, updated ones updated back, replacements dropped. */
  private async undo(
    stack: StackState,
    oldTemplate: Template,
    oldPlan: StackPlan,
    newPlan: StackPlan,
    changes: Map<string, Change>,
    op: Operation,
  ): Promise<string | undefined> {
    const created = [...changes].filter(([, c]) => c.kind === 'created').map(([id]) => id);
    let failure = await this.deleteResources(stack, created, reverseGraph(newPlan.graph), op);
    for (const [id, change] of changes) {
      if (change.kind === 'created' || !change.before) {
        continue;
      }
      const current = stack.resources[id];
      try {
        if (change.kind === 'replaced') {
          failure ??= await this.undoReplacement(stack, oldTemplate, oldPlan, id, change, op);
          continue;
        }
        const properties = resolveResourceProperties(
          oldTemplate,
          id,
          this.resolver(stack, oldTemplate, oldPlan),
        );
        this.resourceEvent(stack, current, 'UPDATE_IN_PROGRESS', 'rollback');
        const handler = this.handler(current.type);
        const result = await handler.update(
          this.context(stack, id, current.type, op),
          provisioned(current),
          properties,
          change.attempted ?? current.properties ?? {},
        );
        current.physicalId = result.physicalId;
        current.attributes = result.attributes;
        current.properties = properties;
        this.resourceEvent(stack, current, 'UPDATE_COMPLETE', 'rollback');
      } catch (err) {
        failure ??= `Rollback of ${id} failed: ${reasonOf(err, op)}`;
        this.resourceEvent(stack, current, 'UPDATE_FAILED', reasonOf(err, op));
      }
    }
    return failure;
  }

  /**
   * Rolls a replacement back. The new resource (replacement or failed Create alike) is deleted. Then the old one is
   * back: as it was when it had not been deleted yet (create-first, or a delete-first whose Delete failed), or
   * created again from the old template when it had been (delete-first).
   */
  private async undoReplacement(
    stack: StackState,
    oldTemplate: Template,
    oldPlan: StackPlan,
    id: string,
    change: Change,
    op: Operation,
  ): Promise<string | undefined> {
    const before = change.before!;
    const current = stack.resources[id];
    const isOld = current.physicalId === before.physicalId && !current.status.startsWith('CREATE');
    const retired = (current.retired ?? []).filter((r) => r.physicalId !== before.physicalId);
    if (!isOld && current.properties) {
      await this.deleteOne(stack, current, op);
    }
    if (change.oldDeleted) {
      try {
        await this.createResource(stack, oldTemplate, oldPlan, id, op, retired);
      } catch (err) {
        return `Rollback of ${id} failed: ${reasonOf(err, op)}`;
      }
      return undefined;
    }
    stack.resources[id] = {
      ...current,
      ...before,
      retired: retired.length > 0 ? retired : undefined,
      status: 'UPDATE_COMPLETE',
      updateTime: this.timestamp(),
    };
    this.resourceEvent(stack, stack.resources[id], 'UPDATE_COMPLETE', 'rolled back to the previous resource');
    return undefined;
  }

  /**
   * Deletes the retired instances of every resource (after a successful update), dependents first, as the cleanup
   * of removed resources goes: an old resource another old one depended on (a stack group and its old instances) is
   * deleted after it. A failure is only an event.
   */
  private async deleteRetiredInstances(
    stack: StackState,
    dependents: Map<string, Set<string>>,
    op: Operation,
  ): Promise<void> {
    const ids = Object.keys(stack.resources).filter((id) => (stack.resources[id].retired?.length ?? 0) > 0);
    await this.walk(
      ids,
      (id) => [...(dependents.get(id) ?? [])].filter((d) => ids.includes(d)),
      op,
      async (id) => {
        try {
          await this.deleteRetired(stack, stack.resources[id], op);
        } catch {
          // The event records the failure; the new resource is in place, so the update itself succeeded.
        }
      },
      { continueAfterFailure: true },
    );
  }

  /** Sends the Delete of each retired instance of `record`, forgetting each once it is deleted. */
  private async deleteRetired(stack: StackState, record: ResourceState, op: Operation): Promise<void> {
    for (const instance of [...(record.retired ?? [])]) {
      const old: ResourceState = {
        ...record,
        physicalId: instance.physicalId,
        properties: instance.properties,
        attributes: instance.attributes,
        answeredPhysicalId: instance.answeredPhysicalId,
        retired: undefined,
        status: 'DELETE_IN_PROGRESS',
      };
      await this.deleteOne(stack, old, op);
      record.retired = record.retired?.filter((r) => r !== instance);
      if (record.retired?.length === 0) {
        delete record.retired;
      }
      this.store.changed();
    }
  }

  /** Deletes `ids` (those that exist) dependents first; returns the first failure's reason. */
  private async deleteResources(
    stack: StackState,
    ids: string[],
    dependents: Map<string, Set<string>>,
    op: Operation,
    retain: (id: string) => boolean = () => false,
  ): Promise<string | undefined> {
    const targets = ids.filter(
      (id) => stack.resources[id] && stack.resources[id].status !== 'DELETE_COMPLETE',
    );
    const failure = await this.walk(
      targets,
      (id) => [...(dependents.get(id) ?? [])].filter((d) => targets.includes(d)),
      op,
      async (id) => {
        const record = stack.resources[id];
        if (retain(id)) {
          this.resourceEvent(stack, record, 'DELETE_SKIPPED', 'DeletionPolicy Retain or RetainResources');
          delete stack.resources[id];
          return;
        }
        await this.deleteRetired(stack, record, op);
        await this.deleteOne(stack, record, op);
        delete stack.resources[id];
        this.store.changed();
      },
      { continueAfterFailure: true },
    );
    return failure;
  }

  private async deleteOne(stack: StackState, record: ResourceState, op: Operation): Promise<void> {
    this.resourceEvent(stack, record, 'DELETE_IN_PROGRESS', 'state changed');
    try {
      const handler = handlerFor(record.type, this.cloud);
      // A resource LocalCloud could not create has nothing to delete.
      if (handler && record.properties) {
        const exists = record.physicalId !== undefined;
        const failedCreate: FailedCreate = { answeredPhysicalId: record.answeredPhysicalId };
        await handler.delete(
          this.context(stack, record.logicalId, record.type, op),
          exists ? provisioned(record) : undefined,
          record.properties,
          failedCreate,
        );
      }
      this.resourceEvent(stack, record, 'DELETE_COMPLETE', 'state changed');
    } catch (err) {
      this.resourceEvent(stack, record, 'DELETE_FAILED', reasonOf(err, op));
      throw err;
    }
  }

  /**
   * Runs `action` on every id once its prerequisites are done, in parallel. After a failure nothing new starts
   * (unless `continueAfterFailure`, used for deletes); returns the first failure's reason.
   */
  private async walk(
    ids: string[],
    prerequisites: (id: string) => string[],
    op: Operation,
    action: (id: string) => Promise<void>,
    options: { continueAfterFailure?: boolean } = {},
  ): Promise<string | undefined> {
    const done = new Set<string>();
    const failed = new Set<string>();
    const running = new Map<string, Promise<void>>();
    let firstFailure: string | undefined;
    for (;;) {
      const stop = (firstFailure !== undefined && !options.continueAfterFailure) || op.timedOut;
      if (!stop) {
        for (const id of ids) {
          if (done.has(id) || failed.has(id) || running.has(id)) {
            continue;
          }
          const before = prerequisites(id).filter((p) => ids.includes(p));
          if (before.some((p) => failed.has(p))) {
            failed.add(id);
          } else if (before.every((p) => done.has(p))) {
            running.set(
              id,
              action(id).then(
                () => {
                  done.add(id);
                  running.delete(id);
                },
                (err: unknown) => {
                  failed.add(id);
                  running.delete(id);
                  firstFailure ??= `Resource ${id} failed: ${reasonOf(err, op)}`;
                },
              ),
            );
          }
        }
      }
      if (running.size === 0) {
        break;
      }
      await Promise.race(running.values());
    }
    if (op.timedOut && !firstFailure && done.size < ids.length) {
      firstFailure = `the stack's timeout (${op.describeLimit()}) passed`;
    }
    return firstFailure;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Helpers

  private handler(type: string): ResourceHandler {
    const handler = handlerFor(type, this.cloud);
    if (!handler) {
      throw new ResourceError(`Resource type ${type} is not supported by LocalCloud`);
    }
    return handler;
  }

  private plan(
    template: Template,
    parameters: Record<string, string>,
    region: string,
    stackId: string,
    stackName: string,
  ) {
    try {
      return planStack(template, parameters, { region, accountId: this.accountId, stackId, stackName });
    } catch (err) {
      throw templateApiError(err);
    }
  }

  private resolver(stack: StackState, template: Template, plan: StackPlan) {
    return createResolveContext({
      template,
      parameters: plan.parameters,
      conditions: plan.conditions,
      ref: (id) => {
        const r = stack.resources[id];
        if (!r?.physicalId) {
          throw new ResourceError(`Resource ${id} is not created yet`);
        }
        return r.physicalId;
      },
      getAtt: (id, attribute) => {
        const r = stack.resources[id];
        if (!r?.attributes) {
          throw new ResourceError(`Resource ${id} is not created yet`);
        }
        if (!(attribute in r.attributes)) {
          throw new ResourceError(`Resource ${id} (${r.type}) has no attribute ${attribute}`);
        }
        return r.attributes[attribute];
      },
    });
  }

  /**
   * Resolves the outputs at the end of an operation, each on its own: one that cannot be resolved is left out and
   * named in the returned note (for the status reason), the others are kept.
   */
  private finishOutputs(stack: StackState, template: Template, plan: StackPlan): string {
    const resolver = this.resolver(stack, template, plan);
    const outputs: StackOutput[] = [];
    const failures: string[] = [];
    for (const [key, output] of Object.entries(template.Outputs)) {
      try {
        const one = { ...template, Outputs: { [key]: output } };
        outputs.push(...resolveOutputs(one, resolver, plan.conditions, { unmasked: true }));
      } catch (err) {
        failures.push(`${key}: ${(err as Error).message}`);
      }
    }
    stack.outputs = outputs;
    return failures.length > 0 ? `; outputs that could not be resolved: ${failures.join('; ')}` : '';
  }

  private existing(stack: StackState): string[] {
    return Object.keys(stack.resources);
  }

  private context(
    stack: StackState,
    logicalId: string,
    resourceType: string,
    op: Operation,
  ): ProvisionContext {
    return {
      regionId: stack.regionId,
      accountId: this.accountId,
      stackId: stack.stackId,
      stackName: stack.stackName,
      logicalId,
      resourceType,
      signal: op.signal,
      secondsLeft: () => op.secondsLeft(),
    };
  }

  private operation(stack: StackState): Operation {
    const cap = this.options.maxOperationSeconds;
    const seconds = Math.min(stack.timeoutInMinutes * 60, cap ?? Infinity);
    return new Operation(seconds, stack.timeoutInMinutes, this.clock);
  }

  /** Now on ROS's clock, in ROS's time format. */
  private timestamp(): string {
    return rosTime(this.clock.now());
  }

  private refuseWhileBusy(stack: StackState): void {
    if (stack.status.endsWith('_IN_PROGRESS')) {
      const action = stack.status.replace(/_IN_PROGRESS$/, '');
      throw new ApiError(
        'ActionInProgress',
        `Stack ${stack.stackName} already has an action (${action}) in progress.`,
        409,
      );
    }
  }

  private background(work: Promise<void>, after?: () => void): void {
    const tracked = work
      .catch((err: unknown) => {
        // An engine bug must not leave a stack in progress forever.
        for (const stack of Object.values(this.state.stacks)) {
          if (stack.status.endsWith('_IN_PROGRESS')) {
            this.setStatus(
              stack,
              stack.status.replace(/_IN_PROGRESS$/, '_FAILED'),
              `LocalCloud internal error: ${String(err)}`,
            );
          }
        }
      })
      .then(after);
    this.running.add(tracked);
    void tracked.finally(() => this.running.delete(tracked));
  }

  private recoverInterrupted(): void {
    for (const stack of Object.values(this.state.stacks)) {
      // A stack waiting for its CREATE change set runs nothing: it waits on across a restart.
      if (!stack.status.endsWith('_IN_PROGRESS') || stack.status === REVIEW_STATUS) {
        continue;
      }
      const failed = stack.status.replace(/_IN_PROGRESS$/, '_FAILED');
      // In the real cloud the operation would go on; a LocalCloud started again cannot carry it on.
      this.setStatus(
        stack,
        failed,
        'LocalCloud stopped while this operation was in progress (it cannot carry it on as ROS would); ' +
          (failed.startsWith('CREATE') ? 'delete the stack to go on' : 'update or delete the stack to go on'),
      );
      for (const r of Object.values(stack.resources)) {
        if (r.status.endsWith('_IN_PROGRESS')) {
          this.resourceEvent(stack, r, r.status.replace(/_IN_PROGRESS$/, '_FAILED'), 'LocalCloud stopped');
        }
      }
    }
  }

  private setStatus(stack: StackState, status: string, reason: string): void {
    stack.status = status;
    stack.statusReason = this.mask(stack, reason);
    this.stackEvent(stack, status, reason);
  }

  private stackEvent(stack: StackState, status: string, reason: string): void {
    this.event(stack, stack.stackName, stack.stackId, STACK_TYPE, status, reason);
  }

  private resourceEvent(stack: StackState, record: ResourceState, status: string, reason: string): void {
    record.status = status;
    record.statusReason = this.mask(stack, reason);
    this.event(stack, record.logicalId, record.physicalId ?? '', record.type, status, reason);
  }

  private event(
    stack: StackState,
    logicalId: string,
    physicalId: string,
    type: string,
    status: string,
    reason: string,
  ) {
    stack.events.push({
      EventId: randomUUID(),
      StackId: stack.stackId,
      StackName: stack.stackName,
      LogicalResourceId: logicalId,
      PhysicalResourceId: physicalId,
      ResourceType: type,
      Status: status,
      StatusReason: this.mask(stack, reason),
      CreateTime: this.timestamp(),
    });
    this.store.changed();
  }

  /** Hides NoEcho parameter values in texts that leave LocalCloud (reasons, events). */
  private mask(stack: StackState, text: string): string {
    return stack.noEcho.reduce((out, secret) => (secret ? out.split(secret).join(MASK) : out), text);
  }
}

interface Change {
  kind: 'created' | 'updated' | 'replaced';
  before?: Pick<ResourceState, 'physicalId' | 'properties' | 'attributes'>;
  /** The properties an in-place update asked for; a rollback sends them as the old properties. */
  attempted?: Record<string, unknown>;
  /** A replacement: which came first (`replacementOrder`), and whether the old resource is deleted already. */
  order?: 'create-first' | 'delete-first';
  oldDeleted?: boolean;
}

function parse(body: string): Template {
  try {
    return parseTemplate(body);
  } catch (err) {
    throw templateApiError(err);
  }
}

function templateApiError(err: unknown): ApiError {
  if (err instanceof TemplateError) {
    return new ApiError(
      err.code === 'InvalidParameter' ? 'InvalidParameter' : 'InvalidTemplate',
      err.message,
      400,
    );
  }
  throw err;
}

function noEchoValues(plan: StackPlan): string[] {
  return [...plan.parameters.noEcho]
    .map((name) => plan.parameters.strings[name])
    .filter((v) => v && v.length >= 3);
}

function snapshot(record: ResourceState): Change['before'] {
  return { physicalId: record.physicalId, properties: record.properties, attributes: record.attributes };
}

function provisioned(record: ResourceState): Provisioned {
  return { physicalId: record.physicalId!, attributes: record.attributes ?? {} };
}

/** The instance `record` stands for, to delete later (see `ResourceState.retired`). */
function retiredInstance(record: ResourceState): RetiredInstance {
  return {
    physicalId: record.physicalId,
    properties: record.properties ?? {},
    attributes: record.attributes,
    answeredPhysicalId: record.answeredPhysicalId,
  };
}

function reasonOf(err: unknown, op: Operation): string {
  if (op.timedOut && !(err instanceof ResourceError)) {
    return `the stack's timeout (${op.describeLimit()}) passed`;
  }
  if (err instanceof ResourceError || err instanceof TemplateError || err instanceof ApiError) {
    return err.message;
  }
  return `LocalCloud error: ${err instanceof Error ? err.message : String(err)}`;
}

/** ROS's time format: `2024-01-02T03:04:05` (UTC). */
export function rosTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}
