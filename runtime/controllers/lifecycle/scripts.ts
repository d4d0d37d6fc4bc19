/**
 * Lua steps of the lifecycle controllers. Each check-and-act is one script, so two
 * leaders (a paused old one and a new one) or a crash between two commands can never
 * retry a job twice or beyond its bound.
 */

/**
 * KEYS: job record, jobs stream, action marker. ARGV: expected reprovisions, max, entry JSON, ttl s, reason, now ms.
 * Provisions a job again: only if this cause has not acted yet, the count is still the one
 * the caller decided on (compare-and-swap), and the bound is not reached. The entry has the
 * shape JobQueue.read decodes (field `job`, the QueuedJob as JSON), as JobQueue.requeue writes it.
 */
export const CLAIM_REQUEUE = `
if redis.call('EXISTS', KEYS[3]) == 1 then return 'done' end
local n = tonumber(redis.call('HGET', KEYS[1], 'reprovisions') or '0')
if n ~= tonumber(ARGV[1]) then return 'changed' end
if n >= tonumber(ARGV[2]) then return 'exhausted' end
local id = redis.call('XADD', KEYS[2], '*', 'job', ARGV[3])
redis.call('HSET', KEYS[1], 'reprovisions', n + 1, 'status', 'requeued', 'requeueReason', ARGV[5], 'requeuedAt', ARGV[6])
redis.call('HINCRBY', KEYS[1], 'infraRetries', 1)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('SET', KEYS[3], id, 'EX', ARGV[4])
return id`;

/**
 * KEYS: lineage hash, action marker. ARGV: max, ttl s, attempt that was lost, reason.
 * Reserves one infrastructure re-run of a job. Returns {state, count}: 'new' (reserved now),
 * 'claimed' (reserved earlier, the GitHub call may not have happened), 'done', 'exhausted'.
 */
export const CLAIM_RERUN = `
local m = redis.call('GET', KEYS[2])
if m == 'done' then return {'done', 0} end
if m then return {'claimed', tonumber(m)} end
local n = tonumber(redis.call('HGET', KEYS[1], 'reruns') or '0')
if n >= tonumber(ARGV[1]) then return {'exhausted', n} end
redis.call('HSET', KEYS[1], 'reruns', n + 1, 'lostAttempt', ARGV[3], 'reason', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], n + 1, 'EX', ARGV[2])
return {'new', n + 1}`;

/** KEYS: budget counter. ARGV: cap, window ttl s. Takes one unit if the window has one left. */
export const TAKE_BUDGET = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if n > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return 0
end
return 1`;

/**
 * KEYS: due zset, item key. ARGV: member, due ms, item JSON, ttl s. Adds a lost runner once:
 * the item key outlives its processing (a tombstone), so a runner object still in the
 * informer cache after its recovery finished is not recovered again.
 */
export const SCHEDULE_ONCE = `
if redis.call('SET', KEYS[2], ARGV[3], 'NX', 'EX', ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
  return 1
end
return 0`;
