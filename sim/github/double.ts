import { createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import type { Clock } from '../../runtime/util/clock.ts';
import { systemClock } from '../../runtime/util/clock.ts';
import { FaultInjector, type Fault } from './faults.ts';
import { verifyAppJwt } from './jwt-verify.ts';
import { PrimaryBudgets, rateLimitHeaders, SecondaryLimits, type PrimaryLimitOptions, type SecondaryLimitOptions } from './rate-limits.ts';
import { createRoutes, errorBody, matchRoute, ROUTES, type Identity, type RouteContext, type RouteId, type RouteResult } from './routes.ts';
import {
  DEFAULT_RUNNER_GROUPS, GitHubState, type InstallationSpec, type QueueJobSpec, type SimCheckRun, type SimDelivery, type SimJob, type SimRelease,
  type SimRunner,
} from './state.ts';
import { buildSignedWorkflowJobWebhook, webhookHeaders, type SignedWebhook, type WorkflowJobAction, type WorkflowJobConclusion } from './webhook-payload.ts';

/**
 * A local GitHub API double on 127.0.0.1: the REST endpoints runs-fleet uses, with
 * GitHub's status codes, JSON shapes, App JWT and installation-token auth, primary
 * and secondary rate limits with their headers, failure injection, and a control API
 * that plays GitHub's side (queue jobs, runners taking jobs, webhook deliveries).
 */

/** One App of the double, when it plays several: its own id, key and installations. */
export interface DoubleAppOptions {
  appId: number;
  /** Accepted as `iss` too; `Iv23li` + the zero-padded id by default. */
  clientId?: string;
  /** When absent, a key generated once per process for this App's position in the list. */
  privateKeyPem?: string;
  /** When absent, one installation (defaultInstallationId) covers every owner and repo. */
  installations?: InstallationSpec[];
  /** 1 for the first App, 1000 + its position for the others, unless given. */
  defaultInstallationId?: number;
}

export interface GitHubDoubleOptions {
  /**
   * Several Apps, each with its own id, key and installations; JWTs are verified
   * against the key of the App they name, and every limit is counted per App (its
   * installations and its own JWT calls apart from any other App's). When given, the
   * single-App fields below (appId, clientId, privateKeyPem, installations,
   * defaultInstallationId) are not used.
   */
  apps?: DoubleAppOptions[];
  /** App id (JWT `iss`); 12345 by default. */
  appId?: number;
  /** Client id, also accepted as `iss`. */
  clientId?: string;
  /** The App's private key (PEM); when absent a 2048-bit PKCS#1 key generated once per process is used. */
  privateKeyPem?: string;
  /** Installations; when absent one installation (defaultInstallationId) covers every owner and repo. */
  installations?: InstallationSpec[];
  defaultInstallationId?: number;
  /** Extra runner groups besides 1 = Default. */
  runnerGroups?: Record<number, string>;
  /** Installation token lifetime (1 h). */
  tokenTtlMs?: number;
  primary?: Partial<PrimaryLimitOptions>;
  secondary?: Partial<SecondaryLimitOptions>;
  /** Where webhooks are delivered (the orchestrator's ingress), and the secret they are signed with. */
  webhookUrl?: string;
  webhookSecret?: string;
  /** Send workflow_job webhooks on every job state change made through the control API or a re-run. */
  autoDeliver?: boolean;
  /** Serve under a path prefix, as GitHub Enterprise Server does (`/api/v3`). */
  pathPrefix?: string;
  /** Drives token expiry, JWT checks, rate-limit windows and timestamps. Fault delays use real time. */
  clock?: Clock;
  port?: number;
}

export interface GitHubDoubleStats {
  requests: number;
  rateLimited: { primary: number; secondary: number };
  injectedFaults: number;
  tokensIssued: number;
  /** Most secondary-limit points accepted in any window, per `identity route` key. */
  peakSecondaryPoints: Record<string, number>;
  /** Per App id: authenticated requests, and the rate-limit refusals its JWT or installations got. */
  byApp: Record<string, { requests: number; calls: Record<string, number>; rateLimited: { primary: number; secondary: number } }>;
}

/** What a caller needs to act as one of the double's Apps. */
export interface DoubleApp {
  readonly appId: number;
  readonly clientId: string;
  readonly privateKeyPem: string;
  readonly defaultInstallationId: number;
  readonly installations: readonly InstallationSpec[] | undefined;
}

export interface GitHubDouble {
  /** API base URL (includes the path prefix when one is set). */
  readonly url: string;
  /** The first App's id, client id, key and default installation. */
  readonly appId: number;
  readonly clientId: string;
  readonly privateKeyPem: string;
  readonly defaultInstallationId: number;
  /** Every App, the first one too. */
  readonly apps: readonly DoubleApp[];
  readonly routes: typeof ROUTES;

  // ---- control API: GitHub's side ----
  queueJob(spec: QueueJobSpec): SimJob;
  getJob(jobId: number): SimJob | undefined;
  markJobInProgress(jobId: number, runnerName: string): SimJob;
  markJobCompleted(jobId: number, conclusion?: WorkflowJobConclusion): SimJob;
  /** The runner (by name) takes the oldest queued job its labels fit, as GitHub assigns jobs. */
  runnerTakesJob(runnerName: string): SimJob | undefined;
  findRunner(name: string): SimRunner | undefined;
  listRunners(): SimRunner[];
  setRunnerState(name: string, state: { status?: 'online' | 'offline'; busy?: boolean }): SimRunner;
  /** Revokes installation tokens (all, or one installation's), as DELETE /installation/token does. */
  revokeTokens(installationId?: number): void;
  /** Every installation token issued so far (tests assert none of them leaks). */
  issuedTokens(): string[];
  /** Spends `n` of an installation's primary budget (or an App's own, `'app'`: the first App's unless `appId`), as another client would. */
  spendPrimaryBudget(installationId: number | 'app', n: number, appId?: number): void;

  // ---- webhooks ----
  buildWorkflowJobWebhook(jobId: number, action: WorkflowJobAction, deliveryId?: string): SignedWebhook;
  /** Sends the job's workflow_job webhook to webhookUrl and records the delivery (failed ones too). */
  deliverWorkflowJob(jobId: number, action: WorkflowJobAction): Promise<SimDelivery>;
  recordDelivery(delivery: Partial<Omit<SimDelivery, 'id' | 'deliveredAt'>> & { event: string; statusCode: number }): SimDelivery;
  listDeliveries(): SimDelivery[];
  setWebhook(url: string | undefined, secret?: string): void;
  /** Resolves when every delivery in flight (auto, redelivery) has been recorded. */
  deliveriesSettled(): Promise<void>;

  // ---- checks and releases ----
  /** Check runs created through the API, oldest first. */
  checkRuns(): SimCheckRun[];
  /** Publishes a release of owner/repo (e.g. actions/runner v2.337.0), now or at `publishedAt`. */
  publishRelease(owner: string, repo: string, tagName: string, publishedAt?: Date): SimRelease;

  // ---- failure injection and counters ----
  inject(route: RouteId | '*', fault: Fault, times?: number): void;
  /**
   * Holds the next request to `route` until release() is called, then handles it normally;
   * `arrived` resolves when it reaches the double. How tests stop a call mid-flight.
   */
  hold(route: RouteId): { arrived: Promise<void>; release(): void };
  clearFaults(): void;
  calls(route: RouteId): number;
  callCounts(): Record<string, number>;
  stats(): GitHubDoubleStats;

  stop(): Promise<void>;
}

export type { Fault, InstallationSpec, QueueJobSpec, RouteId, SimCheckRun, SimDelivery, SimJob, SimRelease, SimRunner };
export { ROUTES };

interface AppKey {
  appId: number;
  publicKey: KeyObject;
  /** Accepted `iss` values: the app id and the client id. */
  issuers: string[];
}

interface Internals {
  state: GitHubState;
  apps: AppKey[];
  byApp: Map<number, { requests: number; calls: Map<string, number>; primary: number; secondary: number }>;
  primary: PrimaryBudgets;
  secondary: SecondaryLimits;
  faults: FaultInjector;
  calls: Map<string, number>;
  counters: { requests: number; primary: number; secondary: number };
  prefix: string;
  apiUrl: string;
  routes: ReturnType<typeof createRoutes>;
  clock: Clock;
  redeliver(d: SimDelivery): void;
  jobChanged(job: SimJob, action: 'queued'): void;
}

const processKeys: string[] = [];

/**
 * One generated key per App position per process: RSA generation costs ~100 ms, and
 * doubles in one test run need not differ; Apps of one double do (each its own key).
 */
function generatedKey(position = 0): string {
  processKeys[position] ??= generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  }).privateKey;
  return processKeys[position]!;
}

