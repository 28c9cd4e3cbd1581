/**
 * The ROS calls the deploy helper makes (ListStacks, GetStack, ListStackEvents, ListStackResources, GetTemplate,
 * CreateStack, UpdateStack, DeleteStack, and the change set calls), each retried on throttling and server errors, their answers read into the
 * plain shapes of `stack-types.ts`, and the polite refusal of a busy stack.
 */
import * as $Ros from '@alicloud/ros20190910';
import type { Clock } from '../clock';
import { apiError, DeployError } from './errors';
import { collectNewEvents, EventListing, FetchEventPage, learnOrder, newestEventIds } from './event-pages';
import type { RosConnection } from './connection';
import { withRetry } from './retry';
import type {
  ChangeSetDescription,
  ResourceChange,
  StackDescription,
  StackEvent,
  StackOutput,
  StackResource,
  StackSummary,
} from './stack-types';

export { isInProgress, STACK_RESOURCE_TYPE } from './stack-types';
export type { StackDescription, StackEvent, StackOutput, StackResource, StackSummary };
export type { ChangeSetDescription, ResourceChange };

/** Statuses from which UpdateStack may start (ROS documentation). */
export const UPDATABLE_STATUSES: readonly string[] = [
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

const EVENT_PAGE_SIZE = 50;
/** Never page back further than this many events while looking for new ones. */
const MAX_EVENT_PAGES = 20;

/** The ROS calls the deploy helper makes, each retried on throttling and server errors. */
export class StackApi {
  /** What ListStackEvents has shown of its order and of each stack's count. */
  private readonly listing = new EventListing();

  constructor(
    private readonly connection: RosConnection,
    private readonly signal?: AbortSignal,
  ) {}

  get regionId(): string {
    return this.connection.regionId;
  }

  /** The clock of the connection, for waits between calls. */
  get clock(): Clock {
    return this.connection.clock;
  }

  private call<T>(action: string, run: () => Promise<T>): Promise<T> {
    return withRetry(action, run, {
      ...this.connection.retry,
      signal: this.signal,
      clock: this.connection.clock,
    });
  }

  /** The live stack of that name (not DELETE_COMPLETE), found through ListStacks: no local state to go stale. */
  async findByName(stackName: string): Promise<StackSummary | undefined> {
    const answer = await this.call('ListStacks', () =>
      this.connection.ros.listStacks(
        new $Ros.ListStacksRequest({
          regionId: this.regionId,
          stackName: [stackName],
          pageSize: 50,
          pageNumber: 1,
        }),
      ),
    );
    const live = (answer.body?.stacks ?? []).filter(
      (s) => s.stackName === stackName && s.status !== 'DELETE_COMPLETE',
    );
    const stack = live[0];
    return stack
      ? {
          stackId: stack.stackId!,
          stackName: stack.stackName!,
          status: stack.status!,
          statusReason: stack.statusReason,
        }
      : undefined;
  }

  /** Looks a stack up by name; throws `StackNotFound` when there is none. */
  async requireByName(stackName: string): Promise<StackSummary> {
    const stack = await this.findByName(stackName);
    if (!stack) {
      throw new DeployError('StackNotFound', `No stack named ${stackName} in ${this.regionId}.`);
    }
    return stack;
  }

  /** GetStack; undefined when the stack is gone (`StackNotFound`). */
  async get(stackId: string, withOutputs = false): Promise<StackDescription | undefined> {
    try {
      const answer = await this.call('GetStack', () =>
        this.connection.ros.getStack(
          new $Ros.GetStackRequest({
            regionId: this.regionId,
            stackId,
            outputOption: withOutputs ? 'Enabled' : 'Disabled',
          }),
        ),
      );
      const b = answer.body!;
      return {
        stackId: b.stackId ?? stackId,
        stackName: b.stackName ?? '',
        status: b.status ?? 'UNKNOWN',
        statusReason: b.statusReason,
        createTime: b.createTime,
        updateTime: b.updateTime,
        parameters: Object.fromEntries(
          (b.parameters ?? [])
            .filter((p) => p.parameterKey && !p.parameterKey.startsWith('ALIYUN::'))
            .map((p) => [p.parameterKey!, p.parameterValue ?? '']),
        ),
        outputs: (b.outputs ?? []).map((o) => ({
          key: String(o.OutputKey),
          value: o.OutputValue,
          ...(o.Description !== undefined && { description: String(o.Description) }),
        })),
      };
    } catch (err) {
      if (err instanceof DeployError && err.apiCode === 'StackNotFound') {
        return undefined;
      }
      throw err;
    }
  }

  /** Events not in `seen`, oldest first (see {@link collectNewEvents}). Adds them to `seen`. */
  newEvents(stackId: string, seen: Set<string>): Promise<StackEvent[]> {
    return collectNewEvents(
      this.eventPages(stackId),
      seen,
      EVENT_PAGE_SIZE,
      MAX_EVENT_PAGES,
      stackId,
      this.listing,
    );
  }

  /** Marks the stack's current events as seen, so that {@link newEvents} reports only later ones. */
  async markSeen(stackId: string, seen: Set<string>): Promise<void> {
    try {
      for (const id of await newestEventIds(
        this.eventPages(stackId),
        EVENT_PAGE_SIZE,
        stackId,
        this.listing,
      )) {
        seen.add(id);
      }
    } catch (err) {
      // Best effort: following the stack copes without events.
      if (err instanceof DeployError && err.code === 'Aborted') {
        throw err;
      }
    }
  }

  private eventPages(stackId: string, logicalResourceId?: string): FetchEventPage {
    return async (pageNumber) => {
      const answer = await this.call('ListStackEvents', () =>
        this.connection.ros.listStackEvents(
          new $Ros.ListStackEventsRequest({
            ...(logicalResourceId && { logicalResourceId: [logicalResourceId] }),
            regionId: this.regionId,
            stackId,
            pageNumber,
            pageSize: EVENT_PAGE_SIZE,
          }),
        ),
      );
      return { events: (answer.body?.events ?? []).map(toEvent), totalCount: answer.body?.totalCount ?? 0 };
    };
  }

  /** The most recent `limit` events (of one resource, with `logicalResourceId`), oldest first. */
  async recentEvents(stackId: string, limit: number, logicalResourceId?: string): Promise<StackEvent[]> {
    const pages = Math.ceil(limit / EVENT_PAGE_SIZE) + 1;
    if (logicalResourceId && !this.listing.order) {
      // The order shows in the stack's whole list (its first event is not among one resource's).
      const whole = this.eventPages(stackId);
      await learnOrder(whole, await whole(1), stackId, EVENT_PAGE_SIZE, this.listing);
    }
    const listing = new EventListing(); // counts of this (maybe filtered) list are not the stack's
    listing.order = this.listing.order;
    const events = await collectNewEvents(
      this.eventPages(stackId, logicalResourceId),
      new Set(),
      EVENT_PAGE_SIZE,
      pages,
      stackId,
      listing,
    );
    this.listing.order ??= listing.order;
    return events.slice(-limit);
  }

  async resources(stackId: string): Promise<StackResource[]> {
    const answer = await this.call('ListStackResources', () =>
      this.connection.ros.listStackResources(
        new $Ros.ListStackResourcesRequest({ regionId: this.regionId, stackId }),
      ),
    );
    return (answer.body?.resources ?? []).map((r) => ({
      logicalResourceId: r.logicalResourceId ?? '',
      physicalResourceId: r.physicalResourceId ?? '',
      resourceType: r.resourceType ?? '',
      status: r.status ?? '',
      statusReason: r.statusReason ?? '',
    }));
  }

  async templateBody(stackId: string): Promise<string> {
    const answer = await this.call('GetTemplate', () =>
      this.connection.ros.getTemplate(new $Ros.GetTemplateRequest({ regionId: this.regionId, stackId })),
    );
    return answer.body?.templateBody ?? '{}';
  }

  async create(request: $Ros.CreateStackRequest): Promise<string> {
    const answer = await this.call('CreateStack', () => this.connection.ros.createStack(request));
    return answer.body!.stackId!;
  }

  /** UpdateStack; `'no-changes'` when ROS says the stack is "completely same". */
  async update(request: $Ros.UpdateStackRequest): Promise<'started' | 'no-changes'> {
    try {
      await this.call('UpdateStack', () => this.connection.ros.updateStack(request));
      return 'started';
    } catch (err) {
      if (
        err instanceof DeployError &&
        err.apiCode === 'NotSupported' &&
        /completely same stack/i.test(err.message)
      ) {
        return 'no-changes';
      }
      throw err;
    }
  }

  async createChangeSet(
    request: $Ros.CreateChangeSetRequest,
  ): Promise<{ changeSetId: string; stackId: string }> {
    const answer = await this.call('CreateChangeSet', () => this.connection.ros.createChangeSet(request));
    return { changeSetId: answer.body!.changeSetId!, stackId: answer.body!.stackId! };
  }

  async getChangeSet(changeSetId: string): Promise<ChangeSetDescription> {
    const answer = await this.call('GetChangeSet', () =>
      this.connection.ros.getChangeSet(
        new $Ros.GetChangeSetRequest({ regionId: this.regionId, changeSetId }),
      ),
    );
    const b = answer.body!;
    return {
      changeSetId,
      changeSetName: b.changeSetName ?? '',
      changeSetType: b.changeSetType ?? '',
      stackId: b.stackId ?? '',
      status: b.status ?? 'UNKNOWN',
      statusReason: b.statusReason ?? '',
      executionStatus: b.executionStatus ?? '',
      changes: (b.changes ?? []).map(toChange),
    };
  }

  async executeChangeSet(changeSetId: string, clientToken: string): Promise<void> {
    await this.call('ExecuteChangeSet', () =>
      this.connection.ros.executeChangeSet(
        new $Ros.ExecuteChangeSetRequest({ regionId: this.regionId, changeSetId, clientToken }),
      ),
    );
  }

  async deleteChangeSet(changeSetId: string): Promise<void> {
    await this.call('DeleteChangeSet', () =>
      this.connection.ros.deleteChangeSet(
        new $Ros.DeleteChangeSetRequest({ regionId: this.regionId, changeSetId }),
      ),
    );
  }

  async delete(stackId: string): Promise<void> {
    await this.call('DeleteStack', () =>
      this.connection.ros.deleteStack(new $Ros.DeleteStackRequest({ regionId: this.regionId, stackId })),
    );
  }
}

/** ActionInProgress (or a status ending in _IN_PROGRESS) as a polite refusal. */
export function busyError(stackName: string, status: string, apiMessage?: string): DeployError {
  const what = apiMessage ? `ROS says: ${apiMessage}` : 'another operation is in progress.';
  return new DeployError(
    'StackBusy',
    (w) =>
      `Stack ${stackName} is busy (${status}): ${what} ` +
      `Wait for it to finish (follow it with ${w.command('events', stackName)}), then run this again.`,
  );
}

/** Rethrows ActionInProgress as {@link busyError}. */
export function refuseBusy(stackName: string, err: unknown): never {
  const failure = apiError('ROS', err);
  if (failure.apiCode === 'ActionInProgress') {
    throw busyError(stackName, 'ActionInProgress', failure.apiMessage);
  }
  throw failure;
}

function toEvent(e: $Ros.ListStackEventsResponseBodyEvents): StackEvent {
  return {
    eventId: e.eventId ?? '',
    stackName: e.stackName ?? '',
    logicalResourceId: e.logicalResourceId ?? '',
    physicalResourceId: e.physicalResourceId ?? '',
    resourceType: e.resourceType ?? '',
    status: e.status ?? '',
    statusReason: e.statusReason ?? '',
    createTime: e.createTime ?? '',
  };
}

/** A change of GetChangeSet (ROS's Change data structure), read field by field: anything else is left out. */
function toChange(raw: Record<string, unknown>): ResourceChange {
  const change = (raw.ResourceChange ?? {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return {
    type: text(raw.Type) ?? 'Resource',
    action: text(change.Action) ?? '',
    logicalResourceId: text(change.LogicalResourceId) ?? '',
    ...(text(change.PhysicalResourceId) && { physicalResourceId: text(change.PhysicalResourceId) }),
    resourceType: text(change.ResourceType) ?? '',
    ...(text(change.Replacement) && { replacement: text(change.Replacement) }),
    details: (Array.isArray(change.Details) ? change.Details : []).map((d: Record<string, unknown>) => {
      const target = (d.Target ?? {}) as Record<string, unknown>;
      return {
        ...(text(target.Attribute) && { attribute: text(target.Attribute) }),
        ...(text(target.Name) && { name: text(target.Name) }),
        ...(text(target.RequiresRecreation) && { requiresRecreation: text(target.RequiresRecreation) }),
        ...(text(d.ChangeSource) && { changeSource: text(d.ChangeSource) }),
        ...(text(d.CausingEntity) && { causingEntity: text(d.CausingEntity) }),
        ...(text(d.Evaluation) && { evaluation: text(d.Evaluation) }),
      };
    }),
  };
}
