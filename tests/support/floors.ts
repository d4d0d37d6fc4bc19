import type { Pool } from '../../runtime/config/document.ts';
import { DEFAULT_DESIRED_OPTIONS } from '../../runtime/controllers/warm-pool/desired.ts';
import { poolFloor } from '../../runtime/controllers/warm-pool/schedule.ts';

/**
 * The floors an idle pool may hold between `since` and now, as the controller computes them
 * (its prewarm lead included). Tests on the dev stack need this: its office-hours schedule
 * makes the default pool hold 4 on a weekday morning and 2 at night, so a fixed number
 * fails by the hour the suite runs. A window boundary can fall inside a test: both ends count.
 */
export function floorsSince(pool: Pool, since: number, now = Date.now()): number[] {
  const at = (t: number) => poolFloor(pool, t, DEFAULT_DESIRED_OPTIONS.prewarmMs).floor;
  return [...new Set([at(since), at(now)])];
}
