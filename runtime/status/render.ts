import type { Part, Status } from './collect.ts';

/** The status as a terminal screen (what `npm run status` prints). */
export function renderStatus(s: Status): string {
  const lines = [`runs-fleet status at ${s.at} — answered by ${s.replica.identity}${s.replica.leader ? ' (the leader)' : ''}`, ''];
  lines.push(...section('Queue', s.queue, (q) => [
    `${q.waiting} waiting, ${q.inFlight} in flight, ${q.deadLetters} dead letter${q.deadLetters === 1 ? '' : 's'}; consumers: ${q.consumers.map((c) => `${c.name} (${c.pending} pending)`).join(', ') || 'none yet'}`,
    ...q.inFlightJobs.map((j) => `  in flight   job ${j.jobId ?? '?'} ${j.repository ?? '(entry trimmed)'} [${j.labels.join(', ')}] on ${j.consumer} for ${j.seconds} s, delivery ${j.deliveries}`),
    ...more(q.inFlight, q.inFlightJobs.length, 'in flight'),
    ...q.recentDeadLetters.map((d) => `  dead letter job ${d.jobId} ${d.repository}: ${d.reason}${d.secondsAgo === undefined ? '' : ` (${ago(d.secondsAgo)})`}`),
    ...more(q.deadLetters, q.recentDeadLetters.length, 'dead letters'),
  ]));
  lines.push(...section('Warm pools', s.pools, (pools) => pools.length === 0 ? ['none configured'] : [
    ...table(['POOL', 'CLASS', 'MIN..MAX', 'DESIRED', 'READY', 'HITS', 'MISSES'], pools.map((p) => [
      p.name, p.class, `${p.min}..${p.max}`, p.desired === undefined ? '-' : String(p.desired), p.ready === undefined ? '-' : String(p.ready), String(p.hits), String(p.misses),
    ])),
    ...(s.replica.leader ? [] : ['(hits and misses are counted by the leader; this replica is not it)']),
    ...(pools.some((p) => p.desired === undefined) ? ['(- : no placeholder Deployment yet; the leader creates it on its next pass)'] : []),
  ]));
  lines.push(...section('GitHub', s.github, (g) => [
    `budget left: ${Object.entries(g.remaining).map(([r, n]) => `${r} ${n}`).join(', ') || 'no response seen yet'} (lowest x-ratelimit-remaining this replica saw)`,
    `rate-limited responses: ${Object.entries(g.rateLimited).map(([k, n]) => `${n} ${k}`).join(', ') || 'none'}; waits for the shared limiter: ${g.waits} (${g.waitSeconds} s)`,
    // Each App has its own budget: one line per App id, so an App running dry shows even while the others have room.
    ...Object.entries(g.apps).sort(([a], [b]) => a.localeCompare(b)).map(([id, a]) =>
      `App ${id}: ${a.requests} requests, budget left ${Object.entries(a.remaining).map(([r, n]) => `${r} ${n}`).join(', ') || '-'}, ` +
      `rate-limited ${Object.entries(a.rateLimited).map(([k, n]) => `${n} ${k}`).join(', ') || 'none'}, waits ${a.waits} (${a.waitSeconds} s)`),
  ]));
  lines.push(...section('Leader', s.leader, (l) => [
    l.holder ? `${l.holder}${l.renewedSecondsAgo === undefined ? '' : `, renewed ${ago(l.renewedSecondsAgo)}`}${l.leaseSeconds ? ` (lease ${l.leaseSeconds} s)` : ''}, ${l.transitions} transition${l.transitions === 1 ? '' : 's'}` : 'none: no replica holds the Lease yet',
  ]));
  return `${lines.join('\n')}\n`;
}

function section<T>(title: string, p: Part<T>, body: (v: T) => string[]): string[] {
  if (!p.ok) return [`${title.padEnd(11)}cannot be read: ${p.error}`];
  const [first = '', ...rest] = body(p.value);
  return [`${title.padEnd(11)}${first}`, ...rest.map((l) => (l.startsWith('  ') ? l : `           ${l}`))];
}

function more(total: number, shown: number, what: string): string[] {
  return total > shown ? [`  … ${total - shown} more ${what}`] : [];
}

function ago(seconds: number): string {
  return seconds < 120 ? `${seconds} s ago` : seconds < 7200 ? `${Math.round(seconds / 60)} min ago` : `${Math.round(seconds / 3600)} h ago`;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}
