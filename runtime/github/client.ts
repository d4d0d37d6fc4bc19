import type { Dispatcher } from 'undici';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import type { Clock } from '../util/clock.ts';
import { systemClock } from '../util/clock.ts';
import { PermanentError, RetryableError } from '../util/errors.ts';
import { retry } from '../util/retry.ts';
import { AppJwtSource, loadAppPrivateKey } from './app-jwt.ts';
import { errorForStatus, errorReason, GitHubRateLimitedError, GitHubTransientError, githubMessage } from './errors.ts';
import { DEFAULT_GITHUB_API_URL, GitHubHttp, type HttpMethod, type HttpRequest, type HttpResponse } from './http.ts';
import { InstallationTokenCache } from './installation-tokens.ts';
import type { GitHubMetrics } from './metrics.ts';
import { retryAfterMs } from './rate-limit-signals.ts';
import { requestCost, type GitHubRateLimiter, type LimitKey } from './rate-limiter.ts';
import {
  AccessTokenResponse, CheckRunResponse, HookDeliveriesPage, InstallationsPage, ReleaseResponse, InstallationResponse, JitConfigResponse, JobsPage, parseResponse, RunnersPage,
  RunsPage, WorkflowJobResponse, type HookDelivery, type Release, type Runner, type WorkflowJob,
} from './schemas.ts';

export type { HookDelivery, Release, Runner, WorkflowJob };

export type RunnerScope = 'org' | 'repo';

/** One GitHub App the client may act as. */
export interface GitHubAppCredentials {
  /** The JWT issuer: the App's client id (GitHub's recommendation) or its numeric app id. Also its rate-limit key and metric label. */
  appId: string | number;
  /** The App's private key, PEM (PKCS#1 or PKCS#8). */
  privateKey: string;
  /** Installation ids of this App, when known from config: a job carrying one is known to be covered by this App without asking GitHub. */
  installations?: readonly number[];
}

export interface GitHubClientOptions {
  /** The single-App form: the App's JWT issuer (client id or numeric app id). Ignored when `apps` is given. */
  appId?: string | number;
  /** The single-App form: the App's private key, PEM (PKCS#1 or PKCS#8). */
  privateKey?: string;
  /**
   * Several Apps: every installation call goes through one of the Apps installed on the
   * target's org or repository, the one with room in its rate limit; App-level calls
   * (webhook deliveries, installation lists) use the first.
   */
  apps?: readonly GitHubAppCredentials[];
  /** `https://api.github.com` (default) or `https://<ghes-host>/api/v3`. */
  apiUrl?: string;
  /** The shared (Valkey) limiter every GitHub call goes through. */
  limiter: GitHubRateLimiter;
  /** Replaces the client's own keep-alive Pool. */
  dispatcher?: Dispatcher;
  connections?: number;
  clock?: Clock;
  logger?: Logger;
  metrics?: GitHubMetrics;
  /** Deadline of one HTTP attempt (10 s). */
  timeoutMs?: number;
  /** Transient failures (5xx, timeout, network): 4 tries, 500 ms doubling, capped at 10 s. */
  retry?: { attempts?: number; baseMs?: number; maxMs?: number };
  /** A call waiting longer than this for the rate limiter fails with GitHubRateLimitedError (default: the limiter's, 65 min). */
  maxRateLimitWaitMs?: number;
  /** How long owner/repo → installation id lookups are cached (10 min). */
  installationCacheMs?: number;
  userAgent?: string;
}

export interface CallOptions {
  signal?: AbortSignal;
  /**
   * Awaited once the call holds its rate-limit reservation, before it is sent: the caller's
   * own check then shares the reservation's Valkey round trip instead of adding one. When it
   * rejects, the call is not sent and its error is thrown (the reservation is spent).
   */
  beforeSend?: Promise<void>;
}

/** An owner (org or user) and optionally a repository; the installation is looked up when not given. */
export interface RepoTarget {
  owner: string;
  repo: string;
  installationId?: number;
}

export interface RunnerTarget {
  scope: RunnerScope;
  owner: string;
  /** Required when scope is `repo`. */
  repo?: string;
  installationId?: number;
}

export interface JitConfigRequest extends RunnerTarget {
  name: string;
  /** 1 is the Default group. */
  runnerGroupId: number;
  /** 1 to 100 labels; pass the job's own `runs-on` labels. */
  labels: string[];
  workFolder?: string;
}

