import { deployStack, DeployEvent, stackEvents } from '../../lib/deploy';
import type { LocalCloud } from '../../lib/local';
import { REGION, rolesTemplate, startCloud } from './fixtures';

/** `n` roles named `<prefix>-<i>`: a create or update of that many makes more than a page (50) of events. */
const roles = (prefix: string, n: number) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, `${prefix.toLowerCase()}-${i}`]));

describe.each(['newest-first', 'oldest-first'] as const)('ListStackEvents listing %s', (order) => {
  let cloud: LocalCloud;
  let fast: Awaited<ReturnType<typeof startCloud>>['fast'];
  beforeAll(async () => ({ cloud, fast } = await startCloud({ variants: { stackEventsOrder: order } })));
  afterAll(() => cloud.stop());

  /** The stack's events as LocalCloud recorded them, oldest first. */
  const recorded = (stackName: string) =>
    cloud.ros
      .stacks(REGION)
      .find((s) => s.stackName === stackName)!
      .events.map((e) => e.EventId);
  const reported = (events: DeployEvent[]) =>
    events.flatMap((e) => (e.type === 'stack-event' ? [e.event.eventId] : []));

  it('follows a create and an update of more than a page of events, reporting each event once, in order', async () => {
    const created: DeployEvent[] = [];
    const first = await deployStack({
      ...fast,
      stackName: 'ordered',
      template: rolesTemplate(roles('A', 30)),
      onEvent: (e) => created.push(e),
    });
    expect(first.status).toBe('CREATE_COMPLETE');
    const afterCreate = recorded('ordered');
    expect(afterCreate.length).toBeGreaterThan(50);
    expect(reported(created)).toEqual(afterCreate);

    const updated: DeployEvent[] = [];
    const second = await deployStack({
      ...fast,
      stackName: 'ordered',
      template: rolesTemplate({ ...roles('A', 30), ...roles('B', 30) }),
      onEvent: (e) => updated.push(e),
    });
    expect(second.status).toBe('UPDATE_COMPLETE');
    expect(reported(updated)).toEqual(recorded('ordered').slice(afterCreate.length));
  });

  it('shows the latest events, oldest first, for the stack and for one resource', async () => {
    const all = cloud.ros.stacks(REGION).find((s) => s.stackName === 'ordered')!.events;
    const latest = await stackEvents({ ...fast, stackName: 'ordered', limit: 5 });
    expect(latest.events.map((e) => e.eventId)).toEqual(all.slice(-5).map((e) => e.EventId));
    const many = await stackEvents({ ...fast, stackName: 'ordered', limit: 120 });
    expect(many.events.map((e) => e.eventId)).toEqual(all.slice(-120).map((e) => e.EventId));
    const one = await stackEvents({ ...fast, stackName: 'ordered', limit: 1, logicalResourceId: 'A7' });
    const ofA7 = all.filter((e) => e.LogicalResourceId === 'A7');
    expect(one.events.map((e) => e.eventId)).toEqual([ofA7[ofA7.length - 1].EventId]);
  });
});
