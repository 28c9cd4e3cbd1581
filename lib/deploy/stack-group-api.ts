/**
 * The ROS stack group calls the deploy helper makes to follow and read the stack groups a stack manages
 * (GetStackGroup, ListStackGroupOperations, GetStackGroupOperation, ListStackGroupOperationResults,
 * ListStackInstances, GetStackInstance), each retried on throttling and server errors like the stack calls, their
 * answers read into plain shapes. Field names are the ros20190910 SDK's.
 */
import * as $Ros from '@alicloud/ros20190910';
import type { Clock } from '../clock';
import type { RosConnection } from './connection';
import { DeployError } from './errors';
import { withRetry } from './retry';

/** One operation of a stack group (ListStackGroupOperations, GetStackGroupOperation). */
export interface StackGroupOperation {
  readonly operationId: string;
  /** `CREATE` | `UPDATE` | `DELETE` | `DETECT_DRIFT`. */
  readonly action: string;
  /** `RUNNING` | `SUCCEEDED` | `FAILED` | `STOPPING` | `STOPPED` | `QUEUED`. */
  readonly status: string;
  readonly createTime?: string;
  readonly endTime?: string;
}

/** The result of an operation in one account and region (ListStackGroupOperationResults). */
export interface StackGroupOperationResult {
  readonly accountId: string;
  readonly regionId: string;
  readonly rdFolderId?: string;
  /** `RUNNING` | `SUCCEEDED` | `FAILED` | `CANCELLED`. */
  readonly status: string;
  readonly statusReason?: string;
}

/** A stack instance (ListStackInstances, GetStackInstance). */
export interface StackInstanceSummary {
  readonly accountId: string;
  readonly regionId: string;
  readonly rdFolderId?: string;
  /** `CURRENT` | `OUTDATED` | `INOPERABLE`. */
  readonly status: string;
  readonly statusReason?: string;
  readonly stackId?: string;
}

/** An output of a stack instance's stack (GetStackInstance with OutputOption=Enabled). */
export interface StackInstanceOutput {
  readonly key: string;
  readonly value: unknown;
}

/**
 * Statuses of an operation that is still going: documented at
 * https://www.alibabacloud.com/help/en/ros/user-guide/status-of-stack-group-and-stack-instance-operations (QUEUED: an
 * automatic deployment waits for a running operation).
 */
export const ACTIVE_OPERATION_STATUSES: readonly string[] = ['RUNNING', 'STOPPING', 'QUEUED'];

/** ROS's largest page of the stack group listings (PageSize 1 to 50). */
const PAGE_SIZE = 50;
/** Never read more pages than this of one listing (2,000 instances per group is ROS's limit: 40 pages). */
const MAX_PAGES = 50;

/** Whether an API error says the stack group (or its operation or instance) does not exist. */
export function isNotFound(err: unknown): boolean {
  return err instanceof DeployError && /NotFound|NotExist/i.test(err.apiCode ?? '');
}

/** The stack group calls, in the connection's region, each retried on throttling and server errors. */
export class StackGroupApi {
  constructor(
    private readonly connection: RosConnection,
    private readonly signal?: AbortSignal,
  ) {}

  get regionId(): string {
    return this.connection.regionId;
  }

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

  /** Whether the group exists (GetStackGroup; a DELETED group counts as gone). */
  async exists(stackGroupName: string): Promise<boolean> {
    try {
      const answer = await this.call('GetStackGroup', () =>
        this.connection.ros.getStackGroup(
          new $Ros.GetStackGroupRequest({ regionId: this.regionId, stackGroupName }),
        ),
      );
      return answer.body?.stackGroup?.status !== 'DELETED';
    } catch (err) {
      if (isNotFound(err)) {
        return false;
      }
      throw err;
    }
  }

  /**
   * One page of the group's operations and how many there are in all; undefined when the group does not exist.
   * ROS does not document the order of the list.
   */
  async operationsPage(
    stackGroupName: string,
    pageNumber: number,
  ): Promise<{ operations: StackGroupOperation[]; totalCount: number } | undefined> {
    try {
      const answer = await this.call('ListStackGroupOperations', () =>
        this.connection.ros.listStackGroupOperations(
          new $Ros.ListStackGroupOperationsRequest({
            regionId: this.regionId,
            stackGroupName,
            pageNumber,
            pageSize: PAGE_SIZE,
          }),
        ),
      );
      return {
        operations: (answer.body?.stackGroupOperations ?? []).map((o) => ({
          operationId: o.operationId ?? '',
          action: o.action ?? '',
          status: o.status ?? '',
          ...(o.createTime && { createTime: o.createTime }),
          ...(o.endTime && { endTime: o.endTime }),
        })),
        totalCount: answer.body?.totalCount ?? 0,
      };
    } catch (err) {
      if (isNotFound(err)) {
        return undefined;
      }
      throw err;
    }
  }

