/**
 * ROS change sets: what CreateChangeSet, GetChangeSet, ListChangeSets, ExecuteChangeSet and DeleteChangeSet do to
 * LocalCloud's stacks. Sources (docs/real-cloud.md lists each behaviour with its own):
 * - CreateChangeSet reference (https://www.alibabacloud.com/help/en/ros/developer-reference/api-ros-2019-09-10-createchangeset)
 *   and the `@alicloud/ros20190910` models: types CREATE and UPDATE (default), at most 20 change sets per stack, a
 *   name unique in its stack (`ChangeSetExists`, 409), a CREATE change set makes a stack in REVIEW_IN_PROGRESS,
 *   `TimeoutInMinutes` required for CREATE, `ActionInProgress` (409) for a busy stack.
 * - GetChangeSet / ListChangeSets models: Status CREATE_PENDING → CREATE_IN_PROGRESS → CREATE_COMPLETE | CREATE_FAILED,
 *   ExecutionStatus UNAVAILABLE | AVAILABLE | EXECUTE_IN_PROGRESS | EXECUTE_COMPLETE | EXECUTE_FAILED | OBSOLETE.
 * - DeleteChangeSet reference: deletable in CREATE_COMPLETE, CREATE_FAILED or DELETE_FAILED with ExecutionStatus
 *   UNAVAILABLE or AVAILABLE; a stack's change sets go with the stack; executing one deletes the others (variant
 *   `executedChangeSetSiblings`).
 * - `ChangeSetNotFound` (404) on Get, Execute and Delete (their references).
 * Codes no ROS reference gives are CloudFormation's names for the same case: `InvalidChangeSetStatus` (executing
 * or deleting a change set in the wrong status) and `LimitExceeded` (a 21st change set).
 */
import { randomUUID } from 'crypto';
import { systemClock, type Clock } from '../clock';
import { ApiError } from '../errors';
import type { StateStore } from '../state';
import type { CloudVariants } from '../variants';
import { describeChanges, Change } from './changes';
import { DEFAULT_TIMEOUT_IN_MINUTES, rosTime, type StackEngine, type StackState } from './engine';
import { handlerFor, CloudServices, ResourceError } from './resources';
import { TemplateError } from './template';

/** At most this many change sets per stack (CreateChangeSet reference, "Limits"). */
export const MAX_CHANGE_SETS_PER_STACK = 20;

export type ChangeSetType = 'CREATE' | 'UPDATE';
export type ChangeSetStatus = 'CREATE_PENDING' | 'CREATE_IN_PROGRESS' | 'CREATE_COMPLETE' | 'CREATE_FAILED';
export type ExecutionStatus =
  'UNAVAILABLE' | 'AVAILABLE' | 'EXECUTE_IN_PROGRESS' | 'EXECUTE_COMPLETE' | 'EXECUTE_FAILED' | 'OBSOLETE';

/** A change set as LocalCloud keeps it (in the state file). */
export interface ChangeSetState {
  readonly changeSetId: string;
  readonly changeSetName: string;
  readonly changeSetType: ChangeSetType;
  readonly regionId: string;
  readonly stackId: string;
  readonly stackName: string;
  readonly description?: string;
  readonly createTime: string;
  status: ChangeSetStatus;
  statusReason: string;
  executionStatus: ExecutionStatus;
  readonly templateBody: string;
  /** The parameter values the operation gets (UsePreviousParameters already applied). */
  readonly parameters: Record<string, string>;
  /** As given; an UPDATE without it runs with 60. */
  readonly timeoutInMinutes?: number;
  readonly disableRollback: boolean;
  readonly replacementOption: 'Enabled' | 'Disabled';
  /** Stack tags the operation sets; undefined keeps the stack's (UPDATE). */
  readonly tags?: { Key: string; Value: string }[];
  changes: Change[];
}

export interface CreateChangeSetInput {
  readonly regionId: string;
  readonly changeSetName: string;
  readonly changeSetType: ChangeSetType;
  /** UPDATE: the stack. */
  readonly stackId?: string;
  /** CREATE: the new stack's name. */
  readonly stackName?: string;
  readonly description?: string;
  readonly templateBody?: string;
  readonly parameters: Record<string, string>;
  readonly usePreviousParameters: boolean;
  readonly timeoutInMinutes?: number;
  readonly disableRollback: boolean;
  readonly replacementOption: 'Enabled' | 'Disabled';
  readonly tags?: { Key: string; Value: string }[];
}

export interface ListChangeSetsFilter {
  /** Names, `*` matching any run of characters. */
  readonly names: string[];
  readonly statuses: string[];
  readonly executionStatuses: string[];
  readonly changeSetId?: string;
}

