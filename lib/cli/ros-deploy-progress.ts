/**
 * How `ros-deploy` shows a deploy or destroy as it happens: one line per event for logs and CI, or a progress bar
 * redrawn in place on a terminal, and the summary at the end (outputs, then failures with their reasons).
 */
import {
  type DeployEvent,
  imageIdsOf,
  shortAccountId,
  type StackGroupReport,
  type StackOperationResult,
} from '../deploy';
import type { Output } from './io';

export type { Output };

/** Shows what happens while stacks are deployed or destroyed. */
export interface ProgressDisplay {
  onEvent(event: DeployEvent): void;
  /** Stops timers and leaves the terminal clean. */
  stop(): void;
}

interface StackActivity {
  status: string;
  operation: string;
  startedAt: number;
  total: number;
  /** Latest status of each resource that has events in this operation. */
  resources: Map<string, { status: string; type: string; path?: string }>;
  copies: Map<string, { percent: number; remainingSeconds?: number; imageId: string }>;
  /** The latest count of each stack group operation still going, by group name. */
  groups: Map<string, { action: string; done: number; total: number }>;
  done: boolean;
}

const time = (iso: string) => iso.replace(/^.*T/, '').slice(0, 8) || new Date().toISOString().slice(11, 19);

/** A duration given in milliseconds, as `42s`, `3m05s` or `1h02m`. */
export function formatDurationMs(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) {
    return `${s}s`;
  }
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(s % 60).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function copyText(copy: { percent: number; remainingSeconds?: number; imageId: string }): string {
  const eta =
    copy.remainingSeconds !== undefined
      ? `, about ${formatDurationMs(copy.remainingSeconds * 1000)} left`
      : '';
  return `copying ${copy.imageId}: ${copy.percent}%${eta}`;
}

const resourceName = (logicalId: string, path?: string) => (path ? `${path} (${logicalId})` : logicalId);

const groupCount = (g: { action: string; done: number; total: number }) =>
  `${g.action} ${g.done}/${g.total} stack instances done`;

/** `1234…5678 cn-beijing      CREATE  SUCCEEDED`: one account and region of a stack group operation. */
function instanceLine(e: Extract<DeployEvent, { type: 'stack-instance' }>): string {
  const reason = e.statusReason && e.status !== 'SUCCEEDED' ? ` ${e.statusReason}` : '';
  return `${shortAccountId(e.accountId)} ${e.regionId.padEnd(16)} ${e.action.padEnd(7)} ${e.status}${reason}`;
}

/** Tracks the activity of each stack from the events, for both displays. */
abstract class Tracker implements ProgressDisplay {
  protected readonly stacks = new Map<string, StackActivity>();

  onEvent(event: DeployEvent): void {
    const stack = this.activity(event.stackName);
    switch (event.type) {
      case 'started':
        stack.operation = event.operation;
        stack.total = event.resourceCount;
        stack.startedAt = Date.now();
        break;
      case 'stack-event':
        if (
          event.event.logicalResourceId === event.stackName &&
          event.event.resourceType === 'ALIYUN::ROS::Stack'
        ) {
          stack.status = event.event.status;
        } else {
          stack.resources.set(event.event.logicalResourceId, {
            status: event.event.status,
            type: event.event.resourceType,
            path: event.constructPath,
          });
          if (!event.event.status.endsWith('_IN_PROGRESS')) {
            stack.copies.delete(event.event.logicalResourceId);
          }
        }
        break;
      case 'poll':
        stack.status = event.status;
        stack.done = !event.status.endsWith('_IN_PROGRESS');
        break;
      case 'image-copy-progress':
        stack.copies.set(event.logicalResourceId, event);
        break;
      case 'stack-group-progress':
        stack.groups.set(event.stackGroupName, event);
        break;
      case 'stack-group-operation':
        if (!['RUNNING', 'STOPPING', 'QUEUED'].includes(event.status)) {
          stack.groups.delete(event.stackGroupName);
        }
        break;
    }
    this.show(event, stack);
  }

