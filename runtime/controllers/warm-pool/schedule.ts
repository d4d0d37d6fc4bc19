import type { Pool, PoolSchedule, Weekday } from '../../config/document.ts';

/**
 * Which schedule window applies at an instant. Windows are wall-clock times in the
 * schedule's time zone, so "09:00–17:00 Europe/Berlin" means 9 to 5 in Berlin on both
 * sides of a DST change. A window whose end is not after its start runs overnight into
 * the next day: `days` names the day it starts on, so a Friday 22:00–06:00 window still
 * applies at 03:00 on Saturday, and a Sunday one at 03:00 on Monday.
 */

const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export interface LocalTime {
  weekday: Weekday;
  /** Minutes since local midnight, 0..1439. */
  minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // Building a DateTimeFormat costs far more than formatting with one; there are few zones.
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The weekday and minute of day at `at` (epoch ms) in `timeZone`. */
export function localTime(at: number, timeZone: string): LocalTime {
  let weekday: Weekday = 'mon';
  let hour = 0;
  let minute = 0;
  for (const part of formatter(timeZone).formatToParts(at)) {
    if (part.type === 'weekday') weekday = part.value.toLowerCase().slice(0, 3) as Weekday;
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { weekday, minutes: hour * 60 + minute };
}

function toMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

function previousDay(day: Weekday): Weekday {
  return WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7]!;
}

/** True when `schedule`'s window covers `at` (start inclusive, end exclusive, minute resolution). */
export function scheduleApplies(schedule: PoolSchedule, at: number): boolean {
  const { weekday, minutes } = localTime(at, schedule.timeZone);
  const start = toMinutes(schedule.start);
  const end = toMinutes(schedule.end);
  if (start < end) return schedule.days.includes(weekday) && minutes >= start && minutes < end;
  // Overnight: the evening part belongs to today's window, the morning part to yesterday's.
  if (minutes >= start) return schedule.days.includes(weekday);
  return minutes < end && schedule.days.includes(previousDay(weekday));
}

export interface PoolFloor {
  /** Placeholders never to go below. */
  floor: number;
  /** `schedule` when a window set the floor, `min` when the pool's own min did. */
  source: 'schedule' | 'min';
  /** Name (or index) of the deciding window, for logs. */
  schedule?: string;
}

/**
 * The floor at `at`: an applying window's `min` replaces the pool's `min` (the highest
 * if several apply). `leadMs` looks that far ahead too and keeps the warmer of the two,
 * so a window's capacity is ready when it starts (nodes take a minute or two to join)
 * while a window that lowers the floor still takes effect on time.
 */
export function poolFloor(pool: Pool, at: number, leadMs = 0): PoolFloor {
  const now = floorAt(pool, at);
  if (leadMs <= 0) return now;
  const soon = floorAt(pool, at + leadMs);
  return soon.floor > now.floor ? soon : now;
}

function floorAt(pool: Pool, at: number): PoolFloor {
  let best: PoolFloor | undefined;
  pool.schedules.forEach((s, i) => {
    if (scheduleApplies(s, at) && (!best || s.min > best.floor))
      best = { floor: s.min, source: 'schedule', schedule: s.name ?? `schedules[${i}]` };
  });
  return best ?? { floor: pool.min, source: 'min' };
}
