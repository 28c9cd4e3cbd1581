/**
 * The `Custom::ImageDistribution` custom resource: a ROS stack group whose instances, one per (account, region), each
 * copy the owner's replica of the source shared in their region. Its Create, Update and Delete by phase (phases.ts):
 *
 * - Create (`copy`) and Update (`update`) plan: resolve the target accounts (folders → `ListAccountsForParent`),
 *   compare the pairs wanted with the group's instances (`ListStackInstances`), and list the steps: share the replicas
 *   with new accounts, create the group (or adopt the one a retried Create made), delete removed instances, update the
 *   group when its template changed, create added instances, unshare accounts that left, and, when the group was
 *   renamed, delete the old group. `group-run` runs the steps one at a time, waiting for each stack group operation
 *   across invocations; `group-report` reads each instance's outputs (`GetStackInstance` OutputOption=Enabled).
 * - Delete (`delete`) plans the deletion of every instance and of the group, `sweep` runs it; a group already gone, or
 *   one this resource did not make, is left as it is.
 *
 * An operation that fails beyond the operation preferences' failure tolerance fails the request with each account and
 * region's reason; failures within it are reported in `FailedTargets`, and their instances deleted (nothing of them
 * is left behind; the next deployment tries them again).
 */
import * as fs from 'fs';
import * as path from 'path';
import { createHash } from 'crypto';
import {
  DistributionInstanceOutput,
  MAX_SHARED_ACCOUNTS_PER_IMAGE,
  ownerPrefix,
  readPhysicalId,
  STACK_GROUP_OWNER_PREFIX,
} from '../protocol';
import { writeZip } from '../zip';
import { planSharing, shareBatches, sharedAccountsOf } from './distribution';
import type { RpcApi, StackGroupClients } from './distribution-group-api';
import {
  distributionData,
  type DistributionSettings,
  type FailedTarget,
  fillTemplate,
  operationTargets,
  type OperationTargets,
  type Pair,
  pairKey,
  type PairImage,
  pairsWithout,
  readDistributionSettings,
  templateDigest,
  wantedPairs,
} from './distribution-group-plan';
import { describeApiError, errorCode, ImageCopyError } from './errors';
import { physicalIdOf, type Outcome } from './image-copy-resource';
import type { OperationContext } from './operation';
import { type PhaseTable, runPhases, type StepResult } from './phases';
import { transientKind, withRetry } from './retry';

/** One step of a plan. */
export type DistributionStep =
  | {
      readonly kind: 'share';
      readonly regionId: string;
      readonly imageId: string;
      readonly add: readonly string[];
      readonly remove: readonly string[];
    }
  | { readonly kind: 'create-group'; readonly group: string }
  | { readonly kind: 'update-group'; readonly group: string; readonly targets?: OperationTargets }
  | { readonly kind: 'create-instances'; readonly group: string; readonly targets: OperationTargets }
  | {
      readonly kind: 'delete-instances';
      readonly group: string;
      readonly targets: OperationTargets;
      /** Removes the instances of pairs that failed within the tolerance. */
      readonly cleanup?: boolean;
      /**
       * `RetainStacks`: only for instances that have no stack (ROS never reached their account), which it removes
       * from the group at no loss; ROS could not delete a stack it cannot reach either.
       */
      readonly retainStacks?: boolean;
    }
  | { readonly kind: 'delete-group'; readonly group: string };

/** Where a request's plan stands; carried across invocations in the continuation marker. */
export interface DistributionProgress {
  readonly steps: DistributionStep[];
  cursor: number;
  /** The stack group operation the current step started and waits for. */
  operationId?: string;
  /** Pairs that failed within the tolerance. */
  readonly failed: FailedTarget[];
  /** The target accounts, resolved. */
  readonly accountIds: string[];
  /** The group's permission model is SERVICE_MANAGED: its operations name accounts in `DeploymentTargets`. */
  readonly serviceManaged: boolean;
}

