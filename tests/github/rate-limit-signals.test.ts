import assert from 'node:assert/strict';
import { classifyRateLimit, readRateLimitHeaders, retryAfterMs } from '../../runtime/github/rate-limit-signals.ts';

const now = Date.parse('2026-11-02T10:00:00Z');
const base = { nowMs: now, defaultPauseMs: 60_000, resetSkewMs: 1_000 };

describe('github/rate-limit signals (pure)', () => {
  it('reads x-ratelimit-* headers (reset in epoch seconds → ms)', () => {
    assert.deepEqual(
      readRateLimitHeaders({ 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '12', 'x-ratelimit-used': '4988', 'x-ratelimit-reset': '1798884000', 'x-ratelimit-resource': 'core' }),
      { limit: 5000, remaining: 12, used: 4988, resetMs: 1798884000_000, resource: 'core' },
    );
    assert.deepEqual(readRateLimitHeaders({}), { limit: undefined, remaining: undefined, used: undefined, resetMs: undefined, resource: undefined });
  });

  it('retry-after as seconds or as an HTTP date', () => {
    assert.equal(retryAfterMs({ 'retry-after': '30' }, now), 30_000);
    assert.equal(retryAfterMs({ 'retry-after': new Date(now + 5_000).toUTCString() }, now), 5_000);
    assert.equal(retryAfterMs({ 'retry-after': 'soon' }, now), undefined);
  });

  it('remaining 0 on a 403/429 pauses the installation until reset (+ skew)', () => {
    const reset = Math.ceil(now / 1000) + 600;
    assert.deepEqual(classifyRateLimit({ ...base, status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) } }), {
      kind: 'primary', untilMs: reset * 1000 + 1_000,
    });
  });

  it('retry-after on a 403/429 pauses the endpoint for that long', () => {
    assert.deepEqual(classifyRateLimit({ ...base, status: 403, headers: { 'retry-after': '45', 'x-ratelimit-remaining': '10' } }), { kind: 'secondary', untilMs: now + 45_000 });
    assert.deepEqual(classifyRateLimit({ ...base, status: 429, headers: { 'retry-after': '2' } }), { kind: 'secondary', untilMs: now + 2_000 });
  });

  it('a bare 429 or a 403 mentioning a rate limit waits the default minute; other 403s are not rate limits', () => {
    assert.deepEqual(classifyRateLimit({ ...base, status: 429, headers: {} }), { kind: 'secondary', untilMs: now + 60_000 });
    assert.deepEqual(
      classifyRateLimit({ ...base, status: 403, headers: { 'x-ratelimit-remaining': '40' }, message: 'You have exceeded a secondary rate limit.' }),
      { kind: 'secondary', untilMs: now + 60_000 },
    );
    assert.deepEqual(classifyRateLimit({ ...base, status: 403, headers: { 'x-ratelimit-remaining': '40' }, message: 'Resource not accessible by integration' }), { kind: 'none' });
    assert.deepEqual(classifyRateLimit({ ...base, status: 200, headers: { 'x-ratelimit-remaining': '0' } }), { kind: 'none' });
  });
});