export interface ChangeSetOptions {
  /**
   * How long a change set takes to compute: CREATE_PENDING for the first half, CREATE_IN_PROGRESS for the second.
   * @default 200
   */
  readonly creationMs?: number;
  /** ROS's clock (see `EngineOptions.clock`). @default the system clock */
  readonly clock?: Clock;
}

interface ChangeSetsState {
  changeSets: Record<string, ChangeSetState>;
}

/** The change sets of every stack, and their lifecycle over the stack engine. */
export class ChangeSets {
  private readonly state: ChangeSetsState;
  private readonly creationMs: number;
  private readonly clock: Clock;

  constructor(
    private readonly store: StateStore,
    private readonly engine: StackEngine,
    private readonly cloud: CloudServices,
    private readonly variants: CloudVariants,
    options: ChangeSetOptions = {},
  ) {
    this.state = store.section<ChangeSetsState>('rosChangeSets', () => ({ changeSets: {} }));
    this.creationMs = options.creationMs ?? 200;
    this.clock = options.clock ?? systemClock;
    this.recoverInterrupted();
  }

  /** Creates a change set (checked now; its changes are computed in the background) and returns its ids. */
  create(input: CreateChangeSetInput): { changeSetId: string; stackId: string } {
    this.prune();
    const stack = input.changeSetType === 'CREATE' ? this.reviewStack(input) : this.stackToUpdate(input);
    const parameters =
      input.changeSetType === 'UPDATE' && input.usePreviousParameters
        ? { ...stack.parameters, ...input.parameters }
        : input.parameters;
    const templateBody = input.templateBody ?? stack.templateBody;
    if (input.changeSetType === 'UPDATE') {
      // Checked now, as UpdateStack checks them: template and parameters.
      const { template, plan } = this.engine.planFor(stack, templateBody, parameters);
      if (
        this.variants.changeSetWithoutChanges === 'refused' &&
        this.engine.isUnchanged(stack, template, plan, input.tags)
      ) {
        throw new ApiError('NotSupported', noChangesReason(stack), 400);
      }
    }
    const changeSet: ChangeSetState = {
      changeSetId: randomUUID(),
      changeSetName: input.changeSetName,
      changeSetType: input.changeSetType,
      regionId: input.regionId,
      stackId: stack.stackId,
      stackName: stack.stackName,
      ...(input.description !== undefined && { description: input.description }),
      createTime: rosTime(this.clock.now()),
      status: 'CREATE_PENDING',
      statusReason: '',
      executionStatus: 'UNAVAILABLE',
      templateBody,
      parameters,
      ...(input.timeoutInMinutes !== undefined && { timeoutInMinutes: input.timeoutInMinutes }),
      disableRollback: input.disableRollback,
      replacementOption: input.replacementOption,
      ...(input.tags !== undefined && { tags: input.tags }),
      changes: [],
    };
    this.state.changeSets[changeSet.changeSetId] = changeSet;
    this.store.changed();
    this.scheduleComputation(changeSet);
    return { changeSetId: changeSet.changeSetId, stackId: stack.stackId };
  }

  /** A change set by id in a region; `ChangeSetNotFound` when there is none (deleted with its stack included). */
  get(regionId: string, changeSetId: string): ChangeSetState {
    this.prune();
    const changeSet = this.state.changeSets[changeSetId];
    if (!changeSet || changeSet.regionId !== regionId) {
      throw new ApiError('ChangeSetNotFound', `The ChangeSet ${changeSetId} could not be found.`, 404);
    }
    return changeSet;
  }

  /** The stack of a change set, when it exists (for the RAM resource of Get/Execute/Delete). */
  stackIdOf(changeSetId: string): string | undefined {
    return this.state.changeSets[changeSetId]?.stackId;
  }

  /** A stack's change sets, oldest first; `StackNotFound` for a stack that does not exist. */
  list(regionId: string, stackId: string, filter: ListChangeSetsFilter): ChangeSetState[] {
    this.prune();
    this.engine.get(regionId, stackId);
    const names = filter.names.map((name) => new RegExp(`^${name.split('*').map(escapeRegExp).join('.*')}$`));
    return this.ofStack(stackId)
      .filter((c) => c.regionId === regionId)
      .filter((c) => filter.changeSetId === undefined || c.changeSetId === filter.changeSetId)
      .filter((c) => names.length === 0 || names.some((name) => name.test(c.changeSetName)))
      .filter((c) => filter.statuses.length === 0 || filter.statuses.includes(c.status))
      .filter(
        (c) => filter.executionStatuses.length === 0 || filter.executionStatuses.includes(c.executionStatus),
      );
  }