/** What the resource needs beyond the operation context. */
export interface DistributionGroupOptions {
  readonly clients: StackGroupClients;
  /** The handler's own code as the base64 zip the instances' provider runs. Default: {@link ownHandlerZip}. */
  readonly handlerZip?: () => string;
  /** Delays between polls of an operation, ms; the last repeats. */
  readonly pollDelaysMs?: readonly number[];
}

/** Most results per ListStackGroupOperationResults / ListStackInstances / ListAccountsForParent page. */
const PAGE_SIZE = 50;

const DEFAULT_POLL_DELAYS_MS = [2_000, 3_000, 5_000, 10_000];

/**
 * The handler's own code zipped as Function Compute takes it (`index.js` at the root, deterministic bytes, see
 * lib/zip.ts), base64: the bundle is one file, the one running.
 */
export function ownHandlerZip(): string {
  const file = __filename;
  if (path.basename(file) !== 'index.js') {
    throw new ImageCopyError(
      'Internal',
      `The handler cannot read its own code (it runs from ${file}, not a bundled index.js) for the stack group's instances.`,
    );
  }
  return writeZip([{ name: 'index.js', data: fs.readFileSync(file) }]).toString('base64');
}

export class DistributionGroupResource {
  private settings?: DistributionSettings;

  /** The permission model of the groups GetStackGroup read, by name. */
  private readonly serviceManagedGroups = new Map<string, boolean>();

  constructor(
    private readonly ctx: OperationContext,
    private readonly options: DistributionGroupOptions,
  ) {}

  physicalId(): string {
    return physicalIdOf(this.ctx.event);
  }

  /** A stack group copies nothing itself: there is no copy of this request to discard. */
  ownCopy(): undefined {
    return undefined;
  }

  async handle(): Promise<Outcome> {
    const { event, state } = this.ctx;
    if (event.RequestType === 'Delete') {
      const settings = this.readLeniently(event.ResourceProperties);
      this.settings = settings; // its operation preferences pace the deletion
      state.setTimeouts(settings?.createTimeoutSeconds ?? 3600, settings?.deleteTimeoutSeconds ?? 3600);
      return runPhases(state, this.ctx.clock, this.deleteSteps(settings));
    }
    this.settings = readDistributionSettings(event.ResourceProperties);
    state.setTimeouts(this.settings.createTimeoutSeconds, this.settings.deleteTimeoutSeconds);
    return runPhases(state, this.ctx.clock, this.deploySteps(this.settings));
  }

  private readLeniently(
    properties: OperationContext['event']['ResourceProperties'],
  ): DistributionSettings | undefined {
    try {
      return readDistributionSettings(properties);
    } catch {
      return undefined;
    }
  }

  private get progress(): DistributionProgress {
    const progress = this.ctx.state.distribution as DistributionProgress | undefined;
    if (!progress) {
      throw new ImageCopyError('Internal', 'The distribution has no plan in its phase.');
    }
    return progress;
  }

