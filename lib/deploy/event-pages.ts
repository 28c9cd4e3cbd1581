/**
 * Reading ListStackEvents page by page: which end holds the newest events (ROS does not document it, so it is
 * learnt from the answers), the events not seen yet, oldest first, and the ids of the newest page. Works on a page
 * reader it is given, so it needs no client.
 */
import { STACK_RESOURCE_TYPE, type StackEvent } from './stack-types';

/** One page of ListStackEvents. */
export interface EventPage {
  readonly events: readonly StackEvent[];
  readonly totalCount: number;
}

/** Reads page `pageNumber` (from 1) of a stack's events. */
export type FetchEventPage = (pageNumber: number) => Promise<EventPage>;

/** Which end of ListStackEvents the newest event is at. */
export type EventOrder = 'newest-first' | 'oldest-first';

/**
 * What the answers of ListStackEvents have shown so far: the order they list events in (one for every stack: it is
 * ROS's), and how many events each stack had when last read, to start reading where the new ones are.
 */
export class EventListing {
  order?: EventOrder;
  readonly totals = new Map<string, number>();
}

/** The order a list of events runs in, from their times: the first two that differ tell; undefined when none do. */
export function orderFromTimes(events: readonly StackEvent[]): EventOrder | undefined {
  for (let i = 1; i < events.length; i++) {
    if (events[i - 1].createTime < events[i].createTime) {
      return 'oldest-first';
    }
    if (events[i - 1].createTime > events[i].createTime) {
      return 'newest-first';
    }
  }
  return undefined;
}

/**
 * A stack's first event of all: its own CREATE_IN_PROGRESS (CreateStack starts every stack with it); not that of a
 * nested stack, a resource of type `ALIYUN::ROS::Stack` too.
 */
export function isFirstEventOf(event: StackEvent | undefined, stackId: string): boolean {
  return (
    event !== undefined &&
    event.resourceType === STACK_RESOURCE_TYPE &&
    event.status === 'CREATE_IN_PROGRESS' &&
    (event.physicalResourceId === stackId || event.logicalResourceId === event.stackName)
  );
}

/**
 * The order of ListStackEvents, which the ROS documentation does not give (LocalCloud plays both: the variant
 * `stackEventsOrder`), learnt from `first`, page 1 of a stack's unfiltered events, and remembered in `listing`:
 *
 * - from the times: events are stamped to the second, so two different times on a page tell which way it runs;
 * - else (everything within one second, as LocalCloud can be) from the stack's first event, its own
 *   CREATE_IN_PROGRESS: the oldest of all, it opens the list oldest first and closes it newest first (the last
 *   page is read when the list is longer than a page).
 *
 * Undefined when nothing tells: a single event has no order to know.
 */
export async function learnOrder(
  fetch: FetchEventPage,
  first: EventPage,
  stackId: string,
  pageSize: number,
  listing: EventListing,
): Promise<EventOrder | undefined> {
  if (listing.order) {
    return listing.order;
  }
  const events = first.events;
  if (events.length < 2) {
    return undefined;
  }
  let order = orderFromTimes(events);
  if (!order && isFirstEventOf(events[0], stackId)) {
    order = 'oldest-first';
  }
  if (!order && first.totalCount <= events.length && isFirstEventOf(events[events.length - 1], stackId)) {
    order = 'newest-first';
  }
  if (!order && first.totalCount > events.length) {
    const last = (await fetch(Math.ceil(first.totalCount / pageSize))).events;
    const newestOrOldest = last[last.length - 1];
    order = newestOrOldest ? orderFromTimes([events[0], newestOrOldest]) : undefined;
    if (!order && isFirstEventOf(newestOrOldest, stackId)) {
      order = 'newest-first';
    }
  }
  if (order) {
    listing.order = order;
  }
  return order;
}

/**
 * The events of stack `stackId` not in `seen`, oldest first, reading as few pages as it can: from the newest end of
 * the list back to the first event already seen (at most `maxPages` pages). Adds them to `seen`.
 *
 * Listed newest first, page 1 holds the newest events; an event that arrives between two page reads pushes the list
 * down by one, so the next page starts with the last event of the previous one: such repeats are dropped (nothing is
 * skipped that way). Listed oldest first, the new events are at the end: reading starts at the page that held the
 * newest event last time (`listing`), which also gives the count, then goes forward; events that arrive meanwhile
 * join the end and come with the next call.
 */
export async function collectNewEvents(
  fetch: FetchEventPage,
  seen: Set<string>,
  pageSize: number,
  maxPages: number,
  stackId: string,
  listing: EventListing,
): Promise<StackEvent[]> {
  const known = listing.totals.get(stackId);
  const startPage = listing.order === 'oldest-first' && known ? Math.max(1, Math.ceil(known / pageSize)) : 1;
  const start = await fetch(startPage);
  const order = startPage > 1 ? 'oldest-first' : await learnOrder(fetch, start, stackId, pageSize, listing);
  listing.totals.set(stackId, start.totalCount);
  const found: StackEvent[] = [];
  const ids = new Set<string>();
  /** The events not found on an earlier page, now recorded as found. */
  const notFoundYet = (events: readonly StackEvent[]) => {
    const fresh = events.filter((e) => !ids.has(e.eventId));
    fresh.forEach((e) => ids.add(e.eventId));
    return fresh;
  };
  if (order === 'oldest-first') {
    const lastPage = Math.max(1, Math.ceil(start.totalCount / pageSize));
    for (let page = lastPage; page >= 1 && lastPage - page < maxPages; page--) {
      const { events } = page === startPage ? start : await fetch(page);
      const boundary = findLastIndex(events, (e) => seen.has(e.eventId));
      found.unshift(...notFoundYet(events.slice(boundary + 1)));
      if (boundary >= 0) {
        break;
      }
    }
  } else {
    for (let page = 1; page <= maxPages; page++) {
      const { events } = page === 1 ? start : await fetch(page);
      const boundary = events.findIndex((e) => seen.has(e.eventId));
      found.push(...notFoundYet(boundary >= 0 ? events.slice(0, boundary) : events));
      if (boundary >= 0 || events.length < pageSize) {
        break;
      }
    }
    found.reverse();
  }
  found.forEach((e) => seen.add(e.eventId));
  return found;
}

/** The ids of the newest page of events of stack `stackId` (the first page, or the last when listed oldest first). */
export async function newestEventIds(
  fetch: FetchEventPage,
  pageSize: number,
  stackId: string,
  listing: EventListing,
): Promise<string[]> {
  const first = await fetch(1);
  listing.totals.set(stackId, first.totalCount);
  if ((await learnOrder(fetch, first, stackId, pageSize, listing)) !== 'oldest-first') {
    return first.events.map((e) => e.eventId);
  }
  const lastPage = Math.max(1, Math.ceil(first.totalCount / pageSize));
  const last = lastPage === 1 ? first : await fetch(lastPage);
  // Events that arrived after page 1 was read are new: they are not marked.
  return last.events.slice(0, first.totalCount - (lastPage - 1) * pageSize).map((e) => e.eventId);
}

function findLastIndex<T>(items: readonly T[], test: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) {
    if (test(items[i])) {
      return i;
    }
  }
  return -1;
}
