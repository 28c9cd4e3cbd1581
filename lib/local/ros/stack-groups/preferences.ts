/**
 * OperationPreferences as ROS documents them (CreateStackInstancesRequest.operationPreferences, the same text in
 * DeleteStackInstances, UpdateStackInstances and UpdateStackGroup; https://www.alibabacloud.com/help/en/ros/developer-reference/api-ros-2019-09-10-createstackinstances):
 * - FailureToleranceCount 0–20 (default 0) or FailureTolerancePercentage 0–100 (default 0, rounded down): "the
 *   number of accounts per region in which the operation can fail. If the number of failed operations in a region
 *   exceeds this value, ROS stops the operation in that region. If the operation is stopped in a region, the
 *   operation is not performed in other regions";
 * - MaxConcurrentCount 1–20 (default 1) or MaxConcurrentPercentage 1–100 (default 1, rounded down): "the maximum
 *   number of accounts in each region where stacks can be deployed at the same time";
 * - RegionConcurrencyType SEQUENTIAL (default: one region at a time) or PARALLEL;
 * - "You cannot specify MaxConcurrentCount and MaxConcurrentPercentage at the same time", nor FailureToleranceCount
 *   and FailureTolerancePercentage.
 */
import { invalid } from '../params';
import type { OperationPreferences } from './model';

const RANGES: Record<string, [number, number]> = {
  FailureToleranceCount: [0, 20],
  FailureTolerancePercentage: [0, 100],
  MaxConcurrentCount: [1, 20],
  MaxConcurrentPercentage: [1, 100],
};

/** Reads the `OperationPreferences` parameter (JSON); refuses unknown keys, values out of range, both of a pair. */
export function operationPreferencesParam(p: Record<string, string>): OperationPreferences {
  const text = p.OperationPreferences;
  if (text === undefined || text === '') {
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('OperationPreferences', text, 'a JSON object, e.g. {"MaxConcurrentCount": 2}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid('OperationPreferences', text, 'a JSON object, e.g. {"MaxConcurrentCount": 2}');
  }
  const given = parsed as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given)) {
    if (key === 'RegionConcurrencyType') {
      if (value !== 'SEQUENTIAL' && value !== 'PARALLEL') {
        throw invalid('OperationPreferences.RegionConcurrencyType', value, 'SEQUENTIAL or PARALLEL');
      }
      out[key] = value;
      continue;
    }
    const range = RANGES[key];
    if (!range) {
      throw invalid(
        `OperationPreferences.${key}`,
        value,
        `not a preference: expected ${[...Object.keys(RANGES), 'RegionConcurrencyType'].join(', ')}`,
      );
    }
    const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < range[0] || n > range[1]) {
      throw invalid(`OperationPreferences.${key}`, value, `an integer from ${range[0]} to ${range[1]}`);
    }
    out[key] = n;
  }
  exclusive(out, 'MaxConcurrentCount', 'MaxConcurrentPercentage');
  exclusive(out, 'FailureToleranceCount', 'FailureTolerancePercentage');
  return out as OperationPreferences;
}

function exclusive(given: Record<string, unknown>, a: string, b: string): void {
  if (given[a] !== undefined && given[b] !== undefined) {
    throw invalid(
      'OperationPreferences',
      { [a]: given[a], [b]: given[b] },
      `${a} and ${b} cannot be specified at the same time`,
    );
  }
}

/** How many of a region's `accounts` run at once: the count (at most the accounts), or the percentage rounded down, ≥ 1. */
export function concurrencyIn(preferences: OperationPreferences, accounts: number): number {
  if (preferences.MaxConcurrentPercentage !== undefined) {
    return Math.max(1, Math.floor((preferences.MaxConcurrentPercentage * accounts) / 100));
  }
  return Math.max(1, preferences.MaxConcurrentCount ?? 1);
}

/** How many of a region's `accounts` may fail before the operation stops: the count, or the percentage rounded down. */
export function toleranceIn(preferences: OperationPreferences, accounts: number): number {
  if (preferences.FailureTolerancePercentage !== undefined) {
    return Math.floor((preferences.FailureTolerancePercentage * accounts) / 100);
  }
  return preferences.FailureToleranceCount ?? 0;
}