  /** Runs the operation a change set describes: the stack's create (CREATE) or update (UPDATE). */
  execute(regionId: string, changeSetId: string): void {
    const changeSet = this.get(regionId, changeSetId);
    if (changeSet.status !== 'CREATE_COMPLETE' || changeSet.executionStatus !== 'AVAILABLE') {
      throw new ApiError(
        'InvalidChangeSetStatus',
        `ChangeSet ${changeSet.changeSetName} (${changeSetId}) cannot be executed: its Status is ${changeSet.status} ` +
          `and its ExecutionStatus ${changeSet.executionStatus}; only a change set in CREATE_COMPLETE with ` +
          'ExecutionStatus AVAILABLE can be executed.',
        400,
      );
    }
    const onFinished = (stack: StackState) => {
      const succeeded = stack.status === 'CREATE_COMPLETE' || stack.status === 'UPDATE_COMPLETE';
      changeSet.executionStatus = succeeded ? 'EXECUTE_COMPLETE' : 'EXECUTE_FAILED';
      changeSet.statusReason = succeeded ? '' : stack.statusReason;
      this.store.changed();
    };
    if (changeSet.changeSetType === 'CREATE') {
      this.engine.executeReview(
        regionId,
        changeSet.stackId,
        {
          parameters: changeSet.parameters,
          timeoutInMinutes: changeSet.timeoutInMinutes ?? DEFAULT_TIMEOUT_IN_MINUTES,
          disableRollback: changeSet.disableRollback,
          tags: changeSet.tags ?? [],
        },
        onFinished,
      );
    } else {
      this.engine.update(
        {
          regionId,
          stackId: changeSet.stackId,
          templateBody: changeSet.templateBody,
          parameters: changeSet.parameters,
          usePreviousParameters: false,
          timeoutInMinutes: changeSet.timeoutInMinutes ?? DEFAULT_TIMEOUT_IN_MINUTES,
          replacementOption: changeSet.replacementOption,
          tags: changeSet.tags,
        },
        onFinished,
      );
    }
    changeSet.executionStatus = 'EXECUTE_IN_PROGRESS';
    for (const sibling of this.ofStack(changeSet.stackId)) {
      if (sibling === changeSet) {
        continue;
      }
      if (this.variants.executedChangeSetSiblings === 'deleted') {
        delete this.state.changeSets[sibling.changeSetId];
      } else if (sibling.executionStatus === 'AVAILABLE' || sibling.executionStatus === 'UNAVAILABLE') {
        sibling.executionStatus = 'OBSOLETE';
      }
    }
    this.store.changed();
  }

  /** Deletes a change set that has not run (the stack of a CREATE change set stays, in REVIEW_IN_PROGRESS). */
  delete(regionId: string, changeSetId: string): void {
    const changeSet = this.get(regionId, changeSetId);
    const deletable =
      ['CREATE_COMPLETE', 'CREATE_FAILED'].includes(changeSet.status) &&
      ['UNAVAILABLE', 'AVAILABLE'].includes(changeSet.executionStatus);
    if (!deletable) {
      throw new ApiError(
        'InvalidChangeSetStatus',
        `ChangeSet ${changeSet.changeSetName} (${changeSetId}) cannot be deleted: its Status is ${changeSet.status} ` +
          `and its ExecutionStatus ${changeSet.executionStatus}; a change set can be deleted in CREATE_COMPLETE, ` +
          'CREATE_FAILED or DELETE_FAILED with ExecutionStatus UNAVAILABLE or AVAILABLE.',
        400,
      );
    }
    delete this.state.changeSets[changeSetId];
    this.store.changed();
  }

  // -------------------------------------------------------------------------------------------------------------

  private reviewStack(input: CreateChangeSetInput): StackState {
    if (input.templateBody === undefined) {
      throw new ApiError(
        'MissingParameter',
        'The input parameter "TemplateBody" that is mandatory for a CREATE change set is not supplied.',
        400,
      );
    }
    return this.engine.review({
      regionId: input.regionId,
      stackName: input.stackName!,
      templateBody: input.templateBody,
      parameters: input.parameters,
      timeoutInMinutes: input.timeoutInMinutes ?? DEFAULT_TIMEOUT_IN_MINUTES,
      disableRollback: input.disableRollback,
      tags: input.tags ?? [],
      deletionProtection: 'Disabled',
    });
  }

