import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../../runtime/util/clock.ts';
import { encodeJitConfig } from './jit-config.ts';
import type { WorkflowJobConclusion, WorkflowJobFields, WorkflowJobStatus } from './webhook-payload.ts';

/** The double's world: installations, tokens, workflow runs and jobs, runners, webhook deliveries. */

export interface InstallationSpec {
  id: number;
  /** The org or user login the App is installed on. */
  account: string;
  accountType?: 'Organization' | 'User';
  /** Repository names covered; all of the account's repositories when omitted. */
  repositories?: string[];
}

export interface SimToken {
  token: string;
  installationId: number;
  /** The App the installation belongs to. */
  appId: number;
  expiresAtMs: number;
}

/** One App of the double: its id and the installations it has (none listed: one installation covering every owner). */
export interface SimAppInstallations {
  appId: number;
  installations?: readonly InstallationSpec[] | undefined;
  defaultInstallationId: number;
}

/** An installation and the App it belongs to (GitHub: an installation is of exactly one App). */
export type SimInstallation = InstallationSpec & { appId: number };

export interface SimJob {
  id: number;
  runId: number;
  runAttempt: number;
  owner: string;
  repo: string;
  labels: string[];
  status: WorkflowJobStatus;
  conclusion: WorkflowJobConclusion | null;
  runnerId: number | null;
  runnerName: string | null;
  runnerGroupId: number | null;
  runnerGroupName: string | null;
  name: string;
  workflowName: string;
  headBranch: string;
  headSha: string;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  installationId: number | null;
}

export interface SimCheckRun {
  id: number;
  owner: string;
  repo: string;
  name: string;
  headSha: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: string | null;
  externalId: string | null;
  detailsUrl: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  startedAt: string;
  completedAt: string | null;
}

export interface SimRelease {
  id: number;
  owner: string;
  repo: string;
  tagName: string;
  publishedAt: string;
}

export type RunnerScope = { kind: 'org'; org: string } | { kind: 'repo'; owner: string; repo: string };

export interface SimRunner {
  id: number;
  name: string;
  os: string;
  status: 'online' | 'offline';
  busy: boolean;
  labels: string[];
  runnerGroupId: number;
  scope: RunnerScope;
  workFolder: string;
  /** The config GitHub handed out for it (so the simulated runner can "start" with it). */
  encodedJitConfig: string;
  createdAt: string;
}

export interface SimDelivery {
  id: number;
  guid: string;
  deliveredAt: string;
  redelivery: boolean;
  /** Seconds. */
  duration: number;
  status: string;
  statusCode: number;
  event: string;
  action: string | null;
  installationId: number | null;
  repositoryId: number | null;
  /** What was sent, so a redelivery can send it again. */
  request: { headers: Record<string, string>; body: string };
}

export interface QueueJobSpec {
  owner: string;
  repo: string;
  labels: string[];
  /** Adds the job to an existing run (or creates a run with this id). */
  runId?: number;
  runAttempt?: number;
  name?: string;
  workflowName?: string;
  /** Defaults to the installation that covers owner/repo. */
  installationId?: number | null;
}

export const DEFAULT_RUNNER_GROUPS: ReadonlyMap<number, string> = new Map([[1, 'Default']]);

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export const scopeKey = (s: RunnerScope) => (s.kind === 'org' ? `org:${s.org.toLowerCase()}` : `repo:${s.owner.toLowerCase()}/${s.repo.toLowerCase()}`);

export class GitHubState {
  readonly #clock: Clock;
  readonly #apps: SimAppInstallations[];
  /** The first App's default installation: the one jobs carry when nothing else is said. */
  readonly defaultInstallationId: number;
  readonly runnerGroups: ReadonlyMap<number, string>;
  readonly tokenTtlMs: number;
  readonly serverUrl: string;

  readonly tokens = new Map<string, SimToken>();
  readonly jobs = new Map<number, SimJob>();
  readonly runners = new Map<number, SimRunner>();
  readonly deliveries: SimDelivery[] = [];
  readonly checkRuns: SimCheckRun[] = [];
  readonly releases: SimRelease[] = [];
  tokensIssued = 0;
  #nextCheckRunId = 30_000_000_001;
  #nextReleaseId = 250_000_001;

  #nextJobId = 10_000_000_001;
  #nextRunId = 5_000_000_001;
  #nextRunnerId = 101;
  #nextDeliveryId = 90_000_000_001;
  readonly #ids = new Map<string, number>();
  #nextEntityId = 70_000_001;

