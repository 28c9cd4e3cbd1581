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

/** Whether a status is one of an operation still running (`CREATE_IN_PROGRESS`, `DELETE_IN_PROGRESS`, ...). */
export const isInProgress = (status: string): boolean => status.endsWith('_IN_PROGRESS');

/** The resource type of a stack's own events (and of a nested stack's). */
export const STACK_RESOURCE_TYPE = 'ALIYUN::ROS::Stack';
