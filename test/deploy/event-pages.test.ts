import {
  collectNewEvents,
  EventListing,
  EventPage,
  learnOrder,
  newestEventIds,
  orderFromTimes,
} from '../../lib/deploy/event-pages';
import type { StackEvent } from '../../lib/deploy';

const STACK_ID = '11111111-2222-3333-4444-555555555555';

/**
 * `n` events of stack `s`, oldest first: the first is the stack's own CREATE_IN_PROGRESS, as in ROS. One second
 * apart, or all within the same second (as LocalCloud stamps a fast operation) with `sameSecond`.
 */
function history(n: number, sameSecond = false): StackEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    eventId: `e${i}`,
    stackName: 's',
    logicalResourceId: i === 0 ? 's' : `R${i}`,
    physicalResourceId: i === 0 ? STACK_ID : '',
    resourceType: i === 0 ? 'ALIYUN::ROS::Stack' : 'ALIYUN::RAM::Role',
    status: i === 0 ? 'CREATE_IN_PROGRESS' : 'CREATE_COMPLETE',
    statusReason: '',
    createTime: new Date(Date.UTC(2026, 0, 1, 0, 0, sameSecond ? 0 : i)).toISOString().slice(0, 19),
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
  describe.each([
    ['one second apart', false],
    ['all within one second', true],
  ])('with times %s', (_times, sameSecond) => {
    it('finds the new events after the seen ones, oldest first, across pages, each once', async () => {
      const all = history(23, sameSecond);
      const seen = new Set<string>();
      const listing = new EventListing();
      const before = lister(all.slice(0, 9), order, 5);
      for (const id of await newestEventIds(before.fetch, 5, STACK_ID, listing)) {
        seen.add(id);
      }
      expect(listing.order).toBe(order);
      const after = lister(all, order, 5);
      const found = await collectNewEvents(after.fetch, seen, 5, 20, STACK_ID, listing);
      expect(found.map((e) => e.eventId)).toEqual(all.slice(9).map((e) => e.eventId));
      // Pages holding only older events are not read: newest first, from page 1 on; oldest first, from the page
      // that held the newest event last time (page 2 of 9 events) to the last one.
      expect(after.reads).toEqual(order === 'newest-first' ? [1, 2, 3] : [2, 5, 4, 3]);
      expect(await collectNewEvents(after.fetch, seen, 5, 20, STACK_ID, listing)).toEqual([]);
    });

    it('reads everything for a stack seen for the first time, and stops at maxPages', async () => {
      const all = history(12, sameSecond);
      const everything = await collectNewEvents(
        lister(all, order, 5).fetch,
        new Set(),
        5,
        20,
        STACK_ID,
        new EventListing(),
      );
      expect(everything.map((e) => e.eventId)).toEqual(all.map((e) => e.eventId));
      const newest = await collectNewEvents(
        lister(all, order, 5).fetch,
        new Set(),
        5,
        1,
        STACK_ID,
        new EventListing(),
      );
      expect(newest.map((e) => e.eventId)).toEqual(
        order === 'newest-first' ? ['e7', 'e8', 'e9', 'e10', 'e11'] : ['e10', 'e11'],
      );
    });
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
    const listing = new EventListing();
    const found = await collectNewEvents(fetch, seen, 5, 20, STACK_ID, listing);
    expect(found.map((e) => e.eventId)).toEqual(all.slice(0, 12).map((e) => e.eventId));
    // The one that arrived meanwhile comes with the next poll.
    expect((await collectNewEvents(fetch, seen, 5, 20, STACK_ID, listing)).map((e) => e.eventId)).toEqual([
      'e12',
    ]);
  });

  it('does not mark as seen an event that arrives after the oldest-first count was read', async () => {
    const all = history(8, true);
    let arrived = false;
    const fetch = async (page: number): Promise<EventPage> => {
      const listed = arrived ? all : all.slice(0, 7);
      arrived = true; // e7 arrives right after page 1 was read
      return { events: listed.slice((page - 1) * 5, page * 5), totalCount: listed.length };
    };
    const seen = new Set(await newestEventIds(fetch, 5, STACK_ID, new EventListing()));
    expect([...seen]).toEqual(['e5', 'e6']);
  });
});

describe('learning the order of ListStackEvents', () => {
  it('reads it from the times, else from where the stack first event is, reading the last page if it must', async () => {
    expect(orderFromTimes(history(3))).toBe('oldest-first');
    expect(orderFromTimes(history(3).reverse())).toBe('newest-first');
    expect(orderFromTimes(history(3, true))).toBeUndefined();

    const newest = lister(history(12, true), 'newest-first', 5);
    const listing = new EventListing();
    expect(await learnOrder(newest.fetch, await newest.fetch(1), STACK_ID, 5, listing)).toBe('newest-first');
    expect(newest.reads).toEqual([1, 3]); // the first event closes the list, on its last page
    expect(listing.order).toBe('newest-first');

    const oldest = lister(history(12, true), 'oldest-first', 5);
    expect(await learnOrder(oldest.fetch, await oldest.fetch(1), STACK_ID, 5, new EventListing())).toBe(
      'oldest-first',
    );
    expect(oldest.reads).toEqual([1]);

    // One event: nothing to tell, nothing remembered.
    const single = lister(history(1), 'oldest-first', 5);
    const unknown = new EventListing();
    expect(await learnOrder(single.fetch, await single.fetch(1), STACK_ID, 5, unknown)).toBeUndefined();
    expect(unknown.order).toBeUndefined();
  });
});