  protected abstract show(event: DeployEvent, stack: StackActivity): void;
  abstract stop(): void;

  private activity(stackName: string): StackActivity {
    let stack = this.stacks.get(stackName);
    if (!stack) {
      stack = {
        status: 'STARTING',
        operation: '',
        startedAt: Date.now(),
        total: 0,
        resources: new Map(),
        copies: new Map(),
        groups: new Map(),
        done: false,
      };
      this.stacks.set(stackName, stack);
    }
    return stack;
  }

  protected inProgress(stack: StackActivity): string[] {
    return [
      ...[...stack.resources]
        .filter(([, r]) => r.status.endsWith('_IN_PROGRESS'))
        .map(([id, r]) => {
          const copy = stack.copies.get(id);
          return `${resourceName(id, r.path)}${copy ? ` ${copyText(copy)}` : ''}`;
        }),
      ...[...stack.groups].map(([name, g]) => `stack group ${name} ${groupCount(g)}`),
    ];
  }
}

/**
 * One line per event, fit for CI logs: `Stack | time | STATUS | Type | path (LogicalId) reason`, image copy
 * progress when it moves, and a heartbeat for each busy stack when nothing was printed for `heartbeatMs`.
 */
export class EventsDisplay extends Tracker {
  private lastLine = Date.now();
  private readonly timer: NodeJS.Timeout;
  /** The copy percentage last printed for each stack/resource: a line only when it moves. */
  private readonly printedPercent = new Map<string, number>();

  constructor(
    private readonly out: Output,
    private readonly heartbeatMs = 30_000,
  ) {
    super();
    this.timer = setInterval(() => this.heartbeat(), Math.min(1000, heartbeatMs));
    this.timer.unref();
  }

  protected show(event: DeployEvent, stack: StackActivity): void {
    switch (event.type) {
      case 'started':
        return this.line(`${event.stackName} | ${event.operation} started (stack id ${event.stackId})`);
      case 'stack-event': {
        const e = event.event;
        const reason = e.statusReason && e.statusReason !== 'state changed' ? ` ${e.statusReason}` : '';
        return this.line(
          `${event.stackName} | ${time(e.createTime)} | ${e.status.padEnd(27)} | ${e.resourceType} | ${resourceName(e.logicalResourceId, event.constructPath)}${reason}`,
        );
      }
      case 'image-copy-progress': {
        const key = `${event.stackName}/${event.logicalResourceId}`;
        if (this.printedPercent.get(key) === event.percent) {
          return;
        }
        this.printedPercent.set(key, event.percent);
        const r = stack.resources.get(event.logicalResourceId);
        return this.line(
          `${event.stackName} | ImageCopy ${resourceName(event.logicalResourceId, r?.path)} ${copyText(event)}`,
        );
      }
      case 'retry':
        return this.line(
          `${event.stackName} | ${event.notice.action}: ${event.notice.reason}, retrying in ${formatDurationMs(event.notice.delayMs)}`,
        );
      case 'message':
        return this.line(`${event.stackName} | ${event.text}`);
      case 'stack-group-operation':
        return this.line(
          `${event.stackName} | stack group ${event.stackGroupName} | ${event.action} operation ${event.operationId} ${event.status}`,
        );
      case 'stack-instance':
        return this.line(`${event.stackName} | stack group ${event.stackGroupName} | ${instanceLine(event)}`);
      case 'stack-group-progress':
        return this.line(`${event.stackName} | stack group ${event.stackGroupName} | ${groupCount(event)}`);
      case 'poll':
        return;
    }
  }

  private heartbeat(): void {
    if (Date.now() - this.lastLine < this.heartbeatMs) {
      return;
    }
    const busy = [...this.stacks].filter(([, s]) => !s.done);
    if (busy.length === 0) {
      return;
    }
    for (const [name, stack] of busy) {
      const working = this.inProgress(stack);
      this.line(
        `${name} | still ${stack.status} after ${formatDurationMs(Date.now() - stack.startedAt)}` +
          (working.length > 0 ? `; in progress: ${working.join(', ')}` : ''),
      );
    }
  }