/** A completed check run on a commit (the App needs `checks: write`). */
export interface CheckRunRequest extends RepoTarget {
  headSha: string;
  name: string;
  conclusion: 'action_required' | 'failure' | 'neutral' | 'success';
  title: string;
  summary: string;
  /** Our reference for the run (job id and attempt), shown to integrations. */
  externalId?: string;
  detailsUrl?: string;
}

export interface JitConfig {
  runnerId: number;
  runnerName: string;
  /** Secret: goes into the runner's Kubernetes Secret and nowhere else. */
  encodedJitConfig: string;
}

/** One configured App: its JWT, its installation tokens (per installation), and which owners it covers. */
interface AppContext {
  /** The App id as configured (JWT issuer, limiter key, metric label). */
  id: string;
  jwt: AppJwtSource;
  tokens: InstallationTokenCache;
  /** owner or owner/repo → this App's installation there (null: not installed), with when it was looked up. */
  coverage: Map<string, { id: number | null; atMs: number }>;
  /** Lookups in flight, shared by concurrent callers. */
  lookups: Map<string, Promise<number | null>>;
}

/** An App installed on the target, and its installation id there. */
interface Candidate {
  app: AppContext;
  installationId: number;
}

type Auth = { kind: 'app'; app: AppContext } | { kind: 'installation'; candidates: readonly Candidate[] };

interface Call extends Omit<HttpRequest, 'headers'> {
  operation: string;
  auth: Auth;
  /** Set for generate-jitconfig so a 409 becomes RunnerNameConflictError. */
  runnerName?: string;
  /** On every job's path: the limiter may reserve the next such call's points ahead. */
  ahead?: boolean;
}

const API_VERSION = '2022-11-28';
const MAX_PAGES = 50;
const seg = encodeURIComponent;

export class GitHubClient {
  readonly #http: GitHubHttp;
  readonly #limiter: GitHubRateLimiter;
  readonly #apps: AppContext[];
  /** Installation id → its App (installation ids are unique across GitHub): from config and from lookups. */
  readonly #installationApp = new Map<number, AppContext>();
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: GitHubMetrics | undefined;
  readonly #timeoutMs: number;
  readonly #retry: { attempts: number; baseMs: number; maxMs: number };
  readonly #maxWaitMs: number | undefined;
  readonly #installationCacheMs: number;
  readonly #userAgent: string;

