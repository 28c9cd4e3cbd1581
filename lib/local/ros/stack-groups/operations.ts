/**
 * Runs stack group operations: each account and region's stack is created, updated or deleted through the target
 * account's own StackEngine and followed to its end, as OperationPreferences allow (see `preferences.ts`): regions
 * one after another (SEQUENTIAL) or all at once (PARALLEL); in a region, at most the concurrency's accounts at once;
 * once a region's failures exceed its tolerance nothing more starts there or in any other region, and what never
 * started is CANCELLED. StopStackGroupOperation lets what runs finish and marks the rest STOPPED.
 *
 * An operation that was running when LocalCloud stopped goes on when it starts again (ROS's service would not have
 * stopped). A stack the stop interrupted is marked failed by its engine; a creation or deletion is then carried on
 * (the half-created stack is deleted and created anew, the deletion run again), an interrupted update fails with
 * the stack's reason (LocalCloud cannot tell what of it was applied).
 */
import { randomUUID } from 'crypto';
import type { Clock } from '../../clock';
import { ApiError } from '../../errors';
import type { Ram } from '../../ram';
import type { StateStore } from '../../state';
import { rosTime, type StackEngine, type StackState } from '../engine';
import {
  DEFAULT_ADMINISTRATION_ROLE,
  DEFAULT_EXECUTION_ROLE,
  instanceKey,
  type OperationResult,
  type OperationState,
  type StackGroupsState,
  type StackInstanceState,
} from './model';
import { selfManagedDenial } from './permissions';
import { concurrencyIn, toleranceIn } from './preferences';

/** An account a stack group reaches: its RAM (roles) and its stack engine. */
export interface StackGroupAccount {
  readonly accountId: string;
  readonly ram: Ram;
  readonly engine: StackEngine;
}

export interface OperationRunnerOptions {
  readonly store: StateStore;
  readonly state: StackGroupsState;
  /** The administrator account (the one whose stack groups these are). */
  readonly admin: StackGroupAccount;
  /** Any account of the cloud by id. */
  readonly account: (accountId: string) => StackGroupAccount | undefined;
  /** Whether an account is still a member of the Resource Directory (service-managed). */
  readonly isMember: (accountId: string) => boolean;
  readonly clock: Clock;
}

/** The reason of an instance whose operation has not finished (the ListStackInstances reference's OUTDATED cases). */
export const NOT_COMPLETE_REASON = 'The creation or update operation is not complete.';

type Outcome = { ok: true } | { ok: false; reason: string };

const STACK_TYPE = 'ALIYUN::ROS::Stack';

