/**
 * How the progress displays show a stack's group operations: the events display a line per account and region and
 * the count, the bar display the count under the stack and each failed account and region above the bar.
 */
import type { DeployEvent } from '../../lib/deploy';
import { BarDisplay, EventsDisplay } from '../../lib/cli/ros-deploy-progress';

const ACCOUNT = '1234567890125678';
const operation = { stackName: 'Org', stackGroupName: 'golden', operationId: 'op-1', action: 'CREATE' };
const events: DeployEvent[] = [
  { type: 'started', stackName: 'Org', stackId: 'st-1', operation: 'create', resourceCount: 2 },
  { type: 'stack-group-operation', ...operation, status: 'RUNNING' },
  { type: 'stack-instance', ...operation, accountId: ACCOUNT, regionId: 'cn-beijing', status: 'SUCCEEDED' },
  {
    type: 'stack-instance',
    ...operation,
    accountId: ACCOUNT,
    regionId: 'cn-shanghai',
    status: 'FAILED',
    statusReason: 'Failed to assume the execution role',
  },
  { type: 'stack-group-progress', ...operation, done: 2, total: 30 },
];

function capture(tty: boolean) {
  const written: string[] = [];
  return { out: { write: (s: string) => written.push(s), isTTY: tty, columns: 120 }, written };
}

describe('progress of stack group operations', () => {
  it('prints a line per account and region and the count, fit for CI logs', () => {
    const { out, written } = capture(false);
    const display = new EventsDisplay(out);
    events.forEach((e) => display.onEvent(e));
    display.stop();
    expect(written.join('')).toBe(
      [
        'Org | create started (stack id st-1)',
        'Org | stack group golden | CREATE operation op-1 RUNNING',
        'Org | stack group golden | 1234…5678 cn-beijing       CREATE  SUCCEEDED',
        'Org | stack group golden | 1234…5678 cn-shanghai      CREATE  FAILED Failed to assume the execution role',
        'Org | stack group golden | CREATE 2/30 stack instances done',
        '',
      ].join('\n'),
    );
  });

  it('draws the count under the stack on a terminal, a failed account and region above it, and drops the count once the operation ends', () => {
    const { out, written } = capture(true);
    const display = new BarDisplay(out);
    events.forEach((e) => display.onEvent(e));
    const frame = written.join('');
    expect(frame).toContain(
      'Org | stack group golden | 1234…5678 cn-shanghai      CREATE  FAILED Failed to assume the execution role\n',
    );
    expect(frame).not.toContain('cn-beijing');
    expect(
      frame.split('\n').filter((l) => l === '  stack group golden CREATE 2/30 stack instances done'),
    ).toHaveLength(1);
    written.length = 0;
    display.onEvent({ type: 'stack-group-operation', ...operation, status: 'SUCCEEDED' });
    display.stop();
    // The block is redrawn (cursor up, clear), without the count.
    expect(written.join('')).toContain('\x1b[0JOrg [');
    expect(written.join('')).not.toContain('stack instances done');
  });
});