  private line(text: string): void {
    this.lastLine = Date.now();
    this.out.write(text + '\n');
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * A block at the bottom of the terminal, redrawn in place: a progress bar per stack and the resources still in
 * progress (with image copy percentages). Failures are printed above it and stay.
 */
export class BarDisplay extends Tracker {
  private drawn = 0;
  private lastFrame = '';
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly out: Output) {
    super();
    this.timer = setInterval(() => this.redraw(), 1000);
    this.timer.unref();
  }

  protected show(event: DeployEvent): void {
    if (event.type === 'stack-event' && event.event.status.endsWith('_FAILED')) {
      const e = event.event;
      this.above(
        `${event.stackName} | ${e.status} | ${e.resourceType} | ${resourceName(e.logicalResourceId, event.constructPath)} ${e.statusReason}`,
      );
    } else if (
      event.type === 'stack-instance' &&
      (event.status === 'FAILED' || event.status === 'CANCELLED')
    ) {
      this.above(`${event.stackName} | stack group ${event.stackGroupName} | ${instanceLine(event)}`);
    } else if (event.type === 'message' || event.type === 'retry') {
      this.above(
        event.type === 'message'
          ? `${event.stackName} | ${event.text}`
          : `${event.stackName} | ${event.notice.action}: ${event.notice.reason}, retrying`,
      );
    }
    this.redraw();
  }

  private above(text: string): void {
    this.clear();
    this.out.write(text + '\n');
  }

  private clear(): void {
    if (this.drawn > 0) {
      this.out.write(`\x1b[${this.drawn}A\x1b[0J`);
    }
    this.drawn = 0;
  }

  private redraw(): void {
    const width = Math.max(40, (this.out.columns || 100) - 1);
    const lines: string[] = [];
    for (const [name, stack] of this.stacks) {
      const done = [...stack.resources.values()].filter(
        (r) => r.status.endsWith('_COMPLETE') || r.status === 'DELETE_SKIPPED',
      ).length;
      const total = Math.max(stack.total, stack.resources.size, 1);
      const filled = Math.round((Math.min(done, total) / total) * 20);
      const bar = `[${'#'.repeat(filled)}${'-'.repeat(20 - filled)}]`;
      lines.push(
        `${name} ${bar} ${done}/${total} ${stack.status} ${formatDurationMs(Date.now() - stack.startedAt)}`,
      );
      if (stack.done) {
        continue;
      }
      // What matters first (the logical id and how far it is), the construct path last: long lines are cut.
      for (const [id, r] of stack.resources) {
        if (!r.status.endsWith('_IN_PROGRESS')) {
          continue;
        }
        const copy = stack.copies.get(id);
        lines.push(`  ${id} ${copy ? copyText(copy) : r.status}${r.path ? `  ${r.path}` : ''}`);
      }
      for (const [group, g] of stack.groups) {
        lines.push(`  stack group ${group} ${groupCount(g)}`);
      }
    }
    const text = lines.map((l) => (l.length > width ? l.slice(0, width - 1) + '…' : l));
    const frame = text.join('\n');
    if (frame === this.lastFrame && this.drawn === text.length) {
      return;
    }
    this.clear();
    if (text.length > 0) {
      this.out.write(frame + '\n');
    }
    this.drawn = text.length;
    this.lastFrame = frame;
  }

  stop(): void {
    clearInterval(this.timer);
    this.redraw();
  }
}

/**
 * The end of a deploy or destroy: one line per stack, outputs (with the image id per account and region of each
 * stack group), then the failures with their reasons last: failed resources, then each stack group's accounts and
 * regions that failed, and the instances a destroy left behind.
 */
export function formatResults(results: StackOperationResult[], verb: 'deploy' | 'destroy'): string {
  const lines: string[] = [];
  const ok = results.filter((r) => r.success);
  const failed = results.filter((r) => !r.success);
  for (const r of ok) {
    const what = r.noChanges
      ? 'no changes'
      : r.operation === 'none' && verb === 'destroy'
        ? 'does not exist, nothing to destroy'
        : r.status;
    lines.push(`${verb === 'deploy' ? 'Deployed' : 'Destroyed'} ${r.stackName} (${r.regionId}): ${what}`);
    if (verb === 'deploy') {
      lines.push(...outputLines(r));
    }
  }
  // A stack that completed although some of its instances failed still has outputs and images to show.
  for (const r of failed) {
    if (verb === 'deploy' && r.failedResources.length === 0) {
      lines.push(...outputLines(r));
    }
  }
  for (const r of failed) {
    lines.push(
      `FAILED ${r.stackName} (${r.regionId}): ${r.status}${r.statusReason ? `: ${r.statusReason}` : ''}`,
    );
    for (const f of r.failedResources) {
      lines.push(
        `  ${resourceName(f.logicalResourceId, f.constructPath)} ${f.resourceType} ${f.status}: ${f.statusReason}`,
      );
    }
    lines.push(...groupFailureLines(r.stackGroups ?? [], verb));
  }
  return lines.join('\n') + (lines.length > 0 ? '\n' : '');
}

function outputLines(r: StackOperationResult): string[] {
  const lines: string[] = [];
  if (r.outputs.length > 0) {
    lines.push(`Outputs${r.success ? '' : ` of ${r.stackName}`}:`);
    for (const o of r.outputs) {
      lines.push(
        `  ${r.stackName}.${o.key} = ${typeof o.value === 'string' ? o.value : JSON.stringify(o.value)}`,
      );
    }
  }
  for (const group of r.stackGroups ?? []) {
    lines.push(...groupImageLines(r.stackName, group));
  }
  return lines;
}

/** The image id each instance of a group made, one line per account and region. */
export function groupImageLines(stackName: string, group: StackGroupReport): string[] {
  const images = group.instances.filter((i) => i.imageId);
  if (!group.exists || images.length === 0) {
    return [];
  }
  const lines = [
    `Images of ${stackName}, stack group ${group.stackGroupName} (${group.regionId}), per account and region:`,
  ];
  const ids = imageIdsOf(group);
  for (const [account, regions] of Object.entries(ids)) {
    for (const [region, imageId] of Object.entries(regions)) {
      lines.push(`  ${account} ${region.padEnd(16)} ${imageId}`);
    }
  }
  const without = group.instances.length - images.length;
  if (without > 0) {
    lines.push(`  (${without} of ${group.instances.length} stack instances have no image)`);
  }
  return lines;
}

/** The accounts and regions of each group that failed, and for a destroy, the instances still there. */
function groupFailureLines(groups: readonly StackGroupReport[], verb: 'deploy' | 'destroy'): string[] {
  const lines: string[] = [];
  for (const g of groups) {
    if (g.failures.length > 0) {
      lines.push(`  stack group ${g.stackGroupName} (${g.regionId}): ${g.failures.length} failed:`);
      for (const f of g.failures) {
        lines.push(
          `    ${f.accountId} ${f.regionId.padEnd(16)} ${f.action ? `${f.action} ` : ''}${f.status}: ${f.statusReason}`,
        );
      }
    }
    if (verb === 'destroy' && g.exists && g.instances.length > 0) {
      lines.push(
        `  stack group ${g.stackGroupName} (${g.regionId}) still has ${g.instances.length} stack instances:`,
      );
      for (const i of g.instances) {
        lines.push(
          `    ${i.accountId} ${i.regionId.padEnd(16)} ${i.status}${i.statusReason ? `: ${i.statusReason}` : ''}`,
        );
      }
    }
  }
  return lines;
}