  private set progress(progress: DistributionProgress) {
    this.ctx.state.distribution = progress as unknown as Record<string, unknown>;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Create and Update

  private deploySteps(settings: DistributionSettings): PhaseTable<Outcome> {
    const plan = async (): Promise<StepResult<Outcome>> => {
      this.progress = await this.planDeploy(settings);
      return { next: 'group-run' };
    };
    return {
      copy: plan,
      update: plan,
      'group-run': async () => {
        await this.runSteps();
        return { next: 'group-report' };
      },
      'group-report': async () => ({ done: await this.report(settings) }),
    };
  }

  /** The steps that make the group's instances the wanted pairs. */
  private async planDeploy(settings: DistributionSettings): Promise<DistributionProgress> {
    const { event, log } = this.ctx;
    const accountIds = settings.accountIds
      ? [...settings.accountIds]
      : await this.folderAccounts(settings.folderIds!);
    if (accountIds.length > MAX_SHARED_ACCOUNTS_PER_IMAGE) {
      throw new ImageCopyError(
        'InvalidProperties',
        `The ImageDistribution targets ${accountIds.length} accounts; ECS shares an image with at most ` +
          `${MAX_SHARED_ACCOUNTS_PER_IMAGE} accounts (ModifyImageSharePermission).`,
      );
    }
    const group = settings.stackGroupName;
    const state = await this.groupState(group);
    if (state === 'foreign') {
      throw new ImageCopyError(
        'InvalidProperties',
        `A stack group named ${group} exists in ${event.RegionId} and was not made by this ImageDistribution ` +
          `(${this.physicalId()}); choose another stackGroupName, or delete that group.`,
      );
    }
    const existing = state === 'absent' ? [] : await this.instances(group);
    const wanted = wantedPairs(accountIds, settings);
    const removed = pairsWithout(existing, wanted);
    const kept = pairsWithout(existing, removed);
    const added = pairsWithout(wanted, existing);
    const steps: DistributionStep[] = [];

    // Share before any instance copies; unshare once no instance of the account is left in the region.
    const accountsIn = (pairs: readonly Pair[], regionId: string) => [
      ...new Set(pairs.filter((pair) => pair.regionId === regionId).map((pair) => pair.accountId)),
    ];
    for (const [regionId, imageId] of Object.entries(settings.replicaImageIds)) {
      const add = accountsIn(wanted, regionId);
      if (add.length > 0) {
        steps.push({ kind: 'share', regionId, imageId, add, remove: [] });
      }
    }
    if (state === 'absent') {
      steps.push({ kind: 'create-group', group });
    }
    steps.push(...removalSteps(group, removed, false));
    const old = this.oldSettings();
    const renamed = old !== undefined && old.stackGroupName !== group;
    if (
      state === 'ours' &&
      (old === undefined || renamed || templateDigest(old) !== templateDigest(settings))
    ) {
      const targets = operationTargets(kept);
      if (targets.length === 0) {
        steps.push({ kind: 'update-group', group });
      }
      for (const target of targets) {
        steps.push({ kind: 'update-group', group, targets: target });
      }
    }
    for (const targets of operationTargets(added)) {
      steps.push({ kind: 'create-instances', group, targets });
    }
    for (const [regionId, imageId] of Object.entries(settings.replicaImageIds)) {
      const remove = accountsIn(existing, regionId).filter(
        (account) => !accountsIn(wanted, regionId).includes(account),
      );
      if (remove.length > 0) {
        steps.push({ kind: 'share', regionId, imageId, add: [], remove });
      }
    }
    if (renamed && old !== undefined && (await this.groupState(old.stackGroupName)) === 'ours') {
      steps.push(...(await this.deletionSteps(old.stackGroupName)));
    }
    log.info('distribution-planned', {
      group,
      accounts: accountIds.length,
      wanted: wanted.length,
      added: added.length,
      removed: removed.length,
      steps: steps.map((step) => step.kind),
    });
    return { steps, cursor: 0, failed: [], accountIds, serviceManaged: settings.folderIds !== undefined };
  }

  /** The previous properties of an Update, when they read. */
  private oldSettings(): DistributionSettings | undefined {
    const old = this.ctx.event.OldResourceProperties;
    return this.ctx.event.RequestType === 'Update' && old ? this.readLeniently(old) : undefined;
  }

  /** Reads every instance's image id; the failed pairs are left out (they are in `FailedTargets`). */
  private async report(settings: DistributionSettings): Promise<Outcome> {
    const progress = this.progress;
    const failed = new Set(
      progress.failed.map((f) => pairKey({ accountId: f.AccountId, regionId: f.RegionId })),
    );
    const images: PairImage[] = [];
    for (const pair of wantedPairs(progress.accountIds, settings)) {
      if (failed.has(pairKey(pair))) {
        continue;
      }
      const answer = await this.ros('GetStackInstance', {
        StackGroupName: settings.stackGroupName,
        StackInstanceAccountId: pair.accountId,
        StackInstanceRegionId: pair.regionId,
        OutputOption: 'Enabled',
      });
      const instance = (answer.StackInstance ?? {}) as Record<string, unknown>;
      const outputs = (instance.Outputs ?? []) as Array<Record<string, unknown>>;
      const imageId = outputs.find(
        (output) => output.OutputKey === DistributionInstanceOutput.ImageId,
      )?.OutputValue;
      if (typeof imageId === 'string' && imageId !== '') {
        images.push({ ...pair, imageId });
      } else {
        this.ctx.log.warn('instance-without-image', { ...pair, status: instance.Status });
      }
    }
    const data = distributionData(settings.stackGroupName, images, progress.failed);
    this.ctx.log.info('distributed', { pairs: images.length, failed: progress.failed.length });
    return { status: 'SUCCESS', physicalResourceId: this.physicalId(), data };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Delete

  private deleteSteps(settings: DistributionSettings | undefined): PhaseTable<Outcome> {
    const done: Outcome = { status: 'SUCCESS', physicalResourceId: this.physicalId() };
    return {
      delete: async () => {
        const group = settings?.stackGroupName;
        // After a Create ROS got no answer from (or one it did not keep), the physical id names no instance: any
        // group this resource made is then its own (the same stack and logical id).
        const anyInstance = readPhysicalId(this.physicalId()).kind !== 'instance';
        const ours = group !== undefined && (await this.groupState(group, anyInstance)) === 'ours';
        const steps = ours ? await this.deletionSteps(group) : [];
        // The replicas are unshared whatever became of the group: a Create may have shared them before it failed.
        for (const [regionId, imageId] of Object.entries(settings?.replicaImageIds ?? {})) {
          steps.push({ kind: 'share', regionId, imageId, add: [], remove: ['*'] });
        }
        if (!ours) {
          this.ctx.log.info('no-group-to-delete', { group: group ?? null });
        }
        if (steps.length === 0) {
          return { done };
        }
        this.progress = {
          steps,
          cursor: 0,
          failed: [],
          accountIds: [],
          serviceManaged:
            (group !== undefined ? this.serviceManagedGroups.get(group) : undefined) ??
            settings?.folderIds !== undefined,
        };
        return { next: 'sweep' };
      },
      sweep: async () => {
        await this.runSteps();
        return { done };
      },
    };
  }

  /** Every instance of the group deleted, then the group. */
  private async deletionSteps(group: string): Promise<DistributionStep[]> {
    const steps = removalSteps(group, await this.instances(group), false);
    steps.push({ kind: 'delete-group', group });
    return steps;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Running the plan

  /** Runs the steps from the cursor, one at a time; an operation's wait may span invocations. */
  private async runSteps(): Promise<void> {
    const { state, invocation } = this.ctx;
    const progress = this.progress;
    if (state.resumeAt !== undefined) {
      const resumeAt = state.resumeAt;
      state.resumeAt = undefined;
      await invocation.sleepUntil(resumeAt);
    }
    while (progress.cursor < progress.steps.length) {
      const step = progress.steps[progress.cursor];
      await this.runStep(step, progress);
      progress.cursor++;
      progress.operationId = undefined;
    }
  }

  private async runStep(step: DistributionStep, progress: DistributionProgress): Promise<void> {
    const settings = this.settings;
    const log = this.ctx.log.child({ step: step.kind, cursor: progress.cursor });
    switch (step.kind) {
      case 'share':
        await this.share(step.regionId, step.imageId, step.add, step.remove);
        return;
      case 'create-group':
        await this.createGroup(step.group, settings!);
        return;
      case 'delete-group':
        try {
          await this.ros('DeleteStackGroup', { StackGroupName: step.group });
        } catch (error) {
          if (!isNotFound(error)) {
            throw this.apiFailure('ROS DeleteStackGroup', error);
          }
        }
        log.info('group-deleted', { group: step.group });
        return;
      case 'update-group':
      case 'create-instances':
      case 'delete-instances': {
        progress.operationId ??= await this.startOperation(step, progress.cursor);
        if (progress.operationId === '') {
          return; // an update of the template alone: no operation
        }
        const failed = await this.waitForOperation(step, progress.operationId);
        if (failed.length > 0 && step.kind !== 'delete-instances') {
          progress.failed.push(...failed);
          // Nothing of a tolerated failure stays behind: its instances go, and a later deployment tries again.
          const failedKeys = new Set(
            failed.map((f) => pairKey({ accountId: f.AccountId, regionId: f.RegionId })),
          );
          const failedInstances = (await this.instances(step.group)).filter((i) =>
            failedKeys.has(pairKey(i)),
          );
          progress.steps.splice(progress.cursor + 1, 0, ...removalSteps(step.group, failedInstances, true));
        }
        return;
      }
    }
  }

  /** Shares a replica with `add` and unshares it from `remove` (`'*'`: every account), 10 accounts per call. */
  private async share(
    regionId: string,
    imageId: string,
    add: readonly string[],
    remove: readonly string[],
  ): Promise<void> {
    const { ctx } = this;
    let current: string[];
    try {
      current = await sharedAccountsOf(ctx, regionId, imageId);
    } catch (error) {
      if (add.length === 0 && /NotFound/i.test(errorCode(error) ?? '')) {
        return; // the replica is gone already: nothing to unshare
      }
      throw this.apiFailure(`ECS DescribeImageSharePermission of ${imageId}`, error);
    }
    const plan = planSharing(add, remove.includes('*') ? current : remove, current);
    for (const batch of shareBatches(plan.remove)) {
      await ctx.images.call('ModifyImageSharePermission', {
        RegionId: regionId,
        ImageId: imageId,
        RemoveAccount: batch,
      });
    }
    for (const batch of shareBatches(plan.add)) {
      await ctx.images.call('ModifyImageSharePermission', {
        RegionId: regionId,
        ImageId: imageId,
        AddAccount: batch,
      });
    }
    if (plan.add.length + plan.remove.length > 0) {
      ctx.log.info('replica-sharing', { regionId, imageId, added: plan.add, removed: plan.remove });
    }
  }

  /** The `Description` that marks the group as this resource's. */
  private ownerMark(): string {
    const physical = readPhysicalId(this.physicalId());
    const instance = physical.kind === 'instance' ? physical.instance : (physical.instance ?? '');
    return `${this.resourceMark()}${instance}`;
  }

  /** The part of the mark every instance of this resource (this stack, this logical id) shares. */
  private resourceMark(): string {
    const { event } = this.ctx;
    return `${STACK_GROUP_OWNER_PREFIX}${ownerPrefix(event.StackId, event.LogicalResourceId)}`;
  }

  /**
   * Whether the group is absent, this resource's, or someone else's. Ours: it carries this instance's mark, or, with
   * `anyInstance`, the mark of any instance of this resource.
   */
  private async groupState(group: string, anyInstance = false): Promise<'absent' | 'ours' | 'foreign'> {
    let answer: Record<string, unknown>;
    try {
      answer = await this.ros('GetStackGroup', { StackGroupName: group });
    } catch (error) {
      if (isNotFound(error)) {
        return 'absent';
      }
      throw this.apiFailure('ROS GetStackGroup', error);
    }
    const stackGroup = (answer.StackGroup ?? {}) as Record<string, unknown>;
    this.serviceManagedGroups.set(group, stackGroup.PermissionModel === 'SERVICE_MANAGED');
    if (stackGroup.Status === 'DELETED') {
      return 'absent';
    }
    const description = typeof stackGroup.Description === 'string' ? stackGroup.Description : '';
    return description === this.ownerMark() || (anyInstance && description.startsWith(this.resourceMark()))
      ? 'ours'
      : 'foreign';
  }

  private async createGroup(group: string, settings: DistributionSettings): Promise<void> {
    const selfManaged = settings.accountIds !== undefined;
    try {
      await this.ros('CreateStackGroup', {
        StackGroupName: group,
        Description: this.ownerMark(),
        TemplateBody: this.templateBody(settings),
        PermissionModel: selfManaged ? 'SELF_MANAGED' : 'SERVICE_MANAGED',
        ...(selfManaged
          ? {
              ...(settings.administrationRoleName
                ? { AdministrationRoleName: settings.administrationRoleName }
                : {}),
              ...(settings.executionRoleName ? { ExecutionRoleName: settings.executionRoleName } : {}),
            }
          : { AutoDeployment: JSON.stringify({ Enabled: false }) }),
        ClientToken: this.clientToken('create-group'),
      });
    } catch (error) {
      // A retried Create finds the group it made; anyone else's is refused.
      if ((await this.groupState(group)) !== 'ours') {
        throw this.apiFailure('ROS CreateStackGroup', error);
      }
    }
    this.ctx.log.info('group-created', { group });
  }

  private templateBody(settings: DistributionSettings): string {
    return fillTemplate(
      settings.templateBody,
      settings.replicaImageIds,
      (this.options.handlerZip ?? ownHandlerZip)(),
    );
  }

  /** Starts the step's operation; its id, or '' when ROS started none (a template-only update). */
  private async startOperation(
    step: Extract<DistributionStep, { kind: 'update-group' | 'create-instances' | 'delete-instances' }>,
    cursor: number,
  ): Promise<string> {
    const settings = this.settings;
    // A service-managed group names its (member) accounts in DeploymentTargets, a self-managed one in AccountIds.
    const targets = step.targets
      ? this.progress.serviceManaged
        ? { DeploymentTargets: JSON.stringify({ AccountIds: step.targets.accountIds }) }
        : { AccountIds: JSON.stringify(step.targets.accountIds) }
      : {};
    const query: Record<string, unknown> = {
      StackGroupName: step.group,
      ...targets,
      ...(step.targets ? { RegionIds: JSON.stringify(step.targets.regionIds) } : {}),
      ...operationPreferencesQuery(step.kind, settings?.operationPreferences),
      ClientToken: this.clientToken(`${step.kind}-${cursor}`),
    };
    const action =
      step.kind === 'update-group'
        ? 'UpdateStackGroup'
        : step.kind === 'create-instances'
          ? 'CreateStackInstances'
          : 'DeleteStackInstances';
    if (step.kind === 'update-group') {
      query.TemplateBody = this.templateBody(settings!);
      if (settings?.accountIds) {
        if (settings.administrationRoleName) {
          query.AdministrationRoleName = settings.administrationRoleName;
        }
        if (settings.executionRoleName) {
          query.ExecutionRoleName = settings.executionRoleName;
        }
      }
    }
    if (step.kind === 'create-instances') {
      query.TimeoutInMinutes = Math.max(
        10,
        Math.min(1440, Math.ceil((settings?.createTimeoutSeconds ?? 3600) / 60)),
      );
    }
    if (step.kind === 'delete-instances') {
      query.RetainStacks = step.retainStacks === true;
    }
    const answer = await this.rosWhileBusy(action, query);
    const operationId = typeof answer.OperationId === 'string' ? answer.OperationId : '';
    this.ctx.log.info('operation-started', { action, operationId, ...(step.targets ?? {}) });
    return operationId;
  }

  /**
   * Waits for the operation to end. SUCCEEDED: the pairs that failed within the tolerance. FAILED or STOPPED: throws
   * with each pair's reason.
   */
  private async waitForOperation(step: DistributionStep, operationId: string): Promise<FailedTarget[]> {
    const delays = this.options.pollDelaysMs ?? DEFAULT_POLL_DELAYS_MS;
    for (let poll = 0; ; poll++) {
      const answer = await this.ros('GetStackGroupOperation', { OperationId: operationId });
      const operation = (answer.StackGroupOperation ?? {}) as Record<string, unknown>;
      const status = operation.Status;
      if (status === 'SUCCEEDED' || status === 'FAILED' || status === 'STOPPED') {
        const failed = await this.failedResults(operationId);
        this.ctx.log.info('operation-ended', { operationId, status, failed: failed.length });
        if (status !== 'SUCCEEDED') {
          const reasons = failed.map((f) => `${f.AccountId}/${f.RegionId}: ${f.Reason}`).join('; ');
          throw new ImageCopyError(
            'CopyFailed',
            `The stack group operation ${operationId} (${step.kind}) of ${this.settingsGroup(step)} ended ${String(status)}` +
              `${reasons ? `: ${reasons}` : ''}${typeof operation.StatusReason === 'string' ? ` (${operation.StatusReason})` : ''}.`,
          );
        }
        return failed;
      }
      await this.ctx.invocation.sleep(delays[Math.min(poll, delays.length - 1)]);
    }
  }

  private settingsGroup(step: DistributionStep): string {
    return 'group' in step ? `stack group ${step.group}` : 'the stack group';
  }

  /** The pairs whose result is FAILED, with ROS's reason. */
  private async failedResults(operationId: string): Promise<FailedTarget[]> {
    const failed: FailedTarget[] = [];
    for (let page = 1; ; page++) {
      const answer = await this.ros('ListStackGroupOperationResults', {
        OperationId: operationId,
        PageNumber: page,
        PageSize: PAGE_SIZE,
      });
      const results = (answer.StackGroupOperationResults ?? []) as Array<Record<string, unknown>>;
      for (const result of results) {
        if (result.Status === 'FAILED') {
          failed.push({
            AccountId: String(result.AccountId ?? ''),
            RegionId: String(result.RegionId ?? ''),
            Reason: String(result.StatusReason ?? 'no reason given'),
          });
        }
      }
      if (results.length < PAGE_SIZE) {
        return failed;
      }
    }
  }

  /** The group's instances, as pairs, with their stack when they have one. */
  private async instances(group: string): Promise<InstancePair[]> {
    const pairs: InstancePair[] = [];
    for (let page = 1; ; page++) {
      const answer = await this.ros('ListStackInstances', {
        StackGroupName: group,
        PageNumber: page,
        PageSize: PAGE_SIZE,
      });
      const instances = (answer.StackInstances ?? []) as Array<Record<string, unknown>>;
      pairs.push(
        ...instances.map((instance) => ({
          accountId: String(instance.AccountId),
          regionId: String(instance.RegionId),
          ...(typeof instance.StackId === 'string' && instance.StackId !== ''
            ? { stackId: instance.StackId }
            : {}),
        })),
      );
      if (instances.length < PAGE_SIZE) {
        return pairs;
      }
    }
  }

  /** The member accounts of the folders (Resource Manager ListAccountsForParent, every page). */
  private async folderAccounts(folderIds: readonly string[]): Promise<string[]> {
    const accounts: string[] = [];
    for (const folder of folderIds) {
      for (let page = 1; ; page++) {
        const answer = await this.call(
          this.options.clients.resourceManager,
          'ResourceManager ListAccountsForParent',
          {
            ParentFolderId: folder,
            PageNumber: page,
            PageSize: PAGE_SIZE,
          },
        );
        const batch = ((answer.Accounts as Record<string, unknown> | undefined)?.Account ?? []) as Array<
          Record<string, unknown>
        >;
        for (const account of batch) {
          const id = String(account.AccountId ?? '');
          if (id !== '' && !accounts.includes(id)) {
            accounts.push(id);
          }
        }
        if (batch.length < PAGE_SIZE) {
          break;
        }
      }
    }
    return accounts;
  }

  /** A ClientToken per request and step: a repeated delivery or a continued invocation starts nothing twice. */
  private clientToken(step: string): string {
    const { event } = this.ctx;
    return createHash('sha256')
      .update(
        JSON.stringify(['ros-cdk-image-copy', event.StackId, event.LogicalResourceId, event.RequestId, step]),
      )
      .digest('hex')
      .slice(0, 64);
  }

  /** A ROS call (RegionId: the stack's region), retried while transient. */
  private ros(action: string, query: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.call(this.options.clients.ros, `ROS ${action}`, {
      RegionId: this.ctx.event.RegionId,
      ...query,
    });
  }

  /** A ROS call that also waits while another operation runs on the group (ROS runs one at a time). */
  private async rosWhileBusy(
    action: string,
    query: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const { ctx } = this;
    try {
      return await withRetry(() => this.ros(action, query), {
        operation: `ROS ${action}`,
        deadline: ctx.state.deadline,
        clock: ctx.clock,
        maxAttempts: 100,
        baseMs: 2_000,
        maxMs: 15_000,
        sleep: (ms) => ctx.invocation.sleep(ms),
        isTransient: (error) => (isBusy(error) ? 'unavailable' : transientKind(error)),
        onRetry: (info) =>
          ctx.log.warn('group-busy', { action, attempt: info.attempt, delayMs: info.delayMs }),
      });
    } catch (error) {
      throw this.apiFailure(`ROS ${action}`, error);
    }
  }

  private async call(
    api: RpcApi,
    operation: string,
    query: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const { ctx } = this;
    const action = operation.split(' ').pop()!;
    return withRetry(() => api.call(action, query, { timeoutMs: ctx.invocation.callTimeoutMs(20_000) }), {
      operation,
      deadline: ctx.state.deadline,
      clock: ctx.clock,
      sleep: (ms) => ctx.invocation.sleep(ms),
      isTransient: transientKind,
      onRetry: (info) =>
        ctx.log.warn('retry', { operation, attempt: info.attempt, delayMs: info.delayMs, code: info.code }),
    });
  }

  private apiFailure(operation: string, error: unknown): ImageCopyError {
    if (error instanceof ImageCopyError) {
      return error;
    }
    return new ImageCopyError('ApiError', describeApiError(operation, error), { cause: error });
  }
}

/** An instance of the group, and its stack when ROS made one. */
interface InstancePair extends Pair {
  readonly stackId?: string;
}

/**
 * The `OperationPreferences` of an operation: the resource's as given, except that a deletion tolerates no failure.
 * A deletion that failed in an account leaves its copy there, which must fail the request with ROS's reason rather
 * than pass as done (and the group, not empty, could not be deleted after it).
 */
function operationPreferencesQuery(
  kind: DistributionStep['kind'],
  preferences: Readonly<Record<string, unknown>> | undefined,
): { OperationPreferences?: string } {
  if (preferences === undefined) {
    return {};
  }
  const given =
    kind === 'delete-instances'
      ? Object.fromEntries(
          Object.entries(preferences).filter(([name]) => !name.startsWith('FailureTolerance')),
        )
      : preferences;
  return Object.keys(given).length > 0 ? { OperationPreferences: JSON.stringify(given) } : {};
}

/**
 * Deleting instances: those with a stack with it (`RetainStacks` false), those ROS never made a stack for
 * (`RetainStacks` true: nothing to delete in their account, which ROS may not reach).
 */
function removalSteps(
  group: string,
  instances: readonly InstancePair[],
  cleanup: boolean,
): DistributionStep[] {
  const withStack = instances.filter((instance) => instance.stackId !== undefined);
  const withoutStack = instances.filter((instance) => instance.stackId === undefined);
  return [
    ...operationTargets(withStack).map((targets) => ({
      kind: 'delete-instances' as const,
      group,
      targets,
      cleanup,
    })),
    ...operationTargets(withoutStack).map((targets) => ({
      kind: 'delete-instances' as const,
      group,
      targets,
      cleanup,
      retainStacks: true,
    })),
  ];
}

/** A stack group (or one of its parts) that does not exist. */
function isNotFound(error: unknown): boolean {
  return /NotFound|NotExist/i.test(errorCode(error) ?? '');
}

/** Another operation runs on the group. */
function isBusy(error: unknown): boolean {
  return /OperationInProgress|InProgress|Running|Conflict/i.test(errorCode(error) ?? '');
}