export async function startGitHubDouble(options: GitHubDoubleOptions = {}): Promise<GitHubDouble> {
  const clock = options.clock ?? systemClock;
  const specs: DoubleAppOptions[] = options.apps?.length
    ? options.apps
    : [{ appId: options.appId ?? 12345, clientId: options.clientId, privateKeyPem: options.privateKeyPem, installations: options.installations, defaultInstallationId: options.defaultInstallationId }];
  const apps: DoubleApp[] = specs.map((a, i) => ({
    appId: a.appId,
    clientId: a.clientId ?? `Iv23li${String(a.appId).padStart(14, '0')}`,
    privateKeyPem: a.privateKeyPem ?? generatedKey(i),
    defaultInstallationId: a.defaultInstallationId ?? (i === 0 ? 1 : 1000 + i),
    installations: a.installations,
  }));
  if (new Set(apps.map((a) => a.appId)).size !== apps.length) throw new Error('GitHub double: two Apps with one id');
  const { appId, clientId, privateKeyPem } = apps[0]!;
  const prefix = (options.pathPrefix ?? '').replace(/\/+$/, '');
  let webhookUrl = options.webhookUrl;
  let webhookSecret = options.webhookSecret ?? 'double-webhook-secret';
  const pending = new Set<Promise<unknown>>();

  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const apiUrl = `http://127.0.0.1:${port}${prefix}`;

  const state = new GitHubState({
    clock,
    apps: apps.map((a) => ({ appId: a.appId, installations: a.installations, defaultInstallationId: a.defaultInstallationId })),
    runnerGroups: new Map([...DEFAULT_RUNNER_GROUPS, ...Object.entries(options.runnerGroups ?? {}).map(([k, v]) => [Number(k), v] as const)]),
    tokenTtlMs: options.tokenTtlMs ?? 3_600_000,
    serverUrl: `http://127.0.0.1:${port}`,
  });

  const track = <T>(p: Promise<T>): Promise<T> => {
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => undefined);
    return p;
  };

  async function send(body: string, headers: Record<string, string>, meta: Omit<SimDelivery, 'id' | 'deliveredAt' | 'status' | 'statusCode' | 'duration' | 'request'>): Promise<SimDelivery> {
    if (!webhookUrl) throw new Error('GitHub double: no webhookUrl configured; pass webhookUrl to startGitHubDouble or call setWebhook(url, secret)');
    const started = performance.now();
    let statusCode = 0;
    let status: string;
    try {
      const res = await request(webhookUrl, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
      await res.body.dump();
      statusCode = res.statusCode;
      status = statusCode >= 200 && statusCode < 300 ? 'OK' : `Invalid HTTP Response: ${statusCode}`;
    } catch {
      status = 'We couldn’t deliver this payload: failed to connect to host';
    }
    return state.recordDelivery({ ...meta, duration: (performance.now() - started) / 1000, status, statusCode, request: { headers, body } });
  }

  function deliverWorkflowJob(jobId: number, action: WorkflowJobAction): Promise<SimDelivery> {
    const job = state.mustJob(jobId);
    const hook = buildSignedWorkflowJobWebhook({ action, job: state.payloadFields(job), secret: webhookSecret });
    return track(
      send(hook.body, hook.headers, {
        guid: hook.deliveryId,
        redelivery: false,
        event: 'workflow_job',
        action,
        installationId: job.installationId,
        repositoryId: state.idOf('repo', `${job.owner}/${job.repo}`),
      }),
    );
  }

  function autoDeliver(job: SimJob, action: WorkflowJobAction): void {
    if (options.autoDeliver && webhookUrl) void deliverWorkflowJob(job.id, action).catch(() => undefined);
  }

  const internals: Internals = {
    state,
    apps: apps.map((a) => ({ appId: a.appId, publicKey: createPublicKey(a.privateKeyPem), issuers: [String(a.appId), a.clientId] })),
    byApp: new Map(apps.map((a) => [a.appId, { requests: 0, calls: new Map(), primary: 0, secondary: 0 }])),
    primary: new PrimaryBudgets({ limit: 5000, windowMs: 3_600_000, status: 403, ...options.primary }),
    secondary: new SecondaryLimits({ points: 900, windowMs: 60_000, concurrency: 100, status: 403, ...options.secondary }),
    faults: new FaultInjector(),
    calls: new Map(),
    counters: { requests: 0, primary: 0, secondary: 0 },
    prefix,
    apiUrl,
    routes: createRoutes(),
    clock,
    redeliver(d) {
      // Re-signed with the current secret, like GitHub after a secret rotation; same GUID.
      const headers = { ...d.request.headers, ...webhookHeaders({ event: d.event, deliveryId: d.guid, body: d.request.body, secret: webhookSecret, installationId: d.installationId }) };
      void track(send(d.request.body, headers, { guid: d.guid, redelivery: true, event: d.event, action: d.action, installationId: d.installationId, repositoryId: d.repositoryId })).catch(
        () => undefined,
      );
    },
    jobChanged: (job, action) => autoDeliver(job, action),
  };

  server.on('request', (req, res) =>
    handle(internals, req, res).catch((err: unknown) =>
      respond(res, { status: 500, body: errorBody(`GitHub double failed: ${(err as Error).message}`, 500) }, {}),
    ),
  );

  return {
    url: apiUrl,
    appId,
    clientId,
    privateKeyPem,
    defaultInstallationId: state.defaultInstallationId,
    apps,
    routes: ROUTES,
    queueJob(spec) {
      const job = state.queueJob(spec);
      autoDeliver(job, 'queued');
      return job;
    },
    getJob: (id) => state.job(id),
    markJobInProgress(jobId, runnerName) {
      const job = state.startJob(jobId, runnerName);
      autoDeliver(job, 'in_progress');
      return job;
    },
    markJobCompleted(jobId, conclusion = 'success') {
      const job = state.completeJob(jobId, conclusion);
      autoDeliver(job, 'completed');
      return job;
    },
    runnerTakesJob(runnerName) {
      const runner = state.runnerByName(runnerName);
      if (!runner) throw new Error(`GitHub double: no runner named ${runnerName}`);
      const job = state.jobFor(runner);
      if (!job) return undefined;
      state.startJob(job.id, runnerName);
      autoDeliver(job, 'in_progress');
      return job;
    },
    findRunner: (name) => state.runnerByName(name),
    listRunners: () => [...state.runners.values()],
    setRunnerState(name, update) {
      const runner = state.runnerByName(name);
      if (!runner) throw new Error(`GitHub double: no runner named ${name}`);
      return Object.assign(runner, update);
    },
    revokeTokens(installationId) {
      for (const t of state.tokens.values()) if (installationId === undefined || t.installationId === installationId) t.expiresAtMs = 0;
    },
    issuedTokens: () => [...state.tokens.keys()],
    spendPrimaryBudget(installationId, n, app = appId) {
      internals.primary.spend(installationId === 'app' ? `app:${app}` : `installation:${installationId}`, n, clock.now());
    },
    buildWorkflowJobWebhook: (jobId, action, deliveryId) =>
      buildSignedWorkflowJobWebhook({ action, job: state.payloadFields(state.mustJob(jobId)), secret: webhookSecret, deliveryId }),
    deliverWorkflowJob,
    recordDelivery(d) {
      return state.recordDelivery({
        guid: d.guid ?? randomUUID(),
        redelivery: d.redelivery ?? false,
        duration: d.duration ?? 0.01,
        status: d.status ?? (d.statusCode >= 200 && d.statusCode < 300 ? 'OK' : `Invalid HTTP Response: ${d.statusCode}`),
        statusCode: d.statusCode,
        event: d.event,
        action: d.action ?? null,
        installationId: d.installationId ?? state.defaultInstallationId,
        repositoryId: d.repositoryId ?? null,
        request: d.request ?? { headers: {}, body: '{}' },
      });
    },
    listDeliveries: () => [...state.deliveries],
    setWebhook(url, secret) {
      webhookUrl = url;
      if (secret !== undefined) webhookSecret = secret;
    },
    async deliveriesSettled() {
      while (pending.size) await Promise.allSettled([...pending]);
    },
    checkRuns: () => [...state.checkRuns],
    publishRelease: (owner, repo, tagName, publishedAt) => state.publishRelease(owner, repo, tagName, publishedAt?.getTime()),
    inject: (route, fault, times = 1) => internals.faults.inject(route, fault, times),
    hold(route) {
      let release!: () => void;
      let arrive!: () => void;
      const until = new Promise<void>((r) => (release = r));
      const arrived = new Promise<void>((r) => (arrive = r));
      internals.faults.inject(route, { kind: 'hold', until, onArrive: arrive });
      return { arrived, release };
    },
    clearFaults: () => internals.faults.clear(),
    calls: (route) => internals.calls.get(route) ?? 0,
    callCounts: () => Object.fromEntries(internals.calls),
    stats: () => ({
      requests: internals.counters.requests,
      rateLimited: { primary: internals.counters.primary, secondary: internals.counters.secondary },
      injectedFaults: internals.faults.injected,
      tokensIssued: state.tokensIssued,
      peakSecondaryPoints: Object.fromEntries(internals.secondary.peakPoints),
      byApp: Object.fromEntries([...internals.byApp].map(([id, c]) => [String(id), { requests: c.requests, calls: Object.fromEntries(c.calls), rateLimited: { primary: c.primary, secondary: c.secondary } }])),
    }),
    async stop() {
      await Promise.allSettled([...pending]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- request handling -------------------------------------------------------

function respond(res: ServerResponse, result: RouteResult, headers: Record<string, string>): void {
  if (res.destroyed || res.headersSent) return;
  const body = result.body === undefined ? '' : JSON.stringify(result.body);
  res.writeHead(result.status, {
    ...headers,
    ...result.headers,
    'x-github-api-version-selected': '2022-11-28',
    'x-github-request-id': randomUUID().toUpperCase(),
    ...(body && { 'content-type': 'application/json; charset=utf-8' }),
  });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function authenticate(d: Internals, auth: 'jwt' | 'token', header: string | undefined): Identity | string {
  const m = /^(?:bearer|token)\s+(\S+)$/i.exec(header ?? '');
  if (!m) return 'Requires authentication';
  const credential = m[1]!;
  if (auth === 'jwt') {
    // GitHub finds the App by the JWT's `iss` and checks the signature with that App's
    // public key only: a JWT naming App B signed with App A's key is refused.
    const app = d.apps.find((a) => a.issuers.includes(unverifiedIssuer(credential))) ?? d.apps[0]!;
    const verdict = verifyAppJwt(credential, { publicKey: app.publicKey, issuers: app.issuers, nowMs: d.clock.now() });
    return verdict.ok ? { kind: 'app', appId: app.appId } : verdict.message;
  }
  const token = d.state.tokenInfo(credential);
  return token ? { kind: 'installation', installationId: token.installationId, appId: token.appId } : 'Bad credentials';
}

/** The `iss` claim as written, before any check (only to pick the App whose key verifies it). */
function unverifiedIssuer(jwt: string): string {
  try {
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { iss?: unknown };
    return typeof claims.iss === 'string' || typeof claims.iss === 'number' ? String(claims.iss) : '';
  } catch {
    return '';
  }
}

/**
 * The identity GitHub counts limits against: an installation (its id is unique across
 * GitHub, so this is per App and installation) or an App's own JWT calls.
 */
const identityKey = (i: Identity) => (i.kind === 'app' ? `app:${i.appId}` : `installation:${i.installationId}`);

async function handle(d: Internals, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const bodyText = await readBody(req).catch(() => '');
  const url = new URL(req.url ?? '/', 'http://double');
  const path = url.pathname.startsWith(d.prefix) ? url.pathname.slice(d.prefix.length) || '/' : undefined;
  const now = d.clock.now();
  const anonymous = rateLimitHeaders({ limit: 60, remaining: 60, used: 0, reset: Math.ceil(now / 1000) + 3600, resource: 'core' });
  const match = path === undefined ? undefined : matchRoute(d.routes, req.method ?? 'GET', path);
  d.counters.requests++;
  if (!match) return respond(res, { status: 404, body: errorBody('Not Found', 404) }, anonymous);
  const { route, params } = match;
  d.calls.set(route.id, (d.calls.get(route.id) ?? 0) + 1);

  const identity = authenticate(d, route.auth, req.headers.authorization);
  if (typeof identity === 'string') return respond(res, { status: 401, body: errorBody(identity, 401) }, anonymous);
  const who = identityKey(identity);
  const perApp = d.byApp.get(identity.appId);
  if (perApp) {
    perApp.requests++;
    perApp.calls.set(route.id, (perApp.calls.get(route.id) ?? 0) + 1);
  }
  const refused = (kind: 'primary' | 'secondary') => {
    d.counters[kind]++;
    if (perApp) perApp[kind]++;
  };
  // In flight from arrival until the response closes, so delayed and hung requests count.
  if (!d.secondary.enter(who)) {
    refused('secondary');
    return respond(res, secondaryRefusal(d.secondary.options.status), { ...rateLimitHeaders(d.primary.peek(who, now)), 'retry-after': '1' });
  }
  res.once('close', () => d.secondary.leave(who));

  let fault = d.faults.take(route.id);
  if (fault?.kind === 'delay') {
    await new Promise((r) => setTimeout(r, fault && 'ms' in fault ? fault.ms : 0));
    fault = undefined;
  }
  if (fault?.kind === 'hold') {
    fault.onArrive?.();
    await fault.until.catch(() => undefined);
    fault = undefined;
  }
  if (fault?.kind === 'hang') return; // the connection stays open; stop() or the client closes it
  if (fault?.kind === 'reset') {
    req.socket.destroy();
    return;
  }
  const budgetHeaders = rateLimitHeaders(d.primary.peek(who, d.clock.now()));
  if (fault?.kind === 'status') {
    if (fault.status === 429) refused('secondary');
    const extra: Record<string, string> = fault.retryAfterS !== undefined ? { 'retry-after': String(fault.retryAfterS) } : {};
    return respond(res, { status: fault.status, body: errorBody(fault.message ?? 'Server Error', fault.status) }, { ...budgetHeaders, ...extra });
  }
  if (fault?.kind === 'secondary') {
    refused('secondary');
    return respond(res, secondaryRefusal(fault.status ?? d.secondary.options.status), { ...budgetHeaders, 'retry-after': String(fault.retryAfterS ?? 60) });
  }
  if (fault?.kind === 'primary') {
    refused('primary');
    const values = { ...d.primary.peek(who, d.clock.now()), remaining: 0, reset: Math.ceil(d.clock.now() / 1000) + (fault.resetInS ?? 60) };
    values.used = values.limit;
    return respond(res, primaryRefusal(fault.status ?? d.primary.options.status, identity), rateLimitHeaders(values));
  }

  const budget = d.primary.take(who, d.clock.now());
  const headers = rateLimitHeaders(budget.headers);
  if (!budget.allowed) {
    refused('primary');
    return respond(res, primaryRefusal(d.primary.options.status, identity), headers);
  }
  const points = route.method === 'GET' ? 1 : 5;
  const take = d.secondary.take(`${who} ${route.id}`, points, d.clock.now());
  if (!take.allowed) {
    refused('secondary');
    return respond(res, secondaryRefusal(d.secondary.options.status), { ...headers, 'retry-after': String(take.retryAfterS) });
  }
  let body: unknown;
  if (bodyText) {
    try {
      body = JSON.parse(bodyText);
    } catch {
      return respond(res, { status: 400, body: errorBody('Problems parsing JSON', 400) }, headers);
    }
  }
  const ctx: RouteContext = {
    params,
    query: url.searchParams,
    body,
    identity,
    state: d.state,
    apiUrl: d.apiUrl,
    redeliver: d.redeliver,
    jobChanged: d.jobChanged,
  };
  const result = route.handle(ctx);
  if (fault?.kind === 'drop-reply') {
    req.socket.destroy();
    return;
  }
  respond(res, result, headers);
}

function primaryRefusal(status: number, identity: Identity): RouteResult {
  const who = identity.kind === 'installation' ? `installation ID ${identity.installationId}` : 'the app';
  return {
    status,
    body: errorBody(
      `API rate limit exceeded for ${who}. If you reach out to GitHub Support for help, please include the request ID.`,
      status,
    ),
  };
}

function secondaryRefusal(status: number): RouteResult {
  return {
    status,
    body: errorBody(
      'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. ' +
        'If you reach out to GitHub Support for help, please include the request ID.',
      status,
    ),
  };
}
