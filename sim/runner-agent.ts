import type { Stored } from './k8s/api/types.ts';
import type { SimCluster } from './k8s/cluster.ts';
import type { GitHubDouble, SimJob } from './github/double.ts';
import { ANNOTATION, RUNNER_CONTAINER } from '../runtime/k8s/labels.ts';
import { RUNNER_SELECTOR } from '../runtime/controllers/watcher/runner-ref.ts';
import { EKS_TIMINGS } from './k8s/timing-profile.ts';

/**
 * The actions runner inside a runner pod, as far as GitHub and the cluster can tell:
 * once the runner container runs (plus a start-up delay) it connects with the JIT
 * config of its Job and takes the oldest queued job its labels fit (GitHub's choice,
 * not necessarily the job it was created for) — GitHub sends `in_progress`. When the
 * job's steps are done it reports the conclusion and exits 0 — GitHub sends
 * `completed`, the Job completes. A pod lost mid-job (spot interruption, node loss)
 * never reports: GitHub fails the job after `lostAfterMs`, as it does when a runner
 * stops talking to it.
 */
export interface RunnerAgentOptions {
  sim: Pick<SimCluster, 'store' | 'setPodOutcome'>;
  github: Pick<GitHubDouble, 'runnerTakesJob' | 'markJobCompleted' | 'getJob'>;
  namespace: string;
  /** How long a job's steps take once a runner has it. Default 10 s. */
  runMs?: (job: SimJob) => number;
  /** How a job ends when its steps are done. Default success. */
  conclusion?: (job: SimJob) => 'success' | 'failure';
  /** Container running → runner listening for jobs. Default the timing profile's runnerStartMs (sim/k8s/timing-profile.ts). */
  startupMs?: number;
  /** A runner that stopped reporting: GitHub fails its job after this long. Default 2 s. */
  lostAfterMs?: number;
  /** How often runner pods are looked at. Default 100 ms. */
  pollMs?: number;
  onEvent?: (e: RunnerAgentEvent) => void;
}

export type RunnerAgentEvent =
  | { type: 'took'; runnerName: string; podName: string; nodeName: string | undefined; jobId: number; runAttempt: number }
  | { type: 'finished'; runnerName: string; jobId: number; runAttempt: number; conclusion: string }
  | { type: 'lost'; runnerName: string; podName: string; jobId: number; runAttempt: number };

interface Runner {
  podName: string;
  runnerName: string;
  listeningAt: number;
  job?: SimJob;
  done?: boolean;
  timer?: NodeJS.Timeout;
}

export interface RunnerAgent {
  /** Runners that have a job now. */
  busy(): number;
  stop(): void;
}

export function startRunnerAgent(o: RunnerAgentOptions): RunnerAgent {
  const runners = new Map<string, Runner>(); // by pod uid
  const pollMs = o.pollMs ?? 100;
  const startupMs = o.startupMs ?? EKS_TIMINGS.runnerStartMs;
  const lostAfterMs = o.lostAfterMs ?? 2_000;
  const runMs = o.runMs ?? (() => 10_000);
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };

  const finish = (r: Runner) => {
    if (!r.job || r.done) return;
    r.done = true;
    const conclusion = o.conclusion?.(r.job) ?? 'success';
    o.github.markJobCompleted(r.job.id, conclusion);
    // The ephemeral runner exits after its one job: the pod's main container ends with 0.
    o.sim.setPodOutcome({ namespace: o.namespace, name: r.podName }, { type: 'exit', exitCode: 0, container: RUNNER_CONTAINER });
    o.onEvent?.({ type: 'finished', runnerName: r.runnerName, jobId: r.job.id, runAttempt: r.job.runAttempt, conclusion });
  };

  const lost = (r: Runner) => {
    if (!r.job || r.done) return;
    r.done = true;
    if (r.timer) clearTimeout(r.timer);
    const job = r.job;
    o.onEvent?.({ type: 'lost', runnerName: r.runnerName, podName: r.podName, jobId: job.id, runAttempt: job.runAttempt });
    later(lostAfterMs, () => {
      if (o.github.getJob(job.id)?.status === 'in_progress') o.github.markJobCompleted(job.id, 'failure');
    });
  };

  const poll = () => {
    const now = Date.now();
    const seen = new Set<string>();
    for (const pod of o.sim.store.list('pods', { namespace: o.namespace, labelSelector: RUNNER_SELECTOR })) {
      const uid = pod.metadata.uid!;
      seen.add(uid);
      let r = runners.get(uid);
      const phase = (pod as any).status?.phase as string | undefined;
      if (phase === 'Failed' || (pod.metadata.deletionTimestamp && r?.job && !r.done)) {
        if (r) lost(r);
        continue;
      }
      if (!r) {
        if (!runnerContainerRunning(pod)) continue;
        const runnerName = runnerNameOf(o.sim, o.namespace, pod);
        if (!runnerName) continue;
        r = { podName: pod.metadata.name!, runnerName, listeningAt: now + startupMs };
        runners.set(uid, r);
      }
      if (r.job || now < r.listeningAt || pod.metadata.deletionTimestamp) continue;
      let job: SimJob | undefined;
      try {
        job = o.github.runnerTakesJob(r.runnerName);
      } catch {
        continue; // unregistered (its job was cancelled): the orchestrator removes the pod
      }
      if (!job) continue; // idle: no queued job fits its labels yet
      const taken = r;
      taken.job = job;
      o.onEvent?.({ type: 'took', runnerName: r.runnerName, podName: r.podName, nodeName: (pod as any).spec?.nodeName, jobId: job.id, runAttempt: job.runAttempt });
      taken.timer = later(runMs(job), () => finish(taken));
    }
    for (const [uid, r] of runners) {
      if (seen.has(uid)) continue;
      lost(r); // the pod vanished (node deleted, pod GC) before its runner reported
      runners.delete(uid);
    }
  };

  const interval = setInterval(poll, pollMs);
  return {
    busy: () => [...runners.values()].filter((r) => r.job && !r.done).length,
    stop() {
      clearInterval(interval);
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}

function runnerContainerRunning(pod: Stored): boolean {
  const statuses = ((pod as any).status?.containerStatuses ?? []) as { name: string; state?: { running?: unknown } }[];
  return statuses.some((s) => s.name === RUNNER_CONTAINER && s.state?.running);
}

/** The GitHub runner name is on the runner Job (the pod's controller owner). */
function runnerNameOf(sim: Pick<SimCluster, 'store'>, namespace: string, pod: Stored): string | undefined {
  const owner = pod.metadata.ownerReferences?.find((r) => r.kind === 'Job');
  if (!owner) return undefined;
  return sim.store.get('jobs', namespace, owner.name)?.metadata.annotations?.[ANNOTATION.runnerName];
}
