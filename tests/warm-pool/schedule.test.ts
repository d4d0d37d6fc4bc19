import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Pool, PoolSchedule, type PoolSchedule as Schedule } from '../../runtime/config/document.ts';
import { localTime, poolFloor, scheduleApplies } from '../../runtime/controllers/warm-pool/schedule.ts';

const at = (iso: string) => Date.parse(iso);
const schedule = (s: Partial<Schedule> & Pick<Schedule, 'start' | 'end'>) => PoolSchedule.parse({ min: 1, ...s });
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

describe('warm-pool schedule', () => {
  describe('localTime', () => {
    const cases: Array<[string, string, string, string]> = [
      ['2025-01-06T12:00:00Z', 'UTC', 'mon', '12:00'],
      ['2025-01-06T12:00:00Z', 'Asia/Tokyo', 'mon', '21:00'],
      ['2025-01-06T12:00:00Z', 'Pacific/Auckland', 'tue', '01:00'], // UTC+13 in summer: already Tuesday
      ['2025-01-06T05:00:00Z', 'America/New_York', 'mon', '00:00'], // midnight is 00, not 24
      ['2025-07-07T04:30:00Z', 'America/New_York', 'mon', '00:30'], // EDT, UTC-4
      ['2025-01-06T12:00:00Z', 'Asia/Kolkata', 'mon', '17:30'], // half-hour offset
    ];
    for (const [iso, tz, day, hhmm] of cases) {
      it(`${iso} in ${tz} is ${day} ${hhmm}`, () => {
        const [h, m] = hhmm.split(':').map(Number);
        assert.deepEqual(localTime(at(iso), tz), { weekday: day, minutes: h! * 60 + m! });
      });
    }

    it('agrees with UTC date arithmetic for any instant (property)', () => {
      fc.assert(
        fc.property(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }), (t) => {
          const d = new Date(t);
          assert.deepEqual(localTime(t, 'UTC'), { weekday: DAYS[d.getUTCDay()], minutes: d.getUTCHours() * 60 + d.getUTCMinutes() });
          // Etc/GMT-3 is UTC+3 (POSIX sign), no DST.
          const e = new Date(t + 3 * 3_600_000);
          assert.deepEqual(localTime(t, 'Etc/GMT-3'), { weekday: DAYS[e.getUTCDay()], minutes: e.getUTCHours() * 60 + e.getUTCMinutes() });
        }),
      );
    });
  });

  describe('scheduleApplies', () => {
    it('a working-hours window in Berlin: start inclusive, end exclusive, weekdays only', () => {
      const s = schedule({ start: '09:00', end: '17:00', timeZone: 'Europe/Berlin' }); // default days mon..fri
      assert.equal(scheduleApplies(s, at('2025-01-06T07:59:00Z')), false); // Mon 08:59 CET
      assert.equal(scheduleApplies(s, at('2025-01-06T08:00:00Z')), true); // Mon 09:00
      assert.equal(scheduleApplies(s, at('2025-01-06T15:59:00Z')), true); // Mon 16:59
      assert.equal(scheduleApplies(s, at('2025-01-06T16:00:00Z')), false); // Mon 17:00
      assert.equal(scheduleApplies(s, at('2025-01-11T10:00:00Z')), false); // Sat 11:00
    });

    it('follows the wall clock across DST (New York 09:00 is 14:00Z in winter, 13:00Z in summer)', () => {
      const s = schedule({ start: '09:00', end: '17:00', timeZone: 'America/New_York' });
      assert.equal(scheduleApplies(s, at('2025-01-07T13:30:00Z')), false); // 08:30 EST
      assert.equal(scheduleApplies(s, at('2025-07-08T13:30:00Z')), true); // 09:30 EDT
      assert.equal(scheduleApplies(s, at('2025-01-07T21:30:00Z')), true); // 16:30 EST
      assert.equal(scheduleApplies(s, at('2025-07-08T21:30:00Z')), false); // 17:30 EDT
    });

    it('on the spring-forward day a window starting in the skipped hour begins when the clock jumps past it', () => {
      const s = schedule({ days: ['sun'], start: '02:30', end: '05:00', timeZone: 'America/New_York' });
      assert.equal(scheduleApplies(s, at('2025-03-09T06:59:00Z')), false); // 01:59 EST
      assert.equal(scheduleApplies(s, at('2025-03-09T07:00:00Z')), true); // 03:00 EDT
      assert.equal(scheduleApplies(s, at('2025-03-09T09:00:00Z')), false); // 05:00 EDT
    });

    it('on the fall-back day the repeated hour is inside the window both times', () => {
      const s = schedule({ days: ['sun'], start: '01:00', end: '01:30', timeZone: 'America/New_York' });
      assert.equal(scheduleApplies(s, at('2025-11-02T05:15:00Z')), true); // 01:15 EDT
      assert.equal(scheduleApplies(s, at('2025-11-02T06:15:00Z')), true); // 01:15 EST
      assert.equal(scheduleApplies(s, at('2025-11-02T06:45:00Z')), false); // 01:45 EST
    });

    it('an overnight window belongs to the day it starts on', () => {
      const s = schedule({ days: ['fri'], start: '22:00', end: '06:00' });
      assert.equal(scheduleApplies(s, at('2025-01-10T21:59:00Z')), false); // Fri 21:59
      assert.equal(scheduleApplies(s, at('2025-01-10T23:00:00Z')), true); // Fri 23:00
      assert.equal(scheduleApplies(s, at('2025-01-11T03:00:00Z')), true); // Sat 03:00, Friday's window
      assert.equal(scheduleApplies(s, at('2025-01-11T06:00:00Z')), false); // Sat 06:00
      assert.equal(scheduleApplies(s, at('2025-01-11T23:00:00Z')), false); // Sat evening: no Saturday window
      assert.equal(scheduleApplies(s, at('2025-01-10T03:00:00Z')), false); // Fri morning: no Thursday window
    });

    it('wraps from Sunday into Monday, in the schedule\'s zone', () => {
      const s = schedule({ days: ['sun'], start: '20:00', end: '04:00', timeZone: 'Asia/Tokyo' });
      assert.equal(scheduleApplies(s, at('2025-01-12T10:59:00Z')), false); // Sun 19:59 JST
      assert.equal(scheduleApplies(s, at('2025-01-12T11:00:00Z')), true); // Sun 20:00 JST
      assert.equal(scheduleApplies(s, at('2025-01-12T17:00:00Z')), true); // Mon 02:00 JST
      assert.equal(scheduleApplies(s, at('2025-01-12T19:00:00Z')), false); // Mon 04:00 JST
      const weekdays = schedule({ start: '20:00', end: '04:00', timeZone: 'Asia/Tokyo' }); // mon..fri
      assert.equal(scheduleApplies(weekdays, at('2025-01-12T17:00:00Z')), false, 'Monday 02:00 follows Sunday, not a listed day');
      assert.equal(scheduleApplies(weekdays, at('2025-01-17T17:00:00Z')), true, 'Saturday 02:00 follows Friday');
    });

    it('a window ending at 00:00 runs to midnight', () => {
      const s = schedule({ days: ['mon'], start: '18:00', end: '00:00' });
      assert.equal(scheduleApplies(s, at('2025-01-06T23:59:00Z')), true);
      assert.equal(scheduleApplies(s, at('2025-01-07T00:00:00Z')), false);
    });
  });

  describe('poolFloor', () => {
    const pool = (schedules: unknown[], min = 2) => Pool.parse({ name: 'p', class: 'c', min, max: 20, schedules });
    const workHours = { name: 'work', start: '09:00', end: '17:00', min: 8 };

    it('is the pool min outside every window', () => {
      assert.deepEqual(poolFloor(pool([workHours]), at('2025-01-06T08:00:00Z')), { floor: 2, source: 'min' });
    });

    it('is the window min inside one, even when lower than the pool min', () => {
      assert.deepEqual(poolFloor(pool([workHours]), at('2025-01-06T10:00:00Z')), { floor: 8, source: 'schedule', schedule: 'work' });
      const weekend = { days: ['sat', 'sun'], start: '00:00', end: '23:59', min: 0 };
      assert.deepEqual(poolFloor(pool([weekend]), at('2025-01-11T12:00:00Z')), { floor: 0, source: 'schedule', schedule: 'schedules[0]' });
    });

    it('takes the highest min when windows overlap', () => {
      const peak = { name: 'peak', start: '10:00', end: '11:00', min: 12 };
      assert.equal(poolFloor(pool([workHours, peak]), at('2025-01-06T10:30:00Z')).floor, 12);
      assert.equal(poolFloor(pool([workHours, peak]), at('2025-01-06T11:30:00Z')).floor, 8);
    });

    it('raises the floor `lead` before a window starts, but lowers it only when the window starts', () => {
      const p = pool([workHours]);
      assert.equal(poolFloor(p, at('2025-01-06T08:57:00Z'), 180_000).floor, 8);
      assert.equal(poolFloor(p, at('2025-01-06T08:56:00Z'), 180_000).floor, 2);
      const night = pool([{ start: '18:00', end: '08:00', days: ['mon'], min: 0 }], 5);
      assert.equal(poolFloor(night, at('2025-01-06T17:58:00Z'), 180_000).floor, 5, 'still the day floor until 18:00');
      assert.equal(poolFloor(night, at('2025-01-07T07:58:00Z'), 180_000).floor, 5, 'day floor ready before 08:00');
    });
  });
});
