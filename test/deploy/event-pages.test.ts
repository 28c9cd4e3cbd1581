import { collectNewEvents, EventPage, isOldestFirst, newestEventIds } from '../../lib/deploy/event-pages';
import type { StackEvent } from '../../lib/deploy';

/** `n` events, one second apart, oldest first. */
function history(n: number): StackEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    eventId: `e${i}`,
    stackName: 's',
    logicalResourceId: `R${i}`,
    physicalResourceId: '',
    resourceType: 'ALIYUN::RAM::Role',
    status: 'CREATE_COMPLETE',
    statusReason: '',
    createTime: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString().slice(0, 19),
  }));
}

/** ListStackEvents over `events` in the given order, counting the pages read. */
function lister(events: StackEvent[], order: 'newest-first' | 'oldest-first', pageSize: number) {
  const listed = order === 'newest-first' ? [...events].reverse() : events;
  const reads: number[] = [];
  const fetch = async (page: number): Promise<EventPage> => {
    reads.push(page);
    return { events: listed.slice((page - 1) * pageSize, page * pageSize), totalCount: listed.length };
  };
  return { fetch, reads };
}

describe.each(['newest-first', 'oldest-first'] as const)('events listed %s', (order) => {
  it('finds the new events after the seen ones, oldest first, across pages', async () => {
    const all = history(23);
    const seen = new Set<string>();
    const before = lister(all.slice(0, 9), order, 5);
    for (const id of await newestEventIds(before.fetch, 5)) seen.add(id);
    const after = lister(all, order, 5);
    const found = await collectNewEvents(after.fetch, seen, 5, 20);
    expect(found.map((e) => e.eventId)).toEqual(all.slice(9).map((e) => e.eventId));
    // Pages holding only older events are not read (page 1 always is: it tells the order).
    expect(after.reads).toEqual(order === 'newest-first' ? [1, 2, 3] : [1, 5, 4, 3, 2]);
    expect(await collectNewEvents(after.fetch, seen, 5, 20)).toEqual([]);
  });

  it('reads everything for a stack seen for the first time, and stops at maxPages', async () => {
    const all = history(12);
    expect(
      (await collectNewEvents(lister(all, order, 5).fetch, new Set(), 5, 20)).map((e) => e.eventId),
    ).toEqual(all.map((e) => e.eventId));
    const newest = await collectNewEvents(lister(all, order, 5).fetch, new Set(), 5, 1);
    expect(newest.map((e) => e.eventId)).toEqual(
      order === 'newest-first' ? ['e7', 'e8', 'e9', 'e10', 'e11'] : ['e10', 'e11'],
    );
  });
});

describe('events arriving while the pages are read', () => {
  it('drops the repeat when a new event pushes the newest-first list down between two page reads', async () => {
    const all = history(13);
    let arrived = false;
    const fetch = async (page: number): Promise<EventPage> => {
      const listed = (arrived ? all : all.slice(0, 12)).slice().reverse();
      arrived = true; // e12 arrives right after the first read
      return { events: listed.slice((page - 1) * 5, page * 5), totalCount: listed.length };
    };
    const seen = new Set<string>();
    const found = await collectNewEvents(fetch, seen, 5, 20);
    expect(found.map((e) => e.eventId)).toEqual(all.slice(0, 12).map((e) => e.eventId));
    // The one that arrived meanwhile comes with the next poll.
    expect((await collectNewEvents(fetch, seen, 5, 20)).map((e) => e.eventId)).toEqual(['e12']);
  });
});

describe('isOldestFirst', () => {
  it('reads the order from the times, and takes equal times as newest first', () => {
    const events = history(3);
    expect(isOldestFirst(events)).toBe(true);
    expect(isOldestFirst([...events].reverse())).toBe(false);
    expect(isOldestFirst(events.map((e) => ({ ...e, createTime: '2026-01-01T00:00:00' })))).toBe(false);
    expect(isOldestFirst([])).toBe(false);
  });
});