/** Runs the operations of one administrator account's stack groups in the background. */
export class OperationRunner {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly options: OperationRunnerOptions) {}

  /** Starts (or, after a restart, resumes) an operation in the background. */
  start(operation: OperationState): void {
    const work = this.run(operation).catch((err: unknown) => {
      // A LocalCloud bug must not leave the stack group busy for ever.
      for (const result of operation.results) {
        if (result.status === 'RUNNING' || result.status === 'PENDING') {
          result.status = 'FAILED';
          result.statusReason = `LocalCloud internal error: ${String(err)}`;
        }
      }
      this.finish(operation);
    });
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }

  /** Resolves when no operation is running. */
  async settled(): Promise<void> {
    while (this.running.size > 0) {
      await Promise.allSettled([...this.running]);
    }
  }

  private async run(operation: OperationState): Promise<void> {
    const runRegion = (regionId: string) => this.runRegion(operation, regionId);
    if (operation.preferences.RegionConcurrencyType === 'PARALLEL') {
      await Promise.all(operation.regionOrder.map(runRegion));
    } else {
      for (const regionId of operation.regionOrder) {
        if (this.halted(operation)) {
          break;
        }
        await runRegion(regionId);
      }
    }
    this.finish(operation);
  }

  private halted(operation: OperationState): boolean {
    return operation.stopRequested === true || operation.toleranceExceeded === true;
  }

  private async runRegion(operation: OperationState, regionId: string): Promise<void> {
    const results = operation.results.filter((r) => r.regionId === regionId);
    const concurrency = concurrencyIn(operation.preferences, results.length);
    const tolerance = toleranceIn(operation.preferences, results.length);
    let failures = results.filter((r) => r.status === 'FAILED').length;
    // After a restart, what was running runs first (it had started), then what had not.
    const queue = [
      ...results.filter((r) => r.status === 'RUNNING'),
      ...results.filter((r) => r.status === 'PENDING'),
    ];
    const worker = async () => {
      for (let next = queue.shift(); next && !this.halted(operation); next = queue.shift()) {
        const result = next;
        result.status = 'RUNNING';
        this.options.store.changed();
        const outcome = await this.runTarget(operation, result);
        result.status = outcome.ok ? 'SUCCEEDED' : 'FAILED';
        if (!outcome.ok) {
          result.statusReason = outcome.reason;
          failures += 1;
          if (failures > tolerance) {
            operation.toleranceExceeded = true;
          }
        }
        this.options.store.changed();
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
  }

  private finish(operation: OperationState): void {
    for (const result of operation.results) {
      if (result.status === 'PENDING') {
        result.status = operation.stopRequested ? 'STOPPED' : 'CANCELLED';
        result.statusReason = operation.stopRequested
          ? 'The operation was stopped (StopStackGroupOperation) before it started here.'
          : 'The operation was cancelled before it started here: the failure tolerance was exceeded.';
        const instance = this.instance(operation, result);
        if (instance && operation.action !== 'DELETE' && instance.status !== 'CURRENT') {
          instance.statusReason = result.statusReason;
        }
      }
    }
    operation.status = operation.stopRequested
      ? 'STOPPED'
      : operation.toleranceExceeded
        ? 'FAILED'
        : 'SUCCEEDED';
    operation.endTime = rosTime(this.options.clock.now());
    this.options.store.changed();
  }

  private instance(operation: OperationState, result: OperationResult): StackInstanceState | undefined {
    return this.options.state.instances[operation.stackGroupId]?.[
      instanceKey(result.accountId, result.regionId)
    ];
  }

  /** One account and region: checks the roles, then runs the stack operation and records the instance's status. */
  private async runTarget(operation: OperationState, result: OperationResult): Promise<Outcome> {
    const instance = this.instance(operation, result);
    if (!instance) {
      // Deleted meanwhile (only a DELETE retried after a restart can find it gone).
      return { ok: true };
    }
    if (operation.action === 'DELETE' && operation.retainStacks) {
      // RetainStacks: the stack stays in its account as a stack of its own; only the instance goes.
      this.removeInstance(operation, result);
      return { ok: true };
    }
    const denial = this.denial(operation, result.accountId);
    const target = this.options.account(result.accountId);
    const outcome: Outcome =
      denial !== undefined || !target
        ? { ok: false, reason: denial ?? `Account ${result.accountId} does not exist.` }
        : await this.stackOperation(operation, instance, target.engine).catch((err: unknown): Outcome => ({
            ok: false,
            reason: describeError(err),
          }));
    if (operation.action === 'DELETE') {
      if (outcome.ok) {
        this.removeInstance(operation, result);
      } else {
        instance.statusReason = outcome.reason;
      }
      return outcome;
    }
    instance.status = outcome.ok ? 'CURRENT' : 'OUTDATED';
    instance.statusReason = outcome.ok ? undefined : outcome.reason;
    return outcome;
  }

  /** Why ROS cannot act in the account now (roles, membership), or undefined. */
  private denial(operation: OperationState, accountId: string): string | undefined {
    if (operation.permissionModel === 'SERVICE_MANAGED') {
      return this.options.isMember(accountId)
        ? undefined
        : `Account ${accountId} is not a member of the resource directory.`;
    }
    const target = this.options.account(accountId);
    return selfManagedDenial(
      { accountId: this.options.admin.accountId, ram: this.options.admin.ram },
      target && { accountId: target.accountId, ram: target.ram },
      accountId,
      operation.administrationRoleName ?? DEFAULT_ADMINISTRATION_ROLE,
      operation.executionRoleName ?? DEFAULT_EXECUTION_ROLE,
    );
  }

  private removeInstance(operation: OperationState, result: OperationResult): void {
    delete this.options.state.instances[operation.stackGroupId]?.[
      instanceKey(result.accountId, result.regionId)
    ];
    this.options.store.changed();
  }

  private async stackOperation(
    operation: OperationState,
    instance: StackInstanceState,
    engine: StackEngine,
  ): Promise<Outcome> {
    const existing = this.existingStack(instance, engine);
    if (operation.action === 'DELETE') {
      return existing ? this.deleteStack(engine, existing) : { ok: true };
    }
    if (existing && operation.action === 'UPDATE' && isUsable(existing)) {
      return this.updateStack(operation, instance, engine, existing);
    }
    if (existing && isComplete(existing) && operation.action === 'CREATE') {
      // A creation that finished while LocalCloud was stopping: nothing left to do.
      return { ok: true };
    }
    if (existing) {
      // A stack that failed to be created (or whose creation a stop interrupted): deleted, then created anew.
      const deleted = await this.deleteStack(engine, existing);
      if (!deleted.ok) {
        return deleted;
      }
      instance.stackId = undefined;
    }
    return this.createStack(operation, instance, engine);
  }

  private existingStack(instance: StackInstanceState, engine: StackEngine): StackState | undefined {
    if (!instance.stackId) {
      return undefined;
    }
    const stack = engine.stacks(instance.regionId).find((s) => s.stackId === instance.stackId);
    return stack && stack.status !== 'DELETE_COMPLETE' ? stack : undefined;
  }

  private createStack(
    operation: OperationState,
    instance: StackInstanceState,
    engine: StackEngine,
  ): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const stack = engine.create(
        {
          regionId: instance.regionId,
          stackName: `StackGroup-${operation.stackGroupName}-${randomUUID()}`,
          templateBody: operation.templateBody,
          parameters: { ...operation.parameters, ...instance.parameterOverrides },
          timeoutInMinutes: operation.timeoutInMinutes,
          disableRollback: operation.disableRollback,
          tags: [],
          deletionProtection: 'Disabled',
        },
        (finished) => resolve(finished.status === 'CREATE_COMPLETE' ? { ok: true } : failure(finished)),
      );
      instance.stackId = stack.stackId;
      this.options.store.changed();
    });
  }

  private async updateStack(
    operation: OperationState,
    instance: StackInstanceState,
    engine: StackEngine,
    stack: StackState,
  ): Promise<Outcome> {
    const from = stack.events.length;
    return new Promise<Outcome>((resolve) => {
      try {
        engine.update(
          {
            regionId: instance.regionId,
            stackId: stack.stackId,
            templateBody: operation.templateBody,
            parameters: { ...operation.parameters, ...instance.parameterOverrides },
            usePreviousParameters: false,
            timeoutInMinutes: operation.timeoutInMinutes,
            disableRollback: operation.disableRollback,
            replacementOption: 'Disabled',
          },
          (finished) =>
            resolve(finished.status === 'UPDATE_COMPLETE' ? { ok: true } : failure(finished, from)),
        );
      } catch (err) {
        // Nothing to change: the stack already has this template and these parameters.
        const unchanged =
          err instanceof ApiError && err.code === 'NotSupported' && /completely same/.test(err.message);
        resolve(
          unchanged && isComplete(stack)
            ? { ok: true }
            : {
                ok: false,
                reason: unchanged
                  ? `Stack ${stack.stackName} ${stack.status}: ${stack.statusReason}`
                  : describeError(err),
              },
        );
      }
    });
  }

  private deleteStack(engine: StackEngine, stack: StackState): Promise<Outcome> {
    const from = stack.events.length;
    return new Promise<Outcome>((resolve, reject) => {
      try {
        engine.delete(stack.regionId, stack.stackId, { all: false, resources: [] }, (finished) =>
          resolve(finished.status === 'DELETE_COMPLETE' ? { ok: true } : failure(finished, from)),
        );
      } catch (err) {
        reject(err);
      }
    });
  }
}

/** A stack an update can start from, as the instance's own (not a failed creation). */
function isUsable(stack: StackState): boolean {
  return (
    !stack.status.startsWith('CREATE_') &&
    !stack.status.startsWith('ROLLBACK_') &&
    !stack.status.startsWith('DELETE_')
  );
}

function isComplete(stack: StackState): boolean {
  return stack.status === 'CREATE_COMPLETE' || stack.status === 'UPDATE_COMPLETE';
}

/** A failed stack operation's reason: the first failed resource's (what ROS shows), else the stack's. */
function failure(stack: StackState, fromEvent = 0): Outcome {
  const resource = stack.events
    .slice(fromEvent)
    .find((e) => e.ResourceType !== STACK_TYPE && e.Status.endsWith('_FAILED'));
  const reason = resource
    ? `Resource ${resource.LogicalResourceId} (${resource.ResourceType}) ${resource.Status}: ${resource.StatusReason}`
    : `Stack ${stack.stackName} ${stack.status}: ${stack.statusReason}`;
  return { ok: false, reason };
}

function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    return `${err.code}: ${err.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}
