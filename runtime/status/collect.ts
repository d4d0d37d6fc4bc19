import type { AppsV1Api, CoordinationV1Api } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { ConfigDocument } from '../config/document.ts';
import { LABEL } from '../k8s/labels.ts';
import { PLACEHOLDER_LIST_SELECTOR } from '../controllers/warm-pool/build-placeholder.ts';
import type { QueueInspector } from '../queue/inspect.ts';
import type { Clock } from '../util/clock.ts';

/**
 * What the system is doing, as one replica sees it: the queue and the leader Lease are
 * shared state (every replica answers the same), placeholder Deployments are the cluster's;
 * warm-pool hits and the GitHub budget are this replica's own metrics (the leader counts
 * hits; each replica sees the budget in the responses it got). A part that cannot be read
 * says why instead of failing the whole view. No secrets: jobs are shown by id, repository
 * and labels only.
 */
export interface Status {
  at: string;
  replica: { identity: string; leader: boolean };
  queue: Part<{
    waiting: number;
    inFlight: number;
    deadLetters: number;
    consumers: { name: string; pending: number; idleSeconds: number }[];
    inFlightJobs: { jobId: number | undefined; repository: string | undefined; labels: string[]; consumer: string; seconds: number; deliveries: number }[];
    recentDeadLetters: { jobId: number; repository: string; reason: string; secondsAgo: number | undefined }[];
  }>;
  pools: Part<{ name: string; class: string; min: number; max: number; desired: number | undefined; ready: number | undefined; hits: number; misses: number }[]>;
  github: Part<{
    /** Lowest x-ratelimit-remaining per resource, over every App. */
    remaining: Record<string, number>;
    rateLimited: Record<string, number>;
    waits: number;
    waitSeconds: number;
    /** The same per GitHub App (by App id, never a secret), and the requests sent as each: how calls spread. */
    apps: Record<string, GitHubAppBudget>;
  }>;
  leader: Part<{ holder: string | undefined; renewedSecondsAgo: number | undefined; leaseSeconds: number | undefined; transitions: number }>;
}

export type Part<T> = { ok: true; value: T } | { ok: false; error: string };

export interface StatusSources {
  inspector: QueueInspector;
  apps: Pick<AppsV1Api, 'listNamespacedDeployment'>;
  coordination: Pick<CoordinationV1Api, 'readNamespacedLease'>;
  runnerNamespace: string;
  lease: { namespace: string; name: string };
  registry: Registry;
  identity: string;
  isLeader: () => boolean;
  doc: () => ConfigDocument;
  clock: Clock;
}

/** Shown in full; beyond this the view says how many more. */
const LIST_LIMIT = 10;

export async function collectStatus(s: StatusSources): Promise<Status> {
  const now = s.clock.now();
  const [queue, pools, github, leader] = await Promise.all([part(() => queuePart(s, now)), part(() => poolsPart(s)), part(() => githubPart(s)), part(() => leaderPart(s, now))]);
  return { at: new Date(now).toISOString(), replica: { identity: s.identity, leader: s.isLeader() }, queue, pools, github, leader };
}

async function part<T>(read: () => Promise<T>): Promise<Part<T>> {
  try {
    return { ok: true, value: await read() };
  } catch (err) {
    return { ok: false, error: (err as Error).message.split('\n')[0]!.slice(0, 200) };
  }
}

async function queuePart(s: StatusSources, now: number) {
  const [summary, inFlight, dead] = await Promise.all([s.inspector.summary(), s.inspector.inFlight(LIST_LIMIT), s.inspector.deadLetters(LIST_LIMIT)]);
  return {
    waiting: summary.waiting,
    inFlight: summary.inFlight,
    deadLetters: summary.deadLetters,
    consumers: summary.consumers.map((c) => ({ name: c.name, pending: c.pending, idleSeconds: Math.round(c.idleMs / 1000) })),
    inFlightJobs: inFlight.map((e) => ({
      jobId: e.job?.jobId, repository: e.job?.repository, labels: e.job?.labels ?? [], consumer: e.consumer, seconds: Math.round(e.idleMs / 1000), deliveries: e.deliveries,
    })),
    recentDeadLetters: dead.map((d) => ({
      jobId: d.job.jobId, repository: d.job.repository, reason: d.reason, secondsAgo: d.at === undefined ? undefined : Math.max(0, Math.round((now - d.at) / 1000)),
    })),
  };
}