  /** Every operation of the group (all pages); undefined when the group does not exist. */
  async operations(
    stackGroupName: string,
  ): Promise<{ operations: StackGroupOperation[]; totalCount: number } | undefined> {
    const first = await this.operationsPage(stackGroupName, 1);
    if (!first) {
      return undefined;
    }
    const operations = [...first.operations];
    for (
      let page = 2;
      page <= MAX_PAGES && (page - 1) * PAGE_SIZE < first.totalCount && first.operations.length > 0;
      page++
    ) {
      const next = await this.operationsPage(stackGroupName, page);
      if (!next || next.operations.length === 0) {
        break;
      }
      operations.push(...next.operations);
    }
    return { operations, totalCount: first.totalCount };
  }

  /** GetStackGroupOperation; undefined when ROS no longer knows it. */
  async operation(operationId: string): Promise<StackGroupOperation | undefined> {
    try {
      const answer = await this.call('GetStackGroupOperation', () =>
        this.connection.ros.getStackGroupOperation(
          new $Ros.GetStackGroupOperationRequest({ regionId: this.regionId, operationId }),
        ),
      );
      const o = answer.body?.stackGroupOperation;
      return o
        ? {
            operationId: o.operationId ?? operationId,
            action: o.action ?? '',
            status: o.status ?? '',
            ...(o.createTime && { createTime: o.createTime }),
            ...(o.endTime && { endTime: o.endTime }),
          }
        : undefined;
    } catch (err) {
      if (isNotFound(err)) {
        return undefined;
      }
      throw err;
    }
  }

  /** Every result of an operation, per account and region (all pages); [] when ROS no longer knows it. */
  async operationResults(operationId: string): Promise<StackGroupOperationResult[]> {
    const results: StackGroupOperationResult[] = [];
    try {
      for (let page = 1; page <= MAX_PAGES; page++) {
        const answer = await this.call('ListStackGroupOperationResults', () =>
          this.connection.ros.listStackGroupOperationResults(
            new $Ros.ListStackGroupOperationResultsRequest({
              regionId: this.regionId,
              operationId,
              pageNumber: page,
              pageSize: PAGE_SIZE,
            }),
          ),
        );
        const listed = answer.body?.stackGroupOperationResults ?? [];
        results.push(
          ...listed.map((r) => ({
            accountId: r.accountId ?? '',
            regionId: r.regionId ?? '',
            ...(r.rdFolderId && { rdFolderId: r.rdFolderId }),
            status: r.status ?? '',
            ...(r.statusReason && { statusReason: r.statusReason }),
          })),
        );
        if (listed.length === 0 || results.length >= (answer.body?.totalCount ?? 0)) {
          break;
        }
      }
    } catch (err) {
      if (isNotFound(err)) {
        return results;
      }
      throw err;
    }
    return results;
  }

  /** Every instance of the group (all pages); undefined when the group does not exist. */
  async instances(stackGroupName: string): Promise<StackInstanceSummary[] | undefined> {
    const instances: StackInstanceSummary[] = [];
    try {
      for (let page = 1; page <= MAX_PAGES; page++) {
        const answer = await this.call('ListStackInstances', () =>
          this.connection.ros.listStackInstances(
            new $Ros.ListStackInstancesRequest({
              regionId: this.regionId,
              stackGroupName,
              pageNumber: page,
              pageSize: PAGE_SIZE,
            }),
          ),
        );
        const listed = answer.body?.stackInstances ?? [];
        instances.push(...listed.map(toInstance));
        if (listed.length === 0 || instances.length >= (answer.body?.totalCount ?? 0)) {
          break;
        }
      }
    } catch (err) {
      if (isNotFound(err)) {
        return undefined;
      }
      throw err;
    }
    return instances;
  }

  /** GetStackInstance with its stack's outputs; undefined when it does not exist. */
  async instanceOutputs(
    stackGroupName: string,
    accountId: string,
    regionId: string,
  ): Promise<(StackInstanceSummary & { outputs: StackInstanceOutput[] }) | undefined> {
    try {
      const answer = await this.call('GetStackInstance', () =>
        this.connection.ros.getStackInstance(
          new $Ros.GetStackInstanceRequest({
            regionId: this.regionId,
            stackGroupName,
            stackInstanceAccountId: accountId,
            stackInstanceRegionId: regionId,
            outputOption: 'Enabled',
          }),
        ),
      );
      const instance = answer.body?.stackInstance;
      if (!instance) {
        return undefined;
      }
      return {
        ...toInstance(instance),
        outputs: (instance.outputs ?? []).map((o) => ({ key: String(o.OutputKey), value: o.OutputValue })),
      };
    } catch (err) {
      if (isNotFound(err)) {
        return undefined;
      }
      throw err;
    }
  }
}

function toInstance(i: {
  accountId?: string;
  regionId?: string;
  rdFolderId?: string;
  status?: string;
  statusReason?: string;
  stackId?: string;
}): StackInstanceSummary {
  return {
    accountId: i.accountId ?? '',
    regionId: i.regionId ?? '',
    ...(i.rdFolderId && { rdFolderId: i.rdFolderId }),
    status: i.status ?? '',
    ...(i.statusReason && { statusReason: i.statusReason }),
    ...(i.stackId && { stackId: i.stackId }),
  };
}
