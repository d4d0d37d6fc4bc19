import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { parseCsvTrace } from '../../sim/what-if/csv.ts';
import { main, renderReport, type Report } from '../../sim/what-if/cli.ts';
import { chooseWindow, toTrace, TraceError, type RecordedJob } from '../../sim/what-if/records.ts';
import { applySet, parseSet } from '../../sim/what-if/set.ts';
import { readValkeyTrace } from '../../sim/what-if/valkey.ts';
import { REPO_ROOT } from '../../sim/local.ts';
import { JobQueue } from '../../runtime/queue/job-queue.ts';
import { JobRecords } from '../../runtime/queue/job-records.ts';
import type { QueuedJob } from '../../runtime/queue/types.ts';
import { UsageError } from '../../runtime/util/cli.ts';
import { Connections, testValkeyUrl, uniquePrefix } from '../support/valkey.ts';

const FIXTURE = join(REPO_ROOT, 'tests', 'what-if', 'fixtures', 'small-team.csv');
/** The fixture's day (its jobs are 09:00–17:00 UTC on 2026-11-24); "now" for the Valkey path. */
const FIXTURE_EVENING = Date.UTC(2026, 10, 24, 23, 0);

type Run = { code: number; stdout: string; stderr: string };
async function run(argv: string[], o: { now?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, (s) => { stdout += s; }, (s) => { stderr += s; }, { env: o.env ?? {}, ...(o.now ? { now: () => o.now! } : {}) });
  return { code, stdout, stderr };
}

