import type { StackEvent } from './stack-api';

/** One page of ListStackEvents. */
export interface EventPage {
  readonly events: readonly StackEvent[];
  readonly totalCount: number;
}

/** Reads page `pageNumber` (from 1) of a stack's events. */
export type FetchEventPage = (pageNumber: number) => Promise<EventPage>;

/**
 * Whether a page lists events oldest first. The ROS documentation does not say which order ListStackEvents uses
 * (LocalCloud and CloudFormation list newest first), so the order is read from the events' times; a page whose
 * times are all equal counts as newest first.
 */
export function isOldestFirst(events: readonly StackEvent[]): boolean {
  return events.length > 1 && events[0].createTime < events[events.length - 1].createTime;
}

/**
 * The events not in `seen`, oldest first, reading as few pages as it can: from the newest end of the list back to
 * the first event already seen (at most `maxPages` pages). Adds them to `seen`.
 *
 * Listed newest first, an event that arrives between two page reads pushes the list down by one, so the next page
 * starts with the last event of the previous one: such repeats are dropped (nothing is skipped that way).
 */
export async function collectNewEvents(
  fetch: FetchEventPage,
  seen: Set<string>,
  pageSize: number,
  maxPages: number,
): Promise<StackEvent[]> {
  const first = await fetch(1);
  const found: StackEvent[] = [];
  const ids = new Set<string>();
  /** The events not found on an earlier page, now recorded as found. */
  const notFoundYet = (events: readonly StackEvent[]) => {
    const fresh = events.filter((e) => !ids.has(e.eventId));
    fresh.forEach((e) => ids.add(e.eventId));
    return fresh;
  };
  if (isOldestFirst(first.events)) {
    const lastPage = Math.max(1, Math.ceil(first.totalCount / pageSize));
    for (let page = lastPage; page >= 1 && lastPage - page < maxPages; page--) {
      const { events } = page === 1 ? first : await fetch(page);
      const boundary = findLastIndex(events, (e) => seen.has(e.eventId));
      found.unshift(...notFoundYet(events.slice(boundary + 1)));
      if (boundary >= 0) break;
    }
  } else {
    for (let page = 1; page <= maxPages; page++) {
      const { events } = page === 1 ? first : await fetch(page);
      const boundary = events.findIndex((e) => seen.has(e.eventId));
      found.push(...notFoundYet(boundary >= 0 ? events.slice(0, boundary) : events));
      if (boundary >= 0 || events.length < pageSize) break;
    }
    found.reverse();
  }
  found.forEach((e) => seen.add(e.eventId));
  return found;
}

/** The ids of the newest page of events (the first page, or the last when ROS lists oldest first). */
export async function newestEventIds(fetch: FetchEventPage, pageSize: number): Promise<string[]> {
  const first = await fetch(1);
  if (!isOldestFirst(first.events)) return first.events.map((e) => e.eventId);
  const lastPage = Math.max(1, Math.ceil(first.totalCount / pageSize));
  const last = lastPage === 1 ? first : await fetch(lastPage);
  return last.events.map((e) => e.eventId);
}

function findLastIndex<T>(items: readonly T[], test: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i])) return i;
  return -1;
}