  constructor(options: {
    clock: Clock;
    /** Every App with its installations; the first is the one webhooks and new jobs use. */
    apps: SimAppInstallations[];
    runnerGroups: ReadonlyMap<number, string>;
    tokenTtlMs: number;
    serverUrl: string;
  }) {
    this.#clock = options.clock;
    this.#apps = options.apps;
    const ids = new Set<number>();
    for (const a of this.#apps)
      for (const i of this.#appInstallations(a)) {
        if (ids.has(i.id)) throw new Error(`GitHub double: installation ${i.id} is listed twice; an installation belongs to one App`);
        ids.add(i.id);
      }
    this.defaultInstallationId = this.#apps[0]!.defaultInstallationId;
    this.runnerGroups = options.runnerGroups;
    this.tokenTtlMs = options.tokenTtlMs;
    this.serverUrl = options.serverUrl;
  }

  now(): number {
    return this.#clock.now();
  }

  /** Stable numeric ids for owners and repositories. */
  idOf(kind: 'owner' | 'repo', name: string): number {
    const key = `${kind}:${name.toLowerCase()}`;
    let id = this.#ids.get(key);
    if (id === undefined) this.#ids.set(key, (id = this.#nextEntityId++));
    return id;
  }

  // ---- installations -------------------------------------------------------

  #appInstallations(a: SimAppInstallations): SimInstallation[] {
    return a.installations
      ? a.installations.map((i) => ({ ...i, appId: a.appId }))
      : [{ id: a.defaultInstallationId, account: '*', accountType: 'Organization', appId: a.appId }];
  }