  constructor(options: GitHubClientOptions) {
    this.#http = new GitHubHttp({ apiUrl: options.apiUrl ?? DEFAULT_GITHUB_API_URL, dispatcher: options.dispatcher, connections: options.connections });
    this.#limiter = options.limiter;
    this.#clock = options.clock ?? systemClock;
    const apps: readonly GitHubAppCredentials[] =
      options.apps ?? (options.appId !== undefined && options.privateKey !== undefined ? [{ appId: options.appId, privateKey: options.privateKey }] : []);
    if (apps.length === 0) throw new RangeError('GitHubClient: pass `apps`, or `appId` and `privateKey`');
    this.#apps = apps.map((a, i) => {
      const app: AppContext = {
        id: String(a.appId),
        jwt: new AppJwtSource(loadAppPrivateKey(a.privateKey, apps.length > 1 ? `the private key of GitHub App ${i + 1}` : undefined), a.appId),
        tokens: undefined as unknown as InstallationTokenCache,
        coverage: new Map(),
        lookups: new Map(),
      };
      app.tokens = new InstallationTokenCache((id) => this.#createInstallationToken(app, id), { clock: this.#clock });
      for (const id of a.installations ?? []) this.#installationApp.set(id, app);
      return app;
    });
    this.#log = options.logger ?? silentLogger();
    this.#metrics = options.metrics;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#retry = { attempts: 4, baseMs: 500, maxMs: 10_000, ...options.retry };
    this.#maxWaitMs = options.maxRateLimitWaitMs;
    this.#installationCacheMs = options.installationCacheMs ?? 10 * 60_000;
    this.#userAgent = options.userAgent ?? 'runs-fleet';
  }

  /** The configured App ids, in order. */
  get appIds(): string[] {
    return this.#apps.map((a) => a.id);
  }

  /** Registers a just-in-time runner and returns its config (org or repo scope). */
  async generateJitConfig(request: JitConfigRequest, options: CallOptions = {}): Promise<JitConfig> {
    validateJitRequest(request);
    const candidates = await this.#installationFor(request, options);
    const res = await this.#call(
      {
        operation: `generate_jitconfig_${request.scope}`,
        method: 'POST',
        path: `${runnersPath(request)}/generate-jitconfig`,
        body: { name: request.name, runner_group_id: request.runnerGroupId, labels: request.labels, work_folder: request.workFolder ?? '_work' },
        auth: { kind: 'installation', candidates },
        runnerName: request.name,
        ahead: true,
      },
      options,
    );
    const parsed = parseResponse(JitConfigResponse, 'generate-jitconfig', res.text);
    return { runnerId: parsed.runner.id, runnerName: parsed.runner.name, encodedJitConfig: parsed.encoded_jit_config };
  }

  async getJob(target: RepoTarget & { jobId: number }, options: CallOptions = {}): Promise<WorkflowJob> {
    const candidates = await this.#installationFor(target, options);
    const res = await this.#call(
      { operation: 'get_job', method: 'GET', path: `${repoPath(target)}/actions/jobs/${target.jobId}`, auth: { kind: 'installation', candidates } },
      options,
    );
    return parseResponse(WorkflowJobResponse, 'get job', res.text);
  }

  /** Re-runs one job; GitHub creates a new attempt (run_attempt + 1) that is queued again. */
  async rerunJob(target: RepoTarget & { jobId: number }, options: CallOptions = {}): Promise<void> {
    const candidates = await this.#installationFor(target, options);
    await this.#call(
      { operation: 'rerun_job', method: 'POST', path: `${repoPath(target)}/actions/jobs/${target.jobId}/rerun`, auth: { kind: 'installation', candidates } },
      options,
    );
  }

  /** Every self-hosted runner registered at the org or repo (all pages). */
  async listRunners(target: RunnerTarget, options: CallOptions = {}): Promise<Runner[]> {
    const candidates = await this.#installationFor(target, options);
    const runners: Runner[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const res = await this.#call(
        {
          operation: `list_runners_${target.scope}`,
          method: 'GET',
          path: runnersPath(target),
          query: { per_page: 100, page },
          auth: { kind: 'installation', candidates },
          },
        options,
      );
      const parsed = parseResponse(RunnersPage, 'list runners', res.text);
      runners.push(...parsed.runners);
      if (parsed.runners.length < 100 || runners.length >= parsed.total_count) break;
    }
    return runners;
  }

  /**
   * The registered runner with exactly this name, or undefined. GitHub's list endpoint
   * filters by `name` (GET …/actions/runners?name=), so this is one call, not a scan.
   */
  async findRunnerByName(target: RunnerTarget & { name: string }, options: CallOptions = {}): Promise<Runner | undefined> {
    const candidates = await this.#installationFor(target, options);
    const res = await this.#call(
      {
        operation: `list_runners_${target.scope}`,
        method: 'GET',
        path: runnersPath(target),
        query: { name: target.name, per_page: 100 },
        auth: { kind: 'installation', candidates },
      },
      options,
    );
    return parseResponse(RunnersPage, 'list runners by name', res.text).runners.find((r) => r.name === target.name);
  }

  /** Creates a completed check run on a commit: how runs-fleet tells a workflow author why a job gets no runner. */
  async createCheckRun(request: CheckRunRequest, options: CallOptions = {}): Promise<{ id: number; htmlUrl: string | undefined }> {
    const candidates = await this.#installationFor(request, options);
    const res = await this.#call(
      {
        operation: 'create_check_run',
        method: 'POST',
        path: `${repoPath(request)}/check-runs`,
        body: {
          name: request.name, head_sha: request.headSha, status: 'completed', conclusion: request.conclusion,
          completed_at: new Date(this.#clock.now()).toISOString(),
          output: { title: request.title, summary: request.summary },
          ...(request.externalId && { external_id: request.externalId }),
          ...(request.detailsUrl && { details_url: request.detailsUrl }),
        },
        auth: { kind: 'installation', candidates },
      },
      options,
    );
    const parsed = parseResponse(CheckRunResponse, 'create check run', res.text);
    return { id: parsed.id, htmlUrl: parsed.html_url ?? undefined };
  }

  /**
   * The latest published release of a repository (actions/runner), read with the App's
   * installation on `installationId`, or undefined when it has none (404).
   */
  async getLatestRelease(target: RepoTarget & { installationId: number }, options: CallOptions = {}): Promise<Release | undefined> {
    try {
      const res = await this.#call(
        { operation: 'get_latest_release', method: 'GET', path: `${repoPath(target)}/releases/latest`, auth: { kind: 'installation', candidates: [this.#exactInstallation(target.installationId)] } },
        options,
      );
      return parseResponse(ReleaseResponse, 'get latest release', res.text);
    } catch (err) {
      if (err instanceof PermanentError && err.reason === 'github_not_found') return undefined;
      throw err;
    }
  }

  /** The release of a tag (`v2.336.0`), or undefined when there is none (404). */
  async getReleaseByTag(target: RepoTarget & { installationId: number; tag: string }, options: CallOptions = {}): Promise<Release | undefined> {
    try {
      const res = await this.#call(
        {
          operation: 'get_release_by_tag', method: 'GET', path: `${repoPath(target)}/releases/tags/${seg(target.tag)}`,
          auth: { kind: 'installation', candidates: [this.#exactInstallation(target.installationId)] },
        },
        options,
      );
      return parseResponse(ReleaseResponse, 'get release by tag', res.text);
    } catch (err) {
      if (err instanceof PermanentError && err.reason === 'github_not_found') return undefined;
      throw err;
    }
  }

  /** The ids of the App's installations (first page of 100: any one can read a public repository). */
  async listInstallationIds(options: CallOptions = {}): Promise<number[]> {
    const res = await this.#call({ operation: 'list_installations', method: 'GET', path: '/app/installations', query: { per_page: 100 }, auth: { kind: 'app', app: this.#apps[0]! } }, options);
    return parseResponse(InstallationsPage, 'list installations', res.text).map((i) => i.id);
  }

  /** Cancels a workflow run (202, asynchronous). Returns false when it already completed (409). */
  async cancelRun(target: RepoTarget & { runId: number }, options: CallOptions = {}): Promise<boolean> {
    const candidates = await this.#installationFor(target, options);
    try {
      await this.#call(
        { operation: 'cancel_run', method: 'POST', path: `${repoPath(target)}/actions/runs/${target.runId}/cancel`, auth: { kind: 'installation', candidates } },
        options,
      );
      return true;
    } catch (err) {
      if (err instanceof PermanentError && err.reason === 'github_conflict') return false;
      throw err;
    }
  }

  /** Removes a registered runner. Returns false when it was already gone (idempotent). */
  async deleteRunner(target: RunnerTarget & { runnerId: number }, options: CallOptions = {}): Promise<boolean> {
    const candidates = await this.#installationFor(target, options);
    try {
      await this.#call(
        {
          operation: `delete_runner_${target.scope}`,
          method: 'DELETE',
          path: `${runnersPath(target)}/${target.runnerId}`,
          auth: { kind: 'installation', candidates },
          },
        options,
      );
      return true;
    } catch (err) {
      if (err instanceof PermanentError && err.reason === 'github_not_found') return false;
      if (err instanceof PermanentError && err.reason === 'github_validation') {
        throw new PermanentError('github_runner_busy', `GitHub refused to delete runner ${target.runnerId}: it is running a job`, { cause: err });
      }
      throw err;
    }
  }

  /**
   * Jobs GitHub still has queued in a repository: the latest attempt's jobs of every
   * queued or in-progress run (a run with one job running and one waiting is
   * "in_progress", so queued runs alone would miss jobs).
   */
  async listQueuedJobs(owner: string, repo: string, options: CallOptions & { installationId?: number } = {}): Promise<WorkflowJob[]> {
    const target: RepoTarget = { owner, repo, installationId: options.installationId };
    const candidates = await this.#installationFor(target, options);
    const auth: Auth = { kind: 'installation', candidates };
    const runIds = new Set<number>();
    for (const status of ['queued', 'in_progress']) {
      for (let page = 1; page <= MAX_PAGES; page++) {
        const res = await this.#call(
          { operation: 'list_runs', method: 'GET', path: `${repoPath(target)}/actions/runs`, query: { status, per_page: 100, page }, auth },
          options,
        );
        const parsed = parseResponse(RunsPage, 'list workflow runs', res.text);
        for (const run of parsed.workflow_runs) runIds.add(run.id);
        if (parsed.workflow_runs.length < 100) break;
      }
    }
    const queued = new Map<number, WorkflowJob>();
    for (const runId of runIds) {
      for (let page = 1; page <= MAX_PAGES; page++) {
        const res = await this.#call(
          {
            operation: 'list_run_jobs',
            method: 'GET',
            path: `${repoPath(target)}/actions/runs/${runId}/jobs`,
            query: { filter: 'latest', per_page: 100, page },
            auth,
              },
          options,
        );
        const parsed = parseResponse(JobsPage, 'list jobs for a run', res.text);
        for (const job of parsed.jobs) if (job.status === 'queued') queued.set(job.id, job);
        if (parsed.jobs.length < 100) break;
      }
    }
    return [...queued.values()];
  }

  /** The App's webhook deliveries at or after `since`, newest first (follows the cursor). */
  async listHookDeliveries(since: Date | number, options: CallOptions = {}): Promise<HookDelivery[]> {
    const sinceMs = typeof since === 'number' ? since : since.getTime();
    const out: HookDelivery[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await this.#call(
        { operation: 'list_hook_deliveries', method: 'GET', path: '/app/hook/deliveries', query: { per_page: 100, cursor }, auth: { kind: 'app', app: this.#apps[0]! } },
        options,
      );
      const items = parseResponse(HookDeliveriesPage, 'list hook deliveries', res.text);
      for (const item of items) {
        if (Date.parse(item.deliveredAt) < sinceMs) return out;
        out.push(item);
      }
      cursor = nextCursor(res.headers.link);
      if (!cursor) break;
    }
    return out;
  }

  /** Asks GitHub to deliver a recorded webhook again (202: it happens asynchronously). */
  async redeliver(deliveryId: number, options: CallOptions = {}): Promise<void> {
    await this.#call(
      { operation: 'redeliver_hook', method: 'POST', path: `/app/hook/deliveries/${deliveryId}/attempts`, auth: { kind: 'app', app: this.#apps[0]! } },
      options,
    );
  }

  /** The first App's installation that covers the repository (or, without `repo`, the org). Cached. */
  async getInstallationId(owner: string, repo?: string, options: CallOptions = {}): Promise<number> {
    const id = await this.#appInstallation(this.#apps[0]!, owner, repo, options);
    if (id === null) throw new PermanentError('github_not_found', `GitHub get installation: the App is not installed on ${repo ? `${owner}/${repo}` : owner} (404)`);
    return id;
  }

  async close(): Promise<void> {
    await this.#http.close();
  }

  /**
   * `app`'s installation on owner (or owner/repo), null when it is not installed there
   * (GitHub answers 404). Cached both ways for installationCacheMs; concurrent callers
   * share one lookup.
   */
  async #appInstallation(app: AppContext, owner: string, repo: string | undefined, options: CallOptions): Promise<number | null> {
    const cacheKey = (repo ? `${owner}/${repo}` : owner).toLowerCase();
    const cached = app.coverage.get(cacheKey);
    if (cached && this.#clock.now() - cached.atMs < this.#installationCacheMs) return cached.id;
    let pending = app.lookups.get(cacheKey);
    if (!pending) {
      const path = repo ? `/repos/${seg(owner)}/${seg(repo)}/installation` : `/orgs/${seg(owner)}/installation`;
      pending = (async () => {
        try {
          const res = await this.#call({ operation: 'get_installation', method: 'GET', path, auth: { kind: 'app', app } }, options);
          const { id } = parseResponse(InstallationResponse, 'get installation', res.text);
          this.#installationApp.set(id, app);
          return id;
        } catch (err) {
          if (err instanceof PermanentError && err.reason === 'github_not_found') return null;
          throw err;
        }
      })()
        .then((id) => {
          app.coverage.set(cacheKey, { id, atMs: this.#clock.now() });
          return id;
        })
        .finally(() => app.lookups.delete(cacheKey));
      app.lookups.set(cacheKey, pending);
    }
    return pending;
  }

  /**
   * The Apps that may act on the target, each with its installation there. With one App
   * a given installation id is used as it is (no lookup, as before several Apps). With
   * several, every App is asked (once per cache period) whether it is installed on the
   * org or repository: an App only ever acts where it is installed, and the job's own
   * installation id (from the webhook, i.e. from one App) is not the only choice.
   */
  async #installationFor(target: { owner: string; repo?: string; installationId?: number; scope?: RunnerScope }, options: CallOptions): Promise<Candidate[]> {
    const repo = target.scope === 'org' ? undefined : target.repo;
    if (this.#apps.length === 1) {
      const app = this.#apps[0]!;
      if (target.installationId !== undefined) return [{ app, installationId: target.installationId }];
      const id = await this.#appInstallation(app, target.owner, repo, options);
      if (id === null) throw new PermanentError('github_not_found', `GitHub get installation: the App is not installed on ${repo ? `${target.owner}/${repo}` : target.owner} (404)`);
      return [{ app, installationId: id }];
    }
    const known = target.installationId !== undefined ? this.#installationApp.get(target.installationId) : undefined;
    const found = await Promise.allSettled(
      this.#apps.map(async (app): Promise<Candidate | undefined> => {
        if (app === known) return { app, installationId: target.installationId! };
        const id = await this.#appInstallation(app, target.owner, repo, options);
        return id === null ? undefined : { app, installationId: id };
      }),
    );
    const candidates = found.flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value] : []));
    if (candidates.length) return candidates;
    // No App is installed there: a lookup that failed (not a 404) says why, else it is not found.
    const failed = found.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    throw new PermanentError('github_not_found', `GitHub get installation: no configured App is installed on ${repo ? `${target.owner}/${repo}` : target.owner} (404)`);
  }

  /** A given installation (a public repository read with any installation): its App when known, else the first. */
  #exactInstallation(installationId: number): Candidate {
    return { app: this.#installationApp.get(installationId) ?? this.#apps[0]!, installationId };
  }

  async #createInstallationToken(app: AppContext, installationId: number): Promise<{ token: string; expiresAtMs: number }> {
    const res = await this.#call({
      operation: 'create_installation_token',
      method: 'POST',
      path: `/app/installations/${installationId}/access_tokens`,
      auth: { kind: 'app', app },
    });
    const parsed = parseResponse(AccessTokenResponse, 'create installation token', res.text);
    const expiresAtMs = Date.parse(parsed.expires_at);
    if (Number.isNaN(expiresAtMs)) throw new PermanentError('github_bad_response', 'GitHub create installation token: expires_at is not a date');
    return { token: parsed.token, expiresAtMs };
  }

  /**
   * One logical call: transient failures are retried with backoff; rate-limit
   * rejections are waited out through the shared limiter and never count as a try.
   */
  async #call(call: Call, options: CallOptions = {}): Promise<HttpResponse> {
    // Awaited only after the reservation: a gate that fails earlier is not an unhandled rejection.
    options.beforeSend?.catch(() => {});
    try {
      return await retry(() => this.#attempt(call, options.signal, options.beforeSend), {
        ...this.#retry,
        clock: this.#clock,
        signal: options.signal,
        retryable: (err) => err instanceof RetryableError && !(err instanceof GitHubRateLimitedError),
        onRetry: (err, attempt, delayMs) => {
          this.#metrics?.retries.inc({ operation: call.operation });
          this.#log.warn({ operation: call.operation, attempt, delayMs, reason: errorReason(err), err: (err as Error).message }, 'GitHub call failed; retrying');
        },
      });
    } catch (err) {
      this.#metrics?.errors.inc({ operation: call.operation, reason: errorReason(err) });
      throw err;
    }
  }

  async #attempt(call: Call, signal: AbortSignal | undefined, beforeSend?: Promise<void>): Promise<HttpResponse> {
    const auth = call.auth;
    const keys: LimitKey[] = auth.kind === 'app'
      ? [{ app: auth.app.id, scope: 'app', family: call.operation }]
      : auth.candidates.map((c) => ({ app: c.app.id, scope: String(c.installationId), family: call.operation }));
    let reauthenticated = false;
    for (;;) {
      // Among several Apps, the one whose budget lets the call go out soonest; after a
      // rate-limit refusal that App is paused, so the next pass picks another if any has room.
      const { index } = await this.#limiter.acquireAny(keys, requestCost(call.method), { signal, maxWaitMs: this.#maxWaitMs, ahead: call.ahead });
      const key = keys[index]!;
      const chosen: Candidate | { app: AppContext; installationId?: undefined } = auth.kind === 'app' ? { app: auth.app } : auth.candidates[index]!;
      const credential = await (chosen.installationId === undefined
        ? chosen.app.jwt.get(this.#clock.now())
        : chosen.app.tokens.get(chosen.installationId, signal));
      await beforeSend;
      this.#metrics?.appRequests.inc({ app: chosen.app.id });
      const res = await this.#send(call, credential, signal);
      const message = res.status >= 400 ? githubMessage(res.text) : undefined;
      const verdict = await this.#limiter.observe(key, { status: res.status, headers: res.headers, message });
      if (verdict.kind !== 'none') continue; // the next acquire waits out the pause
      if (res.status === 401 && !reauthenticated) {
        // A revoked or expired token (or a JWT from a skewed clock): get a fresh one once.
        reauthenticated = true;
        if (chosen.installationId !== undefined) chosen.app.tokens.invalidate(chosen.installationId, credential);
        else chosen.app.jwt.reset();
        continue;
      }
      if (res.status >= 200 && res.status < 300) return res;
      throw errorForStatus(call.operation, res.status, message, {
        runnerName: call.runnerName,
        // A 503 may say when to come back; the retry helper waits at least that long.
        retryAfterMs: retryAfterMs(res.headers, this.#clock.now()),
      });
    }
  }

  async #send(call: Call, credential: string, signal: AbortSignal | undefined): Promise<HttpResponse> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const started = performance.now();
    const observe = (statusClass: string) =>
      this.#metrics?.requestDuration.observe({ operation: call.operation, status_class: statusClass }, (performance.now() - started) / 1000);
    try {
      const res = await this.#http.send(
        {
          ...call,
          headers: {
            accept: 'application/vnd.github+json',
            authorization: `Bearer ${credential}`,
            'user-agent': this.#userAgent,
            'x-github-api-version': API_VERSION,
          },
        },
        combined,
      );
      observe(`${Math.floor(res.status / 100)}xx`);
      this.#log.debug({ operation: call.operation, status: res.status }, 'GitHub call');
      return res;
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) {
        observe('timeout');
        throw new GitHubTransientError('github_timeout', `GitHub ${call.operation}: no response within ${this.#timeoutMs} ms`, { cause: err });
      }
      observe('network');
      const code = (err as { code?: string }).code ?? (err as Error).name;
      throw new GitHubTransientError('github_network', `GitHub ${call.operation}: network error (${code})`, { cause: err });
    }
  }
}