async function poolsPart(s: StatusSources) {
  const list = await s.apps.listNamespacedDeployment({ namespace: s.runnerNamespace, labelSelector: PLACEHOLDER_LIST_SELECTOR });
  const byPool = new Map(list.items.map((d) => [d.metadata?.labels?.[LABEL.pool], d]));
  const hits = await counterByPool(s.registry, 'runs_fleet_warm_pool_hits_total');
  const misses = await counterByPool(s.registry, 'runs_fleet_warm_pool_misses_total');
  return s.doc().pools.map((p) => {
    const d = byPool.get(p.name);
    return {
      name: p.name, class: p.class, min: p.min, max: p.max,
      desired: d ? (d.spec?.replicas ?? 0) : undefined, ready: d ? (d.status?.readyReplicas ?? 0) : undefined,
      hits: hits.get(p.name) ?? 0, misses: misses.get(p.name) ?? 0,
    };
  });
}

async function counterByPool(registry: Registry, name: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const metric = registry.getSingleMetric(name);
  if (!metric) return out;
  for (const v of (await metric.get()).values) {
    const pool = v.labels.pool;
    if (typeof pool === 'string') out.set(pool, (out.get(pool) ?? 0) + v.value);
  }
  return out;
}

export interface GitHubAppBudget {
  remaining: Record<string, number>;
  rateLimited: Record<string, number>;
  waits: number;
  waitSeconds: number;
  requests: number;
}

async function githubPart(s: StatusSources) {
  const values = async (name: string) => {
    const metric = s.registry.getSingleMetric(name);
    return metric ? (await metric.get()).values : [];
  };
  const apps: Record<string, GitHubAppBudget> = {};
  const app = (v: { labels: Record<string, unknown> }) =>
    (apps[String(v.labels.app ?? '?')] ??= { remaining: {}, rateLimited: {}, waits: 0, waitSeconds: 0, requests: 0 });
  const remaining: Record<string, number> = {};
  for (const v of await values('runs_fleet_github_rate_limit_remaining')) {
    const resource = String(v.labels.resource ?? 'core');
    app(v).remaining[resource] = v.value;
    remaining[resource] = Math.min(remaining[resource] ?? Infinity, v.value);
  }
  const rateLimited: Record<string, number> = {};
  for (const v of await values('runs_fleet_github_rate_limit_responses_total')) {
    const kind = String(v.labels.kind ?? 'unknown');
    rateLimited[kind] = (rateLimited[kind] ?? 0) + v.value;
    app(v).rateLimited[kind] = (app(v).rateLimited[kind] ?? 0) + v.value;
  }
  for (const v of await values('runs_fleet_github_rate_limit_waits_total')) app(v).waits += v.value;
  for (const v of await values('runs_fleet_github_rate_limit_wait_seconds_total')) app(v).waitSeconds += v.value;
  for (const v of await values('runs_fleet_github_app_requests_total')) app(v).requests += v.value;
  for (const a of Object.values(apps)) a.waitSeconds = Math.round(a.waitSeconds);
  const sum = async (name: string) => (await values(name)).reduce((a, v) => a + v.value, 0);
  return {
    remaining, rateLimited, waits: await sum('runs_fleet_github_rate_limit_waits_total'), waitSeconds: Math.round(await sum('runs_fleet_github_rate_limit_wait_seconds_total')), apps,
  };
}

async function leaderPart(s: StatusSources, now: number) {
  let lease;
  try {
    lease = await s.coordination.readNamespacedLease(s.lease);
  } catch (err) {
    if ((err as { code?: number }).code === 404) return { holder: undefined, renewedSecondsAgo: undefined, leaseSeconds: undefined, transitions: 0 };
    throw err;
  }
  const renew = lease.spec?.renewTime ? new Date(lease.spec.renewTime as unknown as string).getTime() : undefined;
  return {
    holder: lease.spec?.holderIdentity || undefined,
    renewedSecondsAgo: renew === undefined ? undefined : Math.max(0, Math.round((now - renew) / 1000)),
    leaseSeconds: lease.spec?.leaseDurationSeconds,
    transitions: lease.spec?.leaseTransitions ?? 0,
  };
}