  private stackToUpdate(input: CreateChangeSetInput): StackState {
    const stack = this.engine.get(input.regionId, input.stackId!);
    if (stack.status === 'DELETE_COMPLETE') {
      throw new ApiError('StackNotFound', `The Stack (${stack.stackId}) could not be found.`, 404);
    }
    this.engine.checkUpdatable(stack);
    const existing = this.ofStack(stack.stackId);
    if (existing.some((c) => c.changeSetName === input.changeSetName)) {
      throw new ApiError(
        'ChangeSetExists',
        `The ChangeSet (${input.changeSetName}) of Stack (${stack.stackName}) already exists.`,
        409,
      );
    }
    if (existing.length >= MAX_CHANGE_SETS_PER_STACK) {
      throw new ApiError(
        'LimitExceeded',
        `Stack ${stack.stackName} has ${existing.length} change sets, the most a stack can have ` +
          `(${MAX_CHANGE_SETS_PER_STACK}); delete one before creating another.`,
        400,
      );
    }
    return stack;
  }

  /** CREATE_PENDING now, CREATE_IN_PROGRESS after half of `creationMs`, computed at the end of it. */
  private scheduleComputation(changeSet: ChangeSetState): void {
    const half = this.creationMs / 2;
    this.engine.track(
      this.clock
        .sleep(half)
        .then(() => {
          if (!this.state.changeSets[changeSet.changeSetId]) {
            return;
          }
          changeSet.status = 'CREATE_IN_PROGRESS';
          this.store.changed();
          return this.clock.sleep(half);
        })
        .then(() => {
          if (this.state.changeSets[changeSet.changeSetId]) {
            this.compute(changeSet);
          }
        }),
    );
  }

  private compute(changeSet: ChangeSetState): void {
    try {
      const stack = this.engine.get(changeSet.regionId, changeSet.stackId);
      const { template, plan } = this.engine.planFor(stack, changeSet.templateBody, changeSet.parameters);
      const isCreate = changeSet.changeSetType === 'CREATE';
      if (!isCreate && this.engine.isUnchanged(stack, template, plan, changeSet.tags)) {
        throw new ResourceError(noChangesReason(stack));
      }
      changeSet.changes = describeChanges({
        stack,
        current: isCreate ? undefined : this.engine.planFor(stack, stack.templateBody, stack.parameters),
        template,
        plan,
        handler: (type) => handlerFor(type, this.cloud),
      });
      changeSet.status = 'CREATE_COMPLETE';
      changeSet.executionStatus = 'AVAILABLE';
    } catch (err) {
      const known = err instanceof ResourceError || err instanceof TemplateError || err instanceof ApiError;
      changeSet.status = 'CREATE_FAILED';
      changeSet.statusReason = known
        ? (err as Error).message
        : `LocalCloud error: ${err instanceof Error ? err.message : String(err)}`;
      changeSet.executionStatus = 'UNAVAILABLE';
    } finally {
      this.store.changed();
    }
  }

  private ofStack(stackId: string): ChangeSetState[] {
    return Object.values(this.state.changeSets).filter((c) => c.stackId === stackId);
  }

  /** "After a stack is deleted, change sets associated with the stack are deleted" (DeleteChangeSet reference). */
  private prune(): void {
    let pruned = false;
    for (const changeSet of Object.values(this.state.changeSets)) {
      const stack = this.engine.stacks(changeSet.regionId).find((s) => s.stackId === changeSet.stackId);
      if (!stack || stack.status === 'DELETE_COMPLETE') {
        delete this.state.changeSets[changeSet.changeSetId];
        pruned = true;
      }
    }
    if (pruned) {
      this.store.changed();
    }
  }

  /** After a restart: computations start again; an execution the stop cut off failed with its stack. */
  private recoverInterrupted(): void {
    for (const changeSet of Object.values(this.state.changeSets)) {
      if (changeSet.status === 'CREATE_PENDING' || changeSet.status === 'CREATE_IN_PROGRESS') {
        this.scheduleComputation(changeSet);
      } else if (changeSet.executionStatus === 'EXECUTE_IN_PROGRESS') {
        const stack = this.engine.stacks(changeSet.regionId).find((s) => s.stackId === changeSet.stackId);
        changeSet.executionStatus = 'EXECUTE_FAILED';
        changeSet.statusReason =
          stack?.statusReason ?? 'LocalCloud stopped while the change set was executed';
        this.store.changed();
      }
    }
  }
}

function noChangesReason(stack: StackState): string {
  return (
    `The change set changes nothing: the template, parameters and tags are those of stack ${stack.stackName} ` +
    `(UpdateStack answers: Update the completely same stack ${stack.stackName} is not supported).`
  );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