function repoPath(target: { owner: string; repo: string }): string {
  return `/repos/${seg(target.owner)}/${seg(target.repo)}`;
}

function runnersPath(target: RunnerTarget): string {
  if (target.scope === 'org') return `/orgs/${seg(target.owner)}/actions/runners`;
  if (!target.repo) throw new PermanentError('github_validation', 'repo-scoped runner call without a repository: pass `repo`');
  return `${repoPath({ owner: target.owner, repo: target.repo })}/actions/runners`;
}

function validateJitRequest(r: JitConfigRequest): void {
  const problems: string[] = [];
  if (!r.name || r.name.length > 64) problems.push('name must be 1..64 characters');
  if (!Number.isInteger(r.runnerGroupId) || r.runnerGroupId < 1) problems.push('runnerGroupId must be a positive integer (1 = Default)');
  if (r.labels.length < 1 || r.labels.length > 100) problems.push(`labels must hold 1..100 entries (got ${r.labels.length})`);
  if (r.scope === 'repo' && !r.repo) problems.push('repo scope needs `repo`');
  if (problems.length) throw new PermanentError('github_validation', `generate-jitconfig request invalid: ${problems.join('; ')}`);
}

/** The `cursor` of the rel="next" link in a Link header, if any. */
export function nextCursor(link: string | string[] | undefined): string | undefined {
  const value = Array.isArray(link) ? link.join(',') : link;
  if (!value) return undefined;
  for (const part of value.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="next"/.exec(part);
    if (m?.[1]) return new URL(m[1], 'http://x').searchParams.get('cursor') ?? undefined;
  }
  return undefined;
}

export type { HttpMethod };