  #app(appId: number | undefined): SimAppInstallations | undefined {
    return appId === undefined ? this.#apps[0] : this.#apps.find((a) => a.appId === appId);
  }

  /**
   * The installation of `appId` (default: the first App) covering owner (and repo); an
   * App with no installations listed covers every owner.
   */
  installationFor(owner: string, repo?: string, appId?: number): SimInstallation | undefined {
    const app = this.#app(appId);
    if (!app) return undefined;
    if (!app.installations) return { id: app.defaultInstallationId, account: owner, accountType: 'Organization', appId: app.appId };
    const found = app.installations.find(
      (i) =>
        i.account.toLowerCase() === owner.toLowerCase() &&
        (repo === undefined || !i.repositories || i.repositories.some((r) => r.toLowerCase() === repo.toLowerCase())),
    );
    return found && { ...found, appId: app.appId };
  }

  /** Every installation of the App (default: the first; one covering everything when none were configured). */
  installationList(appId?: number): SimInstallation[] {
    const app = this.#app(appId);
    if (!app) return [];
    return app.installations ? this.#appInstallations(app) : [{ id: app.defaultInstallationId, account: 'default', accountType: 'Organization', appId: app.appId }];
  }

  installationById(id: number): SimInstallation | undefined {
    for (const a of this.#apps) {
      const found = this.#appInstallations(a).find((i) => i.id === id);
      if (found) return found;
    }
    return undefined;
  }

  /** Whether this installation (of whichever App) covers owner (and repo). */
  covers(installationId: number, owner: string, repo?: string): boolean {
    const inst = this.installationById(installationId);
    if (!inst) return false;
    if (inst.account === '*') return true;
    return inst.account.toLowerCase() === owner.toLowerCase() && (repo === undefined || !inst.repositories || inst.repositories.some((r) => r.toLowerCase() === repo.toLowerCase()));
  }

  // ---- tokens --------------------------------------------------------------

  issueToken(installationId: number): SimToken {
    const token = `ghs_${randomBytes(27).toString('base64url')}`;
    const appId = this.installationById(installationId)?.appId ?? this.#apps[0]!.appId;
    const issued = { token, installationId, appId, expiresAtMs: this.now() + this.tokenTtlMs };
    this.tokens.set(token, issued);
    this.tokensIssued++;
    return issued;
  }

  /** The installation a token belongs to, unless unknown or expired. */
  tokenInfo(token: string): SimToken | undefined {
    const t = this.tokens.get(token);
    return t && t.expiresAtMs > this.now() ? t : undefined;
  }

  // ---- runs and jobs -------------------------------------------------------

  queueJob(spec: QueueJobSpec): SimJob {
    if (spec.labels.length === 0) throw new Error('queueJob: a job needs at least one runs-on label');
    const runId = spec.runId ?? this.#nextRunId++;
    const job: SimJob = {
      id: this.#nextJobId++,
      runId,
      runAttempt: spec.runAttempt ?? 1,
      owner: spec.owner,
      repo: spec.repo,
      labels: [...spec.labels],
      status: 'queued',
      conclusion: null,
      runnerId: null,
      runnerName: null,
      runnerGroupId: null,
      runnerGroupName: null,
      name: spec.name ?? 'build',
      workflowName: spec.workflowName ?? 'CI',
      headBranch: 'main',
      headSha: randomBytes(20).toString('hex'),
      createdAt: iso(this.now()),
      startedAt: null,
      completedAt: null,
      installationId: spec.installationId === undefined ? (this.installationFor(spec.owner, spec.repo)?.id ?? null) : spec.installationId,
    };
    this.jobs.set(job.id, job);
    return job;
  }

  job(id: number): SimJob | undefined {
    return this.jobs.get(id);
  }

  mustJob(id: number): SimJob {
    const job = this.jobs.get(id);
    if (!job) throw new Error(`GitHub double: no job ${id}`);
    return job;
  }

  /** A runner took the job: in_progress, runner busy and online. */
  startJob(jobId: number, runnerName: string): SimJob {
    const job = this.mustJob(jobId);
    const runner = this.runnerByName(runnerName);
    Object.assign(job, {
      status: 'in_progress',
      runnerName,
      runnerId: runner?.id ?? null,
      runnerGroupId: runner?.runnerGroupId ?? 1,
      runnerGroupName: this.runnerGroups.get(runner?.runnerGroupId ?? 1) ?? 'Default',
      startedAt: iso(this.now()),
    });
    if (runner) Object.assign(runner, { busy: true, status: 'online' });
    return job;
  }

  /** The job finished; its ephemeral runner unregisters, as GitHub's do. */
  completeJob(jobId: number, conclusion: WorkflowJobConclusion): SimJob {
    const job = this.mustJob(jobId);
    Object.assign(job, { status: 'completed', conclusion, completedAt: iso(this.now()) });
    if (job.runnerName) {
      const runner = this.runnerByName(job.runnerName);
      if (runner) this.runners.delete(runner.id);
    }
    return job;
  }

  /** GitHub's "re-run a job": a new job id in a new attempt of the same run, queued. */
  rerunJob(jobId: number): SimJob | 'not_completed' {
    const job = this.mustJob(jobId);
    if (job.status !== 'completed') return 'not_completed';
    const latest = Math.max(...[...this.jobs.values()].filter((j) => j.runId === job.runId).map((j) => j.runAttempt));
    return this.queueJob({
      owner: job.owner,
      repo: job.repo,
      labels: job.labels,
      runId: job.runId,
      runAttempt: latest + 1,
      name: job.name,
      workflowName: job.workflowName,
      installationId: job.installationId,
    });
  }

  /** Runs of a repository with their status derived from the latest attempt's jobs. */
  runs(owner: string, repo: string): Array<{ id: number; runAttempt: number; status: WorkflowJobStatus; jobs: SimJob[] }> {
    const byRun = new Map<number, SimJob[]>();
    for (const j of this.jobs.values()) {
      if (!sameRepo(j, owner, repo)) continue;
      byRun.set(j.runId, [...(byRun.get(j.runId) ?? []), j]);
    }
    return [...byRun.entries()]
      .map(([id, jobs]) => {
        const runAttempt = Math.max(...jobs.map((j) => j.runAttempt));
        const latest = jobs.filter((j) => j.runAttempt === runAttempt);
        return { id, runAttempt, status: runStatus(latest), jobs: latest };
      })
      .sort((a, b) => b.id - a.id);
  }

  /** The oldest queued job whose labels the runner has (GitHub matches any fitting job, not "its" job). */
  jobFor(runner: SimRunner): SimJob | undefined {
    const have = new Set([...runner.labels, 'self-hosted'].map((l) => l.toLowerCase()));
    const inScope = (j: SimJob) =>
      runner.scope.kind === 'org' ? j.owner.toLowerCase() === runner.scope.org.toLowerCase() : sameRepo(j, runner.scope.owner, runner.scope.repo);
    return [...this.jobs.values()]
      .filter((j) => j.status === 'queued' && inScope(j) && j.labels.every((l) => have.has(l.toLowerCase())))
      .sort((a, b) => a.id - b.id)[0];
  }

  // ---- runners -------------------------------------------------------------

  createRunner(scope: RunnerScope, spec: { name: string; labels: string[]; runnerGroupId: number; workFolder: string }): SimRunner | 'conflict' {
    const key = scopeKey(scope);
    const taken = [...this.runners.values()].some((r) => scopeKey(r.scope) === key && r.name.toLowerCase() === spec.name.toLowerCase());
    if (taken) return 'conflict';
    const id = this.#nextRunnerId++;
    const runner: SimRunner = {
      id,
      name: spec.name,
      os: 'Linux',
      status: 'offline',
      busy: false,
      labels: [...spec.labels],
      runnerGroupId: spec.runnerGroupId,
      scope,
      workFolder: spec.workFolder,
      encodedJitConfig: encodeJitConfig({
        runnerId: id,
        runnerName: spec.name,
        runnerGroupId: spec.runnerGroupId,
        workFolder: spec.workFolder,
        serverUrl: this.serverUrl,
      }),
      createdAt: iso(this.now()),
    };
    this.runners.set(id, runner);
    return runner;
  }

  runnersIn(scope: RunnerScope): SimRunner[] {
    const key = scopeKey(scope);
    return [...this.runners.values()].filter((r) => scopeKey(r.scope) === key).sort((a, b) => a.id - b.id);
  }

  runnerByName(name: string): SimRunner | undefined {
    return [...this.runners.values()].find((r) => r.name === name);
  }

  // ---- checks and releases ------------------------------------------------

  /** A commit GitHub knows in owner/repo: the head of one of its jobs. */
  knowsCommit(owner: string, repo: string, sha: string): boolean {
    return [...this.jobs.values()].some((j) => sameRepo(j, owner, repo) && j.headSha === sha);
  }

  addCheckRun(run: Omit<SimCheckRun, 'id'>): SimCheckRun {
    const created = { ...run, id: this.#nextCheckRunId++ };
    this.checkRuns.push(created);
    return created;
  }

  publishRelease(owner: string, repo: string, tagName: string, publishedAtMs = this.now()): SimRelease {
    const release = { id: this.#nextReleaseId++, owner, repo, tagName, publishedAt: iso(publishedAtMs) };
    this.releases.push(release);
    return release;
  }

  /** GitHub's "latest release": the most recently published non-draft, non-prerelease one. */
  latestRelease(owner: string, repo: string): SimRelease | undefined {
    return this.releases
      .filter((r) => r.owner.toLowerCase() === owner.toLowerCase() && r.repo.toLowerCase() === repo.toLowerCase())
      .sort((a, b) => Date.parse(b.publishedAt) - Date.parse(a.publishedAt) || b.id - a.id)[0];
  }

  // ---- webhook deliveries --------------------------------------------------

  recordDelivery(d: Omit<SimDelivery, 'id' | 'deliveredAt' | 'guid'> & { guid?: string }): SimDelivery {
    const delivery: SimDelivery = { ...d, id: this.#nextDeliveryId++, guid: d.guid ?? randomUUID(), deliveredAt: iso(this.now()) };
    this.deliveries.push(delivery);
    return delivery;
  }

  /** Newest first, as GitHub lists them. */
  deliveriesNewestFirst(): SimDelivery[] {
    return [...this.deliveries].sort((a, b) => b.id - a.id);
  }

  /** The fields the webhook payload builder needs for a job. */
  payloadFields(job: SimJob): WorkflowJobFields {
    const inst = job.installationId === null ? undefined : this.installationById(job.installationId);
    return {
      ...job,
      startedAt: job.startedAt ?? job.createdAt,
      ownerType: inst?.accountType ?? 'Organization',
      ownerId: this.idOf('owner', job.owner),
      repositoryId: this.idOf('repo', `${job.owner}/${job.repo}`),
    };
  }
}

function sameRepo(j: SimJob, owner: string, repo: string): boolean {
  return j.owner.toLowerCase() === owner.toLowerCase() && j.repo.toLowerCase() === repo.toLowerCase();
}

function runStatus(jobs: SimJob[]): WorkflowJobStatus {
  if (jobs.every((j) => j.status === 'completed')) return 'completed';
  if (jobs.every((j) => j.status === 'queued')) return 'queued';
  return 'in_progress';
}
