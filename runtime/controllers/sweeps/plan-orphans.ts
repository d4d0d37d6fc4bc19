import type { RunnerTarget } from '../../github/client.ts';

export interface OrphanPolicy {
  /** A runner Secret without its Job is left alone this long (provisioning creates both in parallel). */
  secretGraceMs: number;
  /** A finished runner Job still here this long after it ended escaped its TTL: removed. */
  finishedGraceMs: number;
  /** A registered runner with no runner Job must be seen so for this long before it is removed (JIT registration precedes the Job). */
  orphanConfirmMs: number;
  /** A runner pod running this long with no job from GitHub (its job went to another runner) is removed. */
  idleRunnerMs: number;
}

export interface ObservedSecret {
  name: string;
  createdAt: number;
}

export interface ObservedJob {
  name: string;
  createdAt: number;
  /** When it completed or failed. */
  finishedAt?: number;
  runnerName?: string;
  /** When its runner container started, if running now. */
  runningSince?: number;
}

export interface ObservedRunner {
  target: RunnerTarget;
  id: number;
  name: string;
  busy: boolean;
  status: string;
}

export interface OrphanObservation {
  secrets: readonly ObservedSecret[];
  jobs: readonly ObservedJob[];
  /** Registered runners of runs-fleet (name prefix) in the scopes looked at. */
  runners: readonly ObservedRunner[];
  /** Runner names GitHub gave a job (in_progress events). */
  tookJob: ReadonlySet<string>;
  /** Registered runners seen orphaned before: name → first seen ms. */
  orphanSeen: ReadonlyMap<string, number>;
}

export type OrphanAction =
  | { kind: 'delete_secret'; name: string; why: string }
  | { kind: 'delete_job'; name: string; why: string }
  | { kind: 'delete_runner'; target: RunnerTarget; id: number; name: string; why: string }
  /** Unregister first (GitHub refuses while it runs a job), then delete the Job. */
  | { kind: 'delete_idle_runner'; job: string; target: RunnerTarget; id: number; name: string; why: string };

export interface OrphanPlan {
  actions: OrphanAction[];
  /** First-seen times to keep for the next pass (only runners still orphaned). */
  orphanSeen: Map<string, number>;
}

/**
 * Garbage the normal paths leave behind after crashes or lost events. Pure. Secrets and
 * finished Jobs are cluster garbage; runners registered on GitHub with no runner Job (or
 * idle with no job to run) are API garbage that also keep a name and a slot. Actions are
 * ordered by how much they cost to leave (registered runners first) and capped by the caller.
 */
export function planOrphans(o: OrphanObservation, now: number, policy: OrphanPolicy): OrphanPlan {
  const actions: OrphanAction[] = [];
  const jobsByName = new Map(o.jobs.map((j) => [j.name, j]));
  const jobByRunner = new Map(o.jobs.filter((j) => j.runnerName).map((j) => [j.runnerName!, j]));
  const orphanSeen = new Map<string, number>();

  for (const r of o.runners) {
    if (r.busy) continue;
    const job = jobByRunner.get(r.name);
    if (!job) {
      const since = o.orphanSeen.get(r.name) ?? now;
      orphanSeen.set(r.name, since);
      if (now - since >= policy.orphanConfirmMs)
        actions.push({ kind: 'delete_runner', target: r.target, id: r.id, name: r.name, why: 'registered runner without a runner Job' });
      continue;
    }
    if (job.finishedAt === undefined && job.runningSince !== undefined && !o.tookJob.has(r.name) && now - job.runningSince >= policy.idleRunnerMs)
      actions.push({ kind: 'delete_idle_runner', job: job.name, target: r.target, id: r.id, name: r.name, why: 'runner idle: its job went to another runner' });
  }
  for (const j of o.jobs)
    if (j.finishedAt !== undefined && now - j.finishedAt >= policy.finishedGraceMs)
      actions.push({ kind: 'delete_job', name: j.name, why: 'finished runner Job outlived its TTL' });
  for (const s of o.secrets)
    if (!jobsByName.has(s.name) && now - s.createdAt >= policy.secretGraceMs)
      actions.push({ kind: 'delete_secret', name: s.name, why: 'runner Secret without its Job' });
  return { actions, orphanSeen };
}
