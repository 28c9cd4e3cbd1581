/**
 * The plain shapes of what ROS answers about a stack (its summary, description, outputs, events, resources), shared
 * by the modules that read them, and the two facts about statuses every one of them needs.
 */

/** A stack output as GetStack answers it (NoEcho values come back masked). */
export interface StackOutput {
  readonly key: string;
  readonly value: unknown;
  readonly description?: string;
}

export interface StackSummary {
  readonly stackId: string;
  readonly stackName: string;
  readonly status: string;
  readonly statusReason?: string;
}

export interface StackDescription extends StackSummary {
  readonly outputs: StackOutput[];
  /** The parameter values the stack was deployed with (NoEcho ones masked), pseudo parameters left out. */
  readonly parameters: Record<string, string>;
  readonly createTime?: string;
  readonly updateTime?: string;
}

/** One stack event (of the stack itself or of one of its resources). */
export interface StackEvent {
  readonly eventId: string;
  readonly stackName: string;
  readonly logicalResourceId: string;
  readonly physicalResourceId: string;
  readonly resourceType: string;
  readonly status: string;
  readonly statusReason: string;
  readonly createTime: string;
}

export interface StackResource {
  readonly logicalResourceId: string;
  readonly physicalResourceId: string;
  readonly resourceType: string;
  readonly status: string;
  readonly statusReason: string;
}

/** A change set as GetChangeSet describes it. */
export interface ChangeSetDescription {
  readonly changeSetId: string;
  readonly changeSetName: string;
  /** `CREATE` or `UPDATE`. */
  readonly changeSetType: string;
  readonly stackId: string;
  /** `CREATE_PENDING`, `CREATE_IN_PROGRESS`, `CREATE_COMPLETE`, `CREATE_FAILED`, ... */
  readonly status: string;
  readonly statusReason: string;
  /** `UNAVAILABLE`, `AVAILABLE`, `EXECUTE_IN_PROGRESS`, `EXECUTE_COMPLETE`, ... */
  readonly executionStatus: string;
  readonly changes: ResourceChange[];
}

/** One change of a change set, in ROS's words (the Change and ResourceChange data structures). */
export interface ResourceChange {
  /** `Resource`. */
  readonly type: string;
  /** `Add`, `Modify` or `Remove`. */
  readonly action: string;
  readonly logicalResourceId: string;
  readonly physicalResourceId?: string;
  readonly resourceType: string;
  /** For `Modify`: `True`, `False` or `Conditional`. */
  readonly replacement?: string;
  /** What changes and why: the property, whether it needs recreation, what caused it. */
  readonly details: {
    readonly attribute?: string;
    readonly name?: string;
    readonly requiresRecreation?: string;
    readonly changeSource?: string;
    readonly causingEntity?: string;
    readonly evaluation?: string;
  }[];
}

/** Whether a status is one of an operation still running (`CREATE_IN_PROGRESS`, `DELETE_IN_PROGRESS`, ...). */
export const isInProgress = (status: string): boolean => status.endsWith('_IN_PROGRESS');

/** The resource type of a stack's own events (and of a nested stack's). */
export const STACK_RESOURCE_TYPE = 'ALIYUN::ROS::Stack';