describe('npm run what-if', function () {
  let tmp: string;
  /** Pulumi.dev.yaml with one pool that keeps nothing warm (min 0, no schedule): what --set pools[0].min=4 is compared against. */
  let stackFile: string;
  const file = (name: string, text: string) => {
    const p = join(tmp, name);
    writeFileSync(p, text);
    return p;
  };
  const HEADER = 'id,created_at,started_at,completed_at,labels\n';
  const row = (id: number, labels = 'runs-fleet/runner=4cpu-linux-arm64') => `${id},2026-11-24T09:00:0${id}Z,2026-11-24T09:00:3${id}Z,2026-11-24T09:05:00Z,${labels}\n`;

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'runs-fleet-what-if-'));
    const stack = parseYaml(readFileSync(join(REPO_ROOT, 'Pulumi.dev.yaml'), 'utf8')) as { config: Record<string, unknown> };
    stack.config['runs-fleet:pools'] = [{ name: 'default', class: '4cpu-linux-arm64', min: 0, max: 10 }];
    stackFile = file('Pulumi.whatif.yaml', stringifyYaml(stack));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  describe('--set: a change goes through the stack\'s own validation; a bad one stops before anything is read or replayed', () => {
    it('parses paths as pulumi config set --path takes them, with or without runs-fleet:', () => {
      assert.deepEqual(parseSet('pools[0].min=4'), { text: 'pools[0].min=4', key: 'pools', steps: [0, 'min'], value: 4 });
      assert.deepEqual(parseSet('runs-fleet:karpenter.consolidateAfter=5m').value, '5m');
      assert.deepEqual(applySet({ pools: [{ name: 'a', min: 0 }] }, parseSet('pools[0].schedules=[]')), { pools: [{ name: 'a', min: 0, schedules: [] }] });
      assert.throws(() => parseSet('pools[0].min'), UsageError);
      assert.throws(() => parseSet('aws:region=us-west-2'), /only runs-fleet:\* settings/);
      assert.throws(() => applySet({ pools: [{}] }, parseSet('pools[3].min=4')), /runs-fleet:pools\[3\] does not exist \(1 entry/);
      assert.throws(() => applySet({ pools: [{ min: 1 }] }, parseSet('pools[0].min.x=4')), /runs-fleet:pools\[0\]\.min is 1, not an object/);
    });

    const bad: Array<[string, RegExp]> = [
      ['pools[0].min=four', /runs-fleet:pools\[0\]\.min must be a number, got "four"/],
      ['pools[0].min=20', /runs-fleet:pools\[0\]\.max must be ≥ min \(10 < 20\)/],
      ['pools[0].mni=4', /runs-fleet:pools\[0\] has an unknown key "mni"/],
      ['pools[5].min=4', /runs-fleet:pools\[5\] does not exist/],
      ['pools[0].class=16cpu-linux-arm64', /names unknown class "16cpu-linux-arm64"/],
    ];
    for (const [set, message] of bad) {
      it(`--set ${set}: exit 2 with the problem, the fix and the usage`, async () => {
        const r = await run(['--stack-file', stackFile, '--csv', FIXTURE, '--set', set]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, message);
        assert.match(r.stderr, new RegExp(`^--set ${set.replace(/[[\].]/g, '\\$&')}: `));
        assert.match(r.stderr, /\n\nUsage: npm run what-if/);
        assert.doesNotMatch(r.stderr, /replaying/, 'nothing was replayed');
        assert.equal(r.stdout, '');
      });
    }

    it('without --set, or with both --csv and --valkey-url, it is a usage error', async () => {
      const none = await run(['--stack-file', stackFile, '--csv', FIXTURE]);
      assert.equal(none.code, 2);
      assert.match(none.stderr, /^name the proposed change with --set PATH=VALUE/);
      const both = await run(['--csv', FIXTURE, '--valkey-url', 'redis://127.0.0.1:1', '--set', 'pools[0].min=4']);
      assert.equal(both.code, 2);
      assert.match(both.stderr, /^--csv and --valkey-url\/--prefix: the jobs come from one of them/);
    });
  });

  describe('a missing or malformed trace: one clear message naming the input, exit 2', () => {
    const cases: Array<[string, string | undefined, RegExp]> = [
      ['a missing file', undefined, /--csv .*nosuch\.csv: no such file; export the jobs first, e\.g\. gh api --paginate/],
      ['an empty file', '', /empty\.csv: is empty; expected a header row \(created_at, started_at, completed_at, labels/],
      ['a header and no jobs', HEADER, /header-only\.csv: has a header row but no jobs/],
      ['a missing column', 'id,created_at,started_at,labels\n1,2026-11-24T09:00:00Z,2026-11-24T09:00:10Z,x\n', /no-column\.csv: no column completed_at in the header \(found: id, created_at, started_at, labels\)/],
      ['a row with a field too few', `${HEADER}${row(1)}2,2026-11-24T09:00:00Z,2026-11-24T09:00:10Z,2026-11-24T09:05:00Z\n`, /short-row\.csv line 3, column labels: malformed CSV \(CSV_RECORD_INCONSISTENT_COLUMNS/],
      ['an unclosed quote', `${HEADER}${row(1)}2,"2026-11-24T09:00:00Z,x,y,z\n`, /unclosed\.csv line \d+, column created_at: malformed CSV \(CSV_QUOTE_NOT_CLOSED/],
      ['a time that is not ISO 8601', `${HEADER}${row(1)}2,yesterday,2026-11-24T09:00:10Z,2026-11-24T09:05:00Z,x\n`, /bad-time\.csv line 3, column created_at: "yesterday", expected an ISO 8601 time/],
      ['completed before started', `${HEADER}3,2026-11-24T09:00:00Z,2026-11-24T09:10:00Z,2026-11-24T09:05:00Z,x\n`, /backwards\.csv line 2, column completed_at: .* is before started_at/],
      ['labels that are not a JSON array', `${HEADER}1,2026-11-24T09:00:00Z,2026-11-24T09:00:10Z,2026-11-24T09:05:00Z,"[runs-fleet"\n`, /bad-labels\.csv line 2, column labels: .*starts like a JSON array but is not one/],
      ['an unknown class', `${HEADER}${row(1)}${row(2, 'runs-fleet/runner=16cpu-linux-arm64')}`, /unknown-class\.csv line 3 \(job 2\): labels \["runs-fleet\/runner=16cpu-linux-arm64"\] under the current config: unknown_class: .*\n.*--skip-unknown/],
      ['no runs-fleet job at all', `${HEADER}${row(1, 'ubuntu-latest')}`, /hosted-only\.csv \(1 rows\): no job to replay \(left out: 1 not a runs-fleet job/],
    ];
    const names = ['nosuch', 'empty', 'header-only', 'no-column', 'short-row', 'unclosed', 'bad-time', 'backwards', 'bad-labels', 'unknown-class', 'hosted-only'];
    cases.forEach(([what, text, message], i) => {
      it(what, async () => {
        const path = text === undefined ? join(tmp, `${names[i]}.csv`) : file(`${names[i]}.csv`, text);
        const r = await run(['--stack-file', stackFile, '--csv', path, '--set', 'pools[0].min=4']);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, message);
        assert.match(r.stderr, /^what-if: /);
        assert.equal(r.stdout, '');
      });
    });

    it('reads GitHub\'s export: labels as a JSON array or joined, skipped and unfinished jobs left out with their reason', () => {
      const t = parseCsvTrace([
        'id,status,conclusion,created_at,started_at,completed_at,labels',
        '1,completed,success,2026-11-24T09:00:00Z,2026-11-24T09:00:30Z,2026-11-24T09:05:30Z,"[""self-hosted"",""runs-fleet=7/runner=4cpu-linux-arm64""]"',
        '2,completed,success,2026-11-24T09:00:00.500Z,2026-11-24T09:00:10Z,2026-11-24T09:01:10Z,"self-hosted, runs-fleet=7/runner=2cpu-linux-arm64"',
        '3,completed,skipped,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,2026-11-24T09:00:00Z,runs-fleet',
        '4,in_progress,,2026-11-24T09:00:00Z,2026-11-24T09:00:05Z,,runs-fleet',
      ].join('\n'), 'gh.csv');
      assert.equal(t.rows, 4);
      assert.deepEqual(t.jobs.map((j) => j.labels), [['self-hosted', 'runs-fleet=7/runner=4cpu-linux-arm64'], ['self-hosted', 'runs-fleet=7/runner=2cpu-linux-arm64']]);
      assert.deepEqual(t.jobs.map((j) => [j.runMs, j.startedAt - j.createdAt]), [[300_000, 30_000], [60_000, 9_500]]);
      assert.deepEqual([...t.skipped], [['skipped on GitHub (never needed a runner)', 1], ['not completed yet (status in_progress)', 1]]);
    });

    it('keeps each job\'s run, workflow and name when exported, so the replay\'s warm pool can learn its pipelines; a job without a run is a run of its own', () => {
      const t = parseCsvTrace([
        'id,run_id,workflow_name,name,created_at,started_at,completed_at,labels',
        '1,77,pipeline,build,2026-11-24T09:00:00Z,2026-11-24T09:00:05Z,2026-11-24T09:06:00Z,runs-fleet',
        '2,77,pipeline,test (1),2026-11-24T09:06:01Z,2026-11-24T09:06:05Z,2026-11-24T09:16:00Z,runs-fleet',
        '3,,,,2026-11-24T09:07:00Z,2026-11-24T09:07:05Z,2026-11-24T09:08:00Z,runs-fleet',
      ].join('\n'), 'gh.csv');
      assert.deepEqual(t.jobs.map((j) => [j.runId, j.workflow, j.jobName]), [[77, 'pipeline', 'build'], [77, 'pipeline', 'test (1)'], [undefined, undefined, undefined]]);
      const { window, jobs } = chooseWindow(t.jobs, 1, { maxJobs: 100, what: 'gh.csv' });
      const trace = toTrace(jobs, window, 'gh');
      assert.deepEqual(trace.jobs.slice(0, 2).map((j) => [j.runId, j.workflow, j.jobName]), [[77, 'pipeline', 'build'], [77, 'pipeline', 'test (1)']]);
      assert.ok(trace.jobs[2]!.runId !== 77 && trace.jobs[2]!.workflow === undefined);
    });
  });

  describe('the window: the last N whole UTC days, said plainly when days are missing or capped', () => {
    const DAY = 86_400_000;
    const D0 = Date.UTC(2026, 10, 20);
    const job = (t: number): RecordedJob => ({ createdAt: t, startedAt: t + 5_000, runMs: 60_000, labels: ['runs-fleet'], source: 'x' });

    it('drops leading days before the first job, replays quiet days inside the span and names them', () => {
      const jobs = [job(D0 + 9 * 3_600_000), job(D0 + 3 * DAY + 3_600_000)];
      const { window, jobs: kept } = chooseWindow(jobs, 7, { maxJobs: 100, what: 'w' });
      assert.equal(window.from, D0);
      assert.equal(window.days, 4);
      assert.equal(kept.length, 2);
      assert.deepEqual(window.notes, ['no jobs before 2026-11-20: replaying 4 day(s), not 7', 'no jobs on 2026-11-21, 2026-11-22: replayed as quiet days (only the warm pools cost)']);
    });

    it('--days shorter than the span keeps the newest days; Valkey\'s "now" ends the window today', () => {
      const jobs = [job(D0 + 1_000), job(D0 + 2 * DAY + 1_000)];
      assert.equal(chooseWindow(jobs, 1, { maxJobs: 100, what: 'w' }).jobs.length, 1);
      assert.throws(() => chooseWindow(jobs, 2, { now: D0 + 9 * DAY, maxJobs: 100, what: 'Valkey x' }),
        (e: unknown) => e instanceof TraceError && /^Valkey x: no jobs in the last 2 day\(s\) \(2026-11-28 to 2026-11-29\); the newest is from 2026-11-22/.test(e.message));
    });

    it('over --max-jobs, drops the oldest days until it fits and says so', () => {
      const jobs = [0, 1, 2].flatMap((d) => [job(D0 + d * DAY + 1), job(D0 + d * DAY + 2)]);
      const { window, jobs: kept } = chooseWindow(jobs, 7, { maxJobs: 3, what: 'w' });
      assert.equal(window.days, 1);
      assert.equal(kept.length, 2);
      assert.match(window.notes.join('\n'), /more than --max-jobs 3 jobs: replaying only the newest 1 day\(s\) from 2026-11-22 \(2 jobs\)/);
    });
  });

  it('prints current, proposed and the delta per row', () => {
    const o = { jobs: 10, p50StartS: 2, p95StartS: 130.64, coldStarts: 4, warmHitRate: 0.6, neverStarted: 0, nodesLaunched: 3, nodeUsdPerDay: 7.851, idleUsdPerDay: 2.3, wallMs: 1 };
    const text = renderReport({
      stack: 'dev', stackFile: 'Pulumi.dev.yaml', changes: ['pools[0].min=4'], source: 'jobs.csv (10 rows)', window: { from: '2026-11-24', days: 1, notes: [] }, skipped: {},
      current: o, proposed: { ...o, p95StartS: 40, coldStarts: 1, nodeUsdPerDay: 9.9 }, recorded: { p50StartS: 3, p95StartS: 50 },
    });
    assert.match(text, /^runs-fleet what-if: stack "dev" \(Pulumi\.dev\.yaml\), change --set pools\[0\]\.min=4\n/);
    assert.match(text, /\n {2}p95 start \(s\) +130\.6 +40\.0 +-90\.6\n/);
    assert.match(text, /\n {2}cold starts +4 +1 +-3\n/);
    assert.match(text, /\n {2}node \$\/day +7\.85 +9\.90 +\+2\.05\n/);
    assert.match(text, /\n {2}jobs +10 +10 +0\n/);
  });

  describe('replays', function () {
    // Two replays of a simulated day each (two worker threads, ~40-80 s on 2 shared cores).
    this.timeout(400_000);
    let fromCsv: Report;

    it('CSV: more min placeholders give fewer cold starts and a lower p95, and cost more — numbers from the replay', async () => {
      const r = await run(['--stack-file', stackFile, '--csv', FIXTURE, '--set', 'pools[0].min=4', '--json']);
      assert.equal(r.code, 0, r.stderr);
      fromCsv = JSON.parse(r.stdout) as Report;
      const { current, proposed } = fromCsv;
      // The fixture: 86 runs-fleet jobs and 8 hosted ones (ubuntu-latest) a GitHub export also lists.
      assert.equal(current.jobs, 86);
      assert.equal(proposed.jobs, 86);
      assert.deepEqual(fromCsv.skipped, { 'not a runs-fleet job (no runs-fleet label or alias)': 8 });
      assert.equal(current.neverStarted + proposed.neverStarted, 0);
      assert.ok(current.coldStarts > 0, 'a pool of min 0 starts some jobs cold');
      assert.ok(proposed.coldStarts < current.coldStarts, `cold starts ${current.coldStarts} → ${proposed.coldStarts}`);
      assert.ok(proposed.p95StartS <= current.p95StartS, `p95 ${current.p95StartS} → ${proposed.p95StartS}`);
      assert.ok(proposed.idleUsdPerDay > current.idleUsdPerDay, `idle $ ${current.idleUsdPerDay} → ${proposed.idleUsdPerDay}`);
      assert.ok(current.nodeUsdPerDay > 0 && proposed.nodeUsdPerDay > current.nodeUsdPerDay);
      // The recorded starts are the fixture's own (8–62 s), not the replay's.
      assert.deepEqual(fromCsv.recorded, { p50StartS: 35, p95StartS: 62 });
      assert.deepEqual(fromCsv.window, { from: '2026-11-24', days: 1, notes: ['no jobs before 2026-11-24: replaying 1 day(s), not 7'] });
      assert.match(r.stderr, /replaying 86 jobs over 1 day\(s\) from 2026-11-24/);
    });

    it('Valkey: the orchestrator\'s own job records (written by JobQueue and JobRecords) replay like the same jobs from CSV', async () => {
      const conns = new Connections();
      const client = conns.command();
      await conns.ready();
      const prefix = uniquePrefix('what-if');
      try {
        // The fixture's jobs as the orchestrator records them: the ingress's enqueue (receivedAt), the
        // provisioner's dequeue (class, pool), the watcher's runningAt and finishedAt.
        const queue = new JobQueue(client, { prefix, consumer: 'test' });
        const records = new JobRecords(client, prefix);
        const csv = parseCsvTrace(readFileSync(FIXTURE, 'utf8'), 'fixture').jobs.filter((j) => j.labels.some((l) => l.startsWith('runs-fleet')));
        await Promise.all(csv.map(async (j, i) => {
          const jobId = 5000 + i;
          const job: QueuedJob = {
            jobId, runId: 1, runAttempt: 1, repository: 'acme/app', owner: 'acme', repo: 'app', org: 'acme', installationId: 1,
            labels: j.labels, request: {}, deliveryId: `d-${jobId}`, workflowName: 'ci', jobName: 'test', receivedAt: j.createdAt, enqueuedAt: j.createdAt,
          };
          await queue.enqueue(job);
          await records.updateUnlessFinished(jobId, 1, { status: 'dequeued', className: '4cpu-linux-arm64', pool: 'default' }, { dequeuedAt: j.createdAt + 50 });
          await records.update(jobId, 1, { start: 'warm' }, { runningAt: j.startedAt });
          await records.stampOnce(jobId, 1, 'finishedAt', j.startedAt + j.runMs);
        }));
        // A job rejected at the ingress has a record with no class: left out with its reason.
        await records.update(9999, 1, { status: 'rejected' }, { receivedAt: FIXTURE_EVENING - 3_600_000 });

        const read = await readValkeyTrace(client, prefix, FIXTURE_EVENING - 7 * 86_400_000);
        assert.equal(read.records, 87);
        assert.equal(read.jobs.length, 86);
        assert.deepEqual([...read.skipped], [['never got a runner (status rejected)', 1]]);
        assert.deepEqual(read.jobs.map((j) => j.runMs).sort(), csv.map((j) => j.runMs).sort());
        // The labels the ingress recorded, not the class they resolved to: a proposed alias change re-routes them.
        assert.deepEqual(read.jobs.map((j) => JSON.stringify(j.labels)).sort(), csv.map((j) => JSON.stringify(j.labels)).sort());
        // A record from before labels were kept is replayed by its class and pool.
        await records.update(9998, 1, { status: 'job_created', className: '4cpu-linux-arm64', pool: 'default' }, { receivedAt: FIXTURE_EVENING - 3_600_000, runningAt: FIXTURE_EVENING - 3_590_000, finishedAt: FIXTURE_EVENING - 3_000_000 });
        const withOld = await readValkeyTrace(client, prefix, FIXTURE_EVENING - 7 * 86_400_000);
        assert.deepEqual(withOld.jobs.find((j) => j.source === `record ${records.keys.record(9998, 1)}`)?.labels, ['runs-fleet/runner=4cpu-linux-arm64/pool=default']);
        await client.del(records.keys.record(9998, 1));

        // Records older than --days: a clear message, nothing replayed.
        const stale = await run(['--stack-file', stackFile, '--valkey-url', testValkeyUrl(), '--prefix', prefix, '--days', '3', '--set', 'pools[0].min=4'], { now: FIXTURE_EVENING + 10 * 86_400_000 });
        assert.equal(stale.code, 2, stale.stderr);
        assert.match(stale.stderr, /no job to replay \(left out: 87 older than --days\)/);

        const r = await run(['--stack-file', stackFile, '--valkey-url', testValkeyUrl(), '--prefix', prefix, '--set', 'pools[0].min=4', '--json'], { now: FIXTURE_EVENING });
        assert.equal(r.code, 0, r.stderr);
        const report = JSON.parse(r.stdout) as Report;
        assert.match(report.source, new RegExp(`^Valkey .*, prefix ${prefix} \\(87 records\\)$`));
        // The same arrivals, run times and class as the CSV: the replays (deterministic, virtual clock) agree.
        assert.ok(fromCsv, 'the CSV replay ran first');
        for (const side of ['current', 'proposed'] as const) {
          assert.equal(report[side].jobs, fromCsv[side].jobs);
          assert.equal(report[side].coldStarts, fromCsv[side].coldStarts, side);
          assert.equal(report[side].p95StartS, fromCsv[side].p95StartS, side);
        }
        assert.ok(report.proposed.coldStarts < report.current.coldStarts);
      } finally {
        conns.closeAll();
      }
    });

    it('a Valkey with no records under the prefix: says so, with the likely fix', async () => {
      const r = await run(['--stack-file', stackFile, '--valkey-url', testValkeyUrl(), '--prefix', uniquePrefix('empty'), '--set', 'pools[0].min=4']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /holds no job records under prefix empty-\w+: is --prefix the deployment's/);
    });

    it('an unreachable Valkey: exit 1 naming the host, not a stack trace', async () => {
      const r = await run(['--stack-file', stackFile, '--valkey-url', 'redis://127.0.0.1:1', '--set', 'pools[0].min=4']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^what-if: Valkey at 127\.0\.0\.1:1 is not reachable within 10 s/);
    });
  });
});
