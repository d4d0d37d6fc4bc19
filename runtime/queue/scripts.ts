/**
 * Lua scripts: each is one atomic multi-key step, so that a crash between two
 * commands can never leave a job half-stored or acked-but-not-dead-lettered.
 */

/**
 * KEYS: dedupe, jobs stream, job record. ARGV: dedupe ttl s, payload json, enqueuedAt, record ttl s, receivedAt,
 * labels json, group, consumer to hand the entry to ('' for none). The dedupe marker and the stream
 * entry are written together or not at all. The record keeps the labels because the stream entry is
 * trimmed once acked, and `what-if` replays recorded jobs by their labels under a proposed config.
 *
 * With a consumer (the ingress's own replica has a free slot), the same step reads the group's next
 * undelivered entry for it (XREADGROUP COUNT 1): the new one unless a backlog is waiting, which then
 * goes first. The entry is then pending for that consumer exactly as if its blocking read had
 * returned it — liveness and reclaim treat it the same — but one stream round trip and one wake-up
 * sooner. When the entry read is the new one and GitHub has not already said the job finished, its
 * record says `dequeued` in the same step, so provisioning needs no check of its own.
 * → false (a duplicate), {id}, or {id, read id, read fields, 1 when the read entry is marked dequeued}.
 */
export const ENQUEUE_ONCE = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return false end
local id = redis.call('XADD', KEYS[2], '*', 'job', ARGV[2])
redis.call('HSET', KEYS[3], 'status', 'queued', 'entryId', id, 'receivedAt', ARGV[5], 'enqueuedAt', ARGV[3], 'labels', ARGV[6])
redis.call('EXPIRE', KEYS[3], ARGV[4])
if ARGV[8] == '' then return {id} end
local ok, read = pcall(redis.call, 'XREADGROUP', 'GROUP', ARGV[7], ARGV[8], 'COUNT', 1, 'STREAMS', KEYS[2], '>')
local entry = ok and read and read[1][2][1]
if not entry then return {id} end
local marked = 0
if entry[1] == id and redis.call('HEXISTS', KEYS[3], 'completedOnGitHubAt') == 0 then
  redis.call('HSET', KEYS[3], 'status', 'dequeued', 'dequeuedAt', ARGV[3])
  marked = 1
end
return {id, entry[1], entry[2], marked}`;

/**
 * KEYS: jobs stream, dead-letter stream, job record. ARGV: group, entry id, payload, reason,
 * deliveries, at, dead-letter max length. The record (when it still exists) says
 * `dead_lettered` with the reason, in the same step; the dead-letter stream keeps about the
 * newest max-length entries (MAXLEN ~ trims whole macro nodes, so it may hold a few more).
 */
export const DEAD_LETTER = `
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], '*', 'job', ARGV[3], 'reason', ARGV[4], 'deliveries', ARGV[5], 'entryId', ARGV[2], 'at', ARGV[6])
if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('HSET', KEYS[3], 'status', 'dead_lettered', 'failure', ARGV[4], 'deadLetteredAt', ARGV[6])
end
return redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])`;

/**
 * KEYS: jobs stream, dead-letter stream, job record. ARGV: dead-letter id, payload, at, record ttl s.
 * Replays a dead letter: appends its job to the jobs stream again, marks the record
 * `queued` (replayed), and removes the dead letter, all at once, so a replay can neither
 * be lost nor happen twice. Returns the new entry id, or false when the dead letter is gone.
 */
export const REPLAY_DEAD_LETTER = `
local row = redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[1])
if #row == 0 then return false end
local id = redis.call('XADD', KEYS[1], '*', 'job', ARGV[2])
redis.call('HSET', KEYS[3], 'status', 'queued', 'entryId', id, 'replayedAt', ARGV[3])
redis.call('HDEL', KEYS[3], 'failure')
redis.call('EXPIRE', KEYS[3], ARGV[4])
redis.call('XDEL', KEYS[2], ARGV[1])
return id`;

/**
 * KEYS: jobs stream. ARGV: group. Trims entries that every consumer has read and acked:
 * everything older than the oldest pending entry (or than last-delivered-id when none
 * is pending). A pending entry is never trimmed, so trimming cannot lose a job.
 */
export const TRIM_ACKED = `
local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', KEYS[1])
if not ok then return 0 end
local minid = nil
for _, g in ipairs(groups) do
  local name, last = nil, nil
  for i = 1, #g, 2 do
    if g[i] == 'name' then name = g[i+1] end
    if g[i] == 'last-delivered-id' then last = g[i+1] end
  end
  if name == ARGV[1] then
    local pending = redis.call('XPENDING', KEYS[1], ARGV[1])
    if pending[1] > 0 then minid = pending[2] else minid = last end
  end
end
if not minid or minid == '0-0' then return 0 end
return redis.call('XTRIM', KEYS[1], 'MINID', minid)`;
