import assert from 'node:assert/strict';
import { findClass } from '../../runtime/config/document.ts';
import { parseRunsOn } from '../../runtime/labels/parse.ts';
import { resolveRunner } from '../../runtime/labels/resolve.ts';
import type { RunnerRequest } from '../../runtime/labels/types.ts';
import { buildDemoScenario, prng, type DemoStep } from '../../sim/demo/scenario.ts';
import { percentile, renderSummary } from '../../sim/demo/summary.ts';
import { DEFAULT_STACK_FILE } from '../../sim/local.ts';
import { loadStackDocument } from '../../sim/stack-document.ts';

const { doc } = loadStackDocument(DEFAULT_STACK_FILE);
const classOf = (labels: string[]) => resolveRunner(parseRunsOn(labels, doc.aliases) as RunnerRequest, doc).className;

describe('demo scenario', () => {
  it('is deterministic: the same seed and scale give the same steps; another seed other durations', () => {
    assert.deepEqual(buildDemoScenario({ seed: 7, timeScale: 0.1 }), buildDemoScenario({ seed: 7, timeScale: 0.1 }));
    const a = buildDemoScenario({ seed: 1 }).jobs.map((j) => j.runMs);
    const b = buildDemoScenario({ seed: 2 }).jobs.map((j) => j.runMs);
    assert.notDeepEqual(a, b);
    assert.deepEqual(Array.from({ length: 3 }, prng(42)), Array.from({ length: 3 }, prng(42)));
  });

  it('is a realistic burst: a matrix fan-out, several classes through labels and aliases, one cancel, one spot interruption of a spot-capable job', () => {
    const s = buildDemoScenario();
    assert.ok(s.steps.every((x, i) => i === 0 || s.steps[i - 1]!.atMs <= x.atMs), 'steps in time order');
    const byRun = new Map<number, number>();
    for (const j of s.jobs) byRun.set(j.runId, (byRun.get(j.runId) ?? 0) + 1);
    assert.ok(Math.max(...byRun.values()) >= 6, 'one run fans out to a matrix of at least 6 jobs');
    for (const j of s.jobs) {
      const marker = j.labels.find((l) => l.startsWith('runs-fleet='));
      if (marker) assert.ok(marker.startsWith(`runs-fleet=${j.runId}/`), `${j.key}: the run id in its label is its run's`);
    }
    const classes = new Set(s.jobs.map((j) => classOf(j.labels)));
    assert.ok(classes.size >= 4, `jobs use several classes of Pulumi.dev.yaml (${[...classes].join(', ')})`);
    assert.ok(s.jobs.some((j) => j.labels.some((l) => doc.aliases.some((a) => a.match === l || (a.regex && new RegExp(a.match).test(l))))), 'an alias is used');

    const cancels = s.steps.filter((x) => x.kind === 'cancel');
    const interrupts = s.steps.filter((x) => x.kind === 'interrupt');
    assert.equal(cancels.length, 1);
    assert.equal(interrupts.length, 1);
    const target = s.jobs.find((j) => j.key === interrupts[0]!.key)!;
    assert.ok(findClass(doc, classOf(target.labels))!.capacityTypes.includes('spot'), 'the interrupted job runs on a class that uses spot capacity');
    const interrupt = interrupts[0] as Extract<DemoStep, { kind: 'interrupt' }>;
    assert.ok(target.runMs > interrupt.afterTakenMs, 'the interruption comes mid-job');
    const cancelled = s.steps.find((x) => x.kind === 'queue' && x.job.key === cancels[0]!.key)!;
    assert.ok(cancels[0]!.atMs > cancelled.atMs, 'cancelled after it was queued');
    assert.equal(new Set(s.jobs.map((j) => j.key)).size, s.jobs.length, 'keys are unique');
  });

  it('scales durations and gaps with the time scale', () => {
    const slow = buildDemoScenario({ seed: 3, timeScale: 1 });
    const fast = buildDemoScenario({ seed: 3, timeScale: 0.1 });
    const last = (x: typeof slow) => x.steps.at(-1)!.atMs;
    assert.ok(last(fast) < last(slow) / 5);
    assert.ok(fast.jobs.every((j, i) => Math.abs(j.runMs - slow.jobs[i]!.runMs / 10) <= 1));
  });
});

describe('demo summary', () => {
  it('percentile is nearest-rank', () => {
    assert.equal(percentile([], 0.5), undefined);
    assert.equal(percentile([3, 1, 2], 0.5), 2);
    assert.equal(percentile([1, 2, 3, 4], 0.5), 2);
    assert.equal(percentile([1, 2, 3, 4], 0.99), 4);
  });

  it('reports the retry with its cause and bound, and says when a stage was not recorded', () => {
    const scenario = buildDemoScenario();
    const base = { receivedAt: 1_000, enqueuedAt: 1_001, dequeuedAt: 1_005, jobCreatedAt: 1_040 };
    const leftBehind = { registeredRunner: false, runnerJob: false, secret: false };
    const lines = renderSummary({
      scenario, startedAt: 0, endedAt: 60_000, timedOut: false, interrupted: false, unfinished: [], placeholdersReady: 0,
      limits: { maxInfraRetries: 1, maxReprovisions: 2 },
      attempts: [
        { key: 'api#1/build-image', jobId: 5, runAttempt: 1, conclusion: 'failure', record: { status: 'infra_rerun', failure: 'spot_interruption', infraRetries: '1', className: '4cpu-linux-amd64', stages: base }, leftBehind },
        { key: 'api#1/build-image', jobId: 9, runAttempt: 2, conclusion: 'success', record: { status: 'completed', className: '4cpu-linux-amd64', stages: base }, leftBehind },
        { key: 'web#3/docs', jobId: 12, runAttempt: 1, conclusion: 'cancelled', record: { status: 'cancelled_cleaned', stages: base }, leftBehind },
        { key: 'web#4/docs', jobId: 13, runAttempt: 1, conclusion: 'cancelled', record: { status: 'job_created', stages: base }, leftBehind: { ...leftBehind, registeredRunner: true } },
      ],
      github: { jitConfigs: 2, rateLimited: 0, deliveries: 5, failedDeliveries: 0 },
      notable: [], metrics: { infraRetries: {}, recoveryOutcomes: {}, runnerFailures: {} },
    }).join('\n');
    assert.match(lines, /attempt 1: runner lost to spot_interruption; GitHub concluded it failure; the orchestrator re-ran the job through GitHub \(infrastructure retry 1 of maxInfraRetries 1\) → attempt 2: success/);
    assert.match(lines, /not recorded: no job record carries a start kind/);
    assert.match(lines, /web#3\/docs: cancelled on GitHub before a runner took it; record status cancelled_cleaned; no runner, Job or Secret left \(checked in GitHub and the cluster\)/);
    assert.match(lines, /web#4\/docs: .*record status job_created; LEFT BEHIND: a registered runner/);
    assert.match(lines, /webhook → Job created\s+4\s+40 ms/);
  });
});
