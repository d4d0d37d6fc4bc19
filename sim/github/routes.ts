import type { GitHubState, RunnerScope, SimCheckRun, SimDelivery, SimJob, SimRelease, SimRunner } from './state.ts';

/** The REST endpoints the double serves, with GitHub's status codes and body shapes. */

export const ROUTES = {
  createAccessToken: 'POST /app/installations/{installation_id}/access_tokens',
  orgInstallation: 'GET /orgs/{org}/installation',
  repoInstallation: 'GET /repos/{owner}/{repo}/installation',
  orgJitConfig: 'POST /orgs/{org}/actions/runners/generate-jitconfig',
  repoJitConfig: 'POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig',
  orgRunners: 'GET /orgs/{org}/actions/runners',
  repoRunners: 'GET /repos/{owner}/{repo}/actions/runners',
  orgRunner: 'GET /orgs/{org}/actions/runners/{runner_id}',
  repoRunner: 'GET /repos/{owner}/{repo}/actions/runners/{runner_id}',
  deleteOrgRunner: 'DELETE /orgs/{org}/actions/runners/{runner_id}',
  deleteRepoRunner: 'DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}',
  job: 'GET /repos/{owner}/{repo}/actions/jobs/{job_id}',
  rerunJob: 'POST /repos/{owner}/{repo}/actions/jobs/{job_id}/rerun',
  runs: 'GET /repos/{owner}/{repo}/actions/runs',
  runJobs: 'GET /repos/{owner}/{repo}/actions/runs/{run_id}/jobs',
  hookDeliveries: 'GET /app/hook/deliveries',
  redeliver: 'POST /app/hook/deliveries/{delivery_id}/attempts',
  createCheckRun: 'POST /repos/{owner}/{repo}/check-runs',
  checkRun: 'GET /repos/{owner}/{repo}/check-runs/{check_run_id}',
  latestRelease: 'GET /repos/{owner}/{repo}/releases/latest',
  releaseByTag: 'GET /repos/{owner}/{repo}/releases/tags/{tag}',
  installations: 'GET /app/installations',
  cancelRun: 'POST /repos/{owner}/{repo}/actions/runs/{run_id}/cancel',
} as const;

export type RouteId = (typeof ROUTES)[keyof typeof ROUTES];

/** Who called: an App (by its JWT) or one of an App's installations (by its token). */
export type Identity = { kind: 'app'; appId: number } | { kind: 'installation'; installationId: number; appId: number };

export interface RouteContext {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  identity: Identity;
  state: GitHubState;
  /** The double's API base URL, for `url` fields and Link headers. */
  apiUrl: string;
  /** Re-sends a recorded delivery (asynchronously, like GitHub). */
  redeliver(delivery: SimDelivery): void;
  /** A job changed state through the API (a re-run): the double may send its webhook. */
  jobChanged(job: SimJob, action: 'queued'): void;
}

export interface RouteResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Route {
  id: RouteId;
  method: string;
  pattern: RegExp;
  keys: string[];
  /** `jwt`: App JWT; `token`: installation token. */
  auth: 'jwt' | 'token';
  handle(ctx: RouteContext): RouteResult;
}

const DOCS = 'https://docs.github.com/rest';

export function errorBody(message: string, status?: number): Record<string, string> {
  return { message, documentation_url: DOCS, ...(status !== undefined && { status: String(status) }) };
}

const notFound = (): RouteResult => ({ status: 404, body: errorBody('Not Found', 404) });
const invalid = (detail: string): RouteResult => ({ status: 422, body: errorBody(`Invalid request.\n\n${detail}`, 422) });

function compile(id: RouteId, auth: Route['auth'], handle: Route['handle']): Route {
  const [method, template] = id.split(' ') as [string, string];
  const keys: string[] = [];
  const source = template.replace(/\{(\w+)\}/g, (_, key: string) => {
    keys.push(key);
    return key.endsWith('_id') ? '(\\d+)' : '([^/]+)';
  });
  return { id, method, pattern: new RegExp(`^${source}$`), keys, auth, handle };
}

export function matchRoute(routes: Route[], method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
  for (const route of routes) {
    if (route.method !== method) continue;
    const m = route.pattern.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    route.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1]!)));
    return { route, params };
  }
  return undefined;
}

const installationOf = (ctx: RouteContext) => (ctx.identity.kind === 'installation' ? ctx.identity.installationId : -1);

function scopeOf(params: Record<string, string>): RunnerScope {
  return params.org !== undefined ? { kind: 'org', org: params.org } : { kind: 'repo', owner: params.owner!, repo: params.repo! };
}

function inScope(ctx: RouteContext, scope: RunnerScope): boolean {
  return scope.kind === 'org' ? ctx.state.covers(installationOf(ctx), scope.org) : ctx.state.covers(installationOf(ctx), scope.owner, scope.repo);
}

const READ_ONLY_LABELS = new Set(['self-hosted', 'linux', 'windows', 'macos', 'x64', 'arm64', 'arm']);

export function runnerJson(r: SimRunner): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    os: r.os,
    status: r.status,
    busy: r.busy,
    ephemeral: true,
    runner_group_id: r.runnerGroupId,
    labels: r.labels.map((name, i) => ({ id: i + 1, name, type: READ_ONLY_LABELS.has(name.toLowerCase()) ? 'read-only' : 'custom' })),
  };
}

export function jobJson(apiUrl: string, j: SimJob): Record<string, unknown> {
  const repoApi = `${apiUrl}/repos/${j.owner}/${j.repo}`;
  return {
    id: j.id,
    run_id: j.runId,
    run_url: `${repoApi}/actions/runs/${j.runId}`,
    run_attempt: j.runAttempt,
    node_id: `CR_${Buffer.from(`job:${j.id}`).toString('base64url')}`,
    head_sha: j.headSha,
    head_branch: j.headBranch,
    url: `${repoApi}/actions/jobs/${j.id}`,
    html_url: `https://github.com/${j.owner}/${j.repo}/actions/runs/${j.runId}/job/${j.id}`,
    status: j.status,
    conclusion: j.conclusion,
    created_at: j.createdAt,
    started_at: j.startedAt ?? j.createdAt,
    completed_at: j.completedAt,
    name: j.name,
    steps: [],
    check_run_url: `${repoApi}/check-runs/${j.id}`,
    labels: j.labels,
    runner_id: j.runnerId,
    runner_name: j.runnerName,
    runner_group_id: j.runnerGroupId,
    runner_group_name: j.runnerGroupName,
    workflow_name: j.workflowName,
  };
}

function page(query: URLSearchParams): { perPage: number; page: number } {
  const perPage = Math.min(100, Math.max(1, Number(query.get('per_page') ?? 30) || 30));
  return { perPage, page: Math.max(1, Number(query.get('page') ?? 1) || 1) };
}

function paginate<T>(items: T[], query: URLSearchParams, selfUrl: string): { items: T[]; headers: Record<string, string> } {
  const { perPage, page: p } = page(query);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (n: number, rel: string) => {
    const q = new URLSearchParams(query);
    q.set('per_page', String(perPage));
    q.set('page', String(n));
    return `<${selfUrl}?${q}>; rel="${rel}"`;
  };
  const links = p < last ? [link(p + 1, 'next'), link(last, 'last')] : [];
  return { items: items.slice((p - 1) * perPage, p * perPage), headers: links.length ? { link: links.join(', ') } : {} };
}

function installationJson(ctx: RouteContext, id: number, account: string, type: string): Record<string, unknown> {
  return {
    id,
    account: { login: account, id: ctx.state.idOf('owner', account), type },
    app_id: ctx.identity.appId,
    target_type: type,
    repository_selection: 'all',
    access_tokens_url: `${ctx.apiUrl}/app/installations/${id}/access_tokens`,
    permissions: { organization_self_hosted_runners: 'write', administration: 'write', actions: 'write', checks: 'write', metadata: 'read' },
    events: ['workflow_job'],
  };
}

function validateJitBody(body: unknown): { name: string; runnerGroupId: number; labels: string[]; workFolder: string } | RouteResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { status: 400, body: errorBody('Problems parsing JSON', 400) };
  const b = body as Record<string, unknown>;
  if (typeof b.name !== 'string' || b.name.trim() === '') return invalid('"name" wasn\'t supplied.');
  if (!Number.isInteger(b.runner_group_id)) return invalid('"runner_group_id" wasn\'t supplied.');
  if (!Array.isArray(b.labels)) return invalid('"labels" wasn\'t supplied.');
  if (b.labels.length < 1) return invalid('For \'properties/labels\', [] should have at least 1 item(s).');
  if (b.labels.length > 100) return invalid(`For 'properties/labels', ${b.labels.length} items should have at most 100 item(s).`);
  if (!b.labels.every((l) => typeof l === 'string' && l.length > 0)) return invalid('For \'items\', labels must be non-empty strings.');
  if (b.work_folder !== undefined && typeof b.work_folder !== 'string') return invalid('"work_folder" must be a string.');
  return { name: b.name, runnerGroupId: b.runner_group_id as number, labels: b.labels as string[], workFolder: (b.work_folder as string | undefined) ?? '_work' };
}

function generateJit(ctx: RouteContext): RouteResult {
  const scope = scopeOf(ctx.params);
  if (!inScope(ctx, scope)) return notFound();
  const spec = validateJitBody(ctx.body);
  if ('status' in spec) return spec;
  if (!ctx.state.runnerGroups.has(spec.runnerGroupId)) return { status: 404, body: errorBody(`No runner group found with id ${spec.runnerGroupId}.`, 404) };
  const runner = ctx.state.createRunner(scope, spec);
  if (runner === 'conflict') {
    return { status: 409, body: errorBody(`Already exists - A runner with the name ${spec.name} already exists.`, 409) };
  }
  return { status: 201, body: { runner: runnerJson(runner), encoded_jit_config: runner.encodedJitConfig } };
}

function findRunner(ctx: RouteContext): SimRunner | undefined {
  const scope = scopeOf(ctx.params);
  if (!inScope(ctx, scope)) return undefined;
  return ctx.state.runnersIn(scope).find((r) => r.id === Number(ctx.params.runner_id));
}

function findJob(ctx: RouteContext): SimJob | undefined {
  const { owner, repo } = ctx.params as { owner: string; repo: string };
  if (!ctx.state.covers(installationOf(ctx), owner, repo)) return undefined;
  const job = ctx.state.job(Number(ctx.params.job_id));
  return job && job.owner.toLowerCase() === owner.toLowerCase() && job.repo.toLowerCase() === repo.toLowerCase() ? job : undefined;
}

function deliveryJson(d: SimDelivery): Record<string, unknown> {
  return {
    id: d.id,
    guid: d.guid,
    delivered_at: d.deliveredAt,
    redelivery: d.redelivery,
    duration: d.duration,
    status: d.status,
    status_code: d.statusCode,
    event: d.event,
    action: d.action,
    installation_id: d.installationId,
    repository_id: d.repositoryId,
    throttled_at: null,
  };
}

/** GitHub's check-run conclusions (docs: "Create a check run", `conclusion`). */
const CONCLUSIONS = new Set(['action_required', 'cancelled', 'failure', 'neutral', 'success', 'skipped', 'stale', 'timed_out']);
/** GitHub's limit on output.summary and output.text: 65535 characters. */
const MAX_OUTPUT = 65_535;

function checkRunJson(apiUrl: string, c: SimCheckRun): Record<string, unknown> {
  return {
    id: c.id,
    head_sha: c.headSha,
    node_id: `CR_${Buffer.from(`check:${c.id}`).toString('base64url')}`,
    external_id: c.externalId,
    url: `${apiUrl}/repos/${c.owner}/${c.repo}/check-runs/${c.id}`,
    html_url: `https://github.com/${c.owner}/${c.repo}/runs/${c.id}`,
    details_url: c.detailsUrl,
    status: c.status,
    conclusion: c.conclusion,
    started_at: c.startedAt,
    completed_at: c.completedAt,
    output: { ...c.output, annotations_count: 0 },
    name: c.name,
    pull_requests: [],
  };
}

function createCheckRun(ctx: RouteContext): RouteResult {
  const { owner, repo } = ctx.params as { owner: string; repo: string };
  if (!ctx.state.covers(installationOf(ctx), owner, repo)) return notFound();
  const b = ctx.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) return { status: 400, body: errorBody('Problems parsing JSON', 400) };
  const r = b as Record<string, unknown>;
  if (typeof r.name !== 'string' || r.name === '') return invalid('"name" wasn\'t supplied.');
  if (typeof r.head_sha !== 'string' || r.head_sha === '') return invalid('"head_sha" wasn\'t supplied.');
  if (!ctx.state.knowsCommit(owner, repo, r.head_sha)) return { status: 422, body: errorBody(`No commit found for SHA: ${r.head_sha}`, 422) };
  const conclusion = r.conclusion === undefined ? null : r.conclusion;
  if (conclusion !== null && (typeof conclusion !== 'string' || !CONCLUSIONS.has(conclusion)))
    return invalid(`For 'properties/conclusion', ${JSON.stringify(conclusion)} is not a possible value.`);
  // "Providing conclusion will automatically set the status parameter to completed."
  const status = conclusion !== null ? 'completed' : ((r.status as SimCheckRun['status'] | undefined) ?? 'queued');
  if (status === 'completed' && conclusion === null) return invalid('"conclusion" is required when "status" is "completed".');
  const out = (r.output ?? undefined) as Record<string, unknown> | undefined;
  if (out !== undefined) {
    if (typeof out.title !== 'string' || typeof out.summary !== 'string') return invalid('"output" needs "title" and "summary".');
    if (out.summary.length > MAX_OUTPUT) return invalid(`For 'properties/summary', it should be at most ${MAX_OUTPUT} characters.`);
  }
  const now = new Date(ctx.state.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const run = ctx.state.addCheckRun({
    owner, repo, name: r.name, headSha: r.head_sha, status, conclusion,
    externalId: typeof r.external_id === 'string' ? r.external_id : null,
    detailsUrl: typeof r.details_url === 'string' ? r.details_url : null,
    output: { title: (out?.title as string) ?? null, summary: (out?.summary as string) ?? null, text: (out?.text as string) ?? null },
    startedAt: typeof r.started_at === 'string' ? r.started_at : now,
    completedAt: status === 'completed' ? (typeof r.completed_at === 'string' ? r.completed_at : now) : null,
  });
  return { status: 201, body: checkRunJson(ctx.apiUrl, run) };
}

function releaseJson(apiUrl: string, r: SimRelease): Record<string, unknown> {
  return {
    id: r.id,
    url: `${apiUrl}/repos/${r.owner}/${r.repo}/releases/${r.id}`,
    html_url: `https://github.com/${r.owner}/${r.repo}/releases/tag/${r.tagName}`,
    tag_name: r.tagName,
    target_commitish: 'main',
    name: r.tagName,
    draft: false,
    prerelease: false,
    created_at: r.publishedAt,
    published_at: r.publishedAt,
    assets: [],
  };
}

export function createRoutes(): Route[] {
  return [
    compile(ROUTES.createAccessToken, 'jwt', (ctx) => {
      // Only the App's own installations: another App's installation id is 404 to it, as on GitHub.
      const inst = ctx.state.installationById(Number(ctx.params.installation_id));
      if (!inst || inst.appId !== ctx.identity.appId) return notFound();
      const t = ctx.state.issueToken(inst.id);
      return {
        status: 201,
        body: {
          token: t.token,
          expires_at: new Date(t.expiresAtMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          permissions: { organization_self_hosted_runners: 'write', administration: 'write', actions: 'write', checks: 'write', metadata: 'read' },
          repository_selection: inst.repositories ? 'selected' : 'all',
        },
      };
    }),
    compile(ROUTES.orgInstallation, 'jwt', (ctx) => {
      const inst = ctx.state.installationFor(ctx.params.org!, undefined, ctx.identity.appId);
      return inst ? { status: 200, body: installationJson(ctx, inst.id, ctx.params.org!, inst.accountType ?? 'Organization') } : notFound();
    }),
    compile(ROUTES.repoInstallation, 'jwt', (ctx) => {
      const inst = ctx.state.installationFor(ctx.params.owner!, ctx.params.repo!, ctx.identity.appId);
      return inst ? { status: 200, body: installationJson(ctx, inst.id, ctx.params.owner!, inst.accountType ?? 'Organization') } : notFound();
    }),
    compile(ROUTES.orgJitConfig, 'token', generateJit),
    compile(ROUTES.repoJitConfig, 'token', generateJit),
    ...([ROUTES.orgRunners, ROUTES.repoRunners] as const).map((id) =>
      compile(id, 'token', (ctx) => {
        const scope = scopeOf(ctx.params);
        if (!inScope(ctx, scope)) return notFound();
        // GitHub filters by exact `name` when given (the list endpoint's `name` parameter).
        const name = ctx.query.get('name');
        const all = ctx.state.runnersIn(scope).filter((r) => name === null || r.name === name);
        const path = scope.kind === 'org' ? `/orgs/${scope.org}` : `/repos/${scope.owner}/${scope.repo}`;
        const { items, headers } = paginate(all, ctx.query, `${ctx.apiUrl}${path}/actions/runners`);
        return { status: 200, body: { total_count: all.length, runners: items.map(runnerJson) }, headers };
      }),
    ),
    ...([ROUTES.orgRunner, ROUTES.repoRunner] as const).map((id) =>
      compile(id, 'token', (ctx) => {
        const runner = findRunner(ctx);
        return runner ? { status: 200, body: runnerJson(runner) } : notFound();
      }),
    ),
    ...([ROUTES.deleteOrgRunner, ROUTES.deleteRepoRunner] as const).map((id) =>
      compile(id, 'token', (ctx) => {
        const runner = findRunner(ctx);
        if (!runner) return notFound();
        if (runner.busy) return { status: 422, body: errorBody(`Bad request - Runner "${runner.name}" is still running a job"`, 422) };
        ctx.state.runners.delete(runner.id);
        return { status: 204 };
      }),
    ),
    compile(ROUTES.job, 'token', (ctx) => {
      const job = findJob(ctx);
      return job ? { status: 200, body: jobJson(ctx.apiUrl, job) } : notFound();
    }),
    compile(ROUTES.rerunJob, 'token', (ctx) => {
      const job = findJob(ctx);
      if (!job) return notFound();
      const next = ctx.state.rerunJob(job.id);
      if (next === 'not_completed') return { status: 403, body: errorBody('This job cannot be rerun while it is queued or in progress.', 403) };
      ctx.jobChanged(next, 'queued');
      return { status: 201, body: {} };
    }),
    compile(ROUTES.runs, 'token', (ctx) => {
      const { owner, repo } = ctx.params as { owner: string; repo: string };
      if (!ctx.state.covers(installationOf(ctx), owner, repo)) return notFound();
      const status = ctx.query.get('status');
      const runs = ctx.state.runs(owner, repo).filter((r) => !status || r.status === status);
      const { items, headers } = paginate(runs, ctx.query, `${ctx.apiUrl}/repos/${owner}/${repo}/actions/runs`);
      const repoApi = `${ctx.apiUrl}/repos/${owner}/${repo}`;
      return {
        status: 200,
        headers,
        body: {
          total_count: runs.length,
          workflow_runs: items.map((r) => ({
            id: r.id,
            name: r.jobs[0]?.workflowName ?? 'CI',
            head_branch: r.jobs[0]?.headBranch ?? 'main',
            head_sha: r.jobs[0]?.headSha ?? '',
            event: 'push',
            status: r.status,
            conclusion: r.status === 'completed' ? (r.jobs.every((j) => j.conclusion === 'success') ? 'success' : 'failure') : null,
            run_attempt: r.runAttempt,
            url: `${repoApi}/actions/runs/${r.id}`,
            jobs_url: `${repoApi}/actions/runs/${r.id}/jobs`,
            html_url: `https://github.com/${owner}/${repo}/actions/runs/${r.id}`,
            created_at: r.jobs[0]?.createdAt,
          })),
        },
      };
    }),
    compile(ROUTES.runJobs, 'token', (ctx) => {
      const { owner, repo } = ctx.params as { owner: string; repo: string };
      if (!ctx.state.covers(installationOf(ctx), owner, repo)) return notFound();
      const runId = Number(ctx.params.run_id);
      const all = [...ctx.state.jobs.values()].filter((j) => j.runId === runId && j.owner.toLowerCase() === owner.toLowerCase());
      if (all.length === 0) return notFound();
      const latest = Math.max(...all.map((j) => j.runAttempt));
      const jobs = (ctx.query.get('filter') === 'all' ? all : all.filter((j) => j.runAttempt === latest)).sort((a, b) => a.id - b.id);
      const { items, headers } = paginate(jobs, ctx.query, `${ctx.apiUrl}/repos/${owner}/${repo}/actions/runs/${runId}/jobs`);
      return { status: 200, headers, body: { total_count: jobs.length, jobs: items.map((j) => jobJson(ctx.apiUrl, j)) } };
    }),
    compile(ROUTES.hookDeliveries, 'jwt', (ctx) => {
      const perPage = Math.min(100, Math.max(1, Number(ctx.query.get('per_page') ?? 30) || 30));
      const cursor = /^v1_(\d+)$/.exec(ctx.query.get('cursor') ?? '');
      const after = cursor ? Number(cursor[1]) : Infinity;
      const rest = ctx.state.deliveriesNewestFirst().filter((d) => d.id < after);
      const items = rest.slice(0, perPage);
      const headers: Record<string, string> = {};
      if (rest.length > perPage) {
        headers.link = `<${ctx.apiUrl}/app/hook/deliveries?per_page=${perPage}&cursor=v1_${items.at(-1)!.id}>; rel="next"`;
      }
      return { status: 200, headers, body: items.map(deliveryJson) };
    }),
    compile(ROUTES.createCheckRun, 'token', createCheckRun),
    compile(ROUTES.checkRun, 'token', (ctx) => {
      const { owner, repo } = ctx.params as { owner: string; repo: string };
      if (!ctx.state.covers(installationOf(ctx), owner, repo)) return notFound();
      const run = ctx.state.checkRuns.find((c) => c.id === Number(ctx.params.check_run_id) && c.owner === owner && c.repo === repo);
      return run ? { status: 200, body: checkRunJson(ctx.apiUrl, run) } : notFound();
    }),
    // Releases of a public repository (actions/runner) are readable with any installation token.
    compile(ROUTES.latestRelease, 'token', (ctx) => {
      const release = ctx.state.latestRelease(ctx.params.owner!, ctx.params.repo!);
      return release ? { status: 200, body: releaseJson(ctx.apiUrl, release) } : notFound();
    }),
    compile(ROUTES.releaseByTag, 'token', (ctx) => {
      const release = ctx.state.releases.find(
        (r) => r.owner.toLowerCase() === ctx.params.owner!.toLowerCase() && r.repo.toLowerCase() === ctx.params.repo!.toLowerCase() && r.tagName === ctx.params.tag,
      );
      return release ? { status: 200, body: releaseJson(ctx.apiUrl, release) } : notFound();
    }),
    compile(ROUTES.cancelRun, 'token', (ctx) => {
      const { owner, repo } = ctx.params as { owner: string; repo: string };
      if (!ctx.state.covers(installationOf(ctx), owner, repo)) return notFound();
      const run = ctx.state.runs(owner, repo).find((r) => r.id === Number(ctx.params.run_id));
      if (!run) return notFound();
      if (run.status === 'completed') return { status: 409, body: errorBody('Cannot cancel a workflow run that is completed.', 409) };
      for (const j of run.jobs) if (j.status !== 'completed') ctx.state.completeJob(j.id, 'cancelled');
      return { status: 202, body: {} };
    }),
    compile(ROUTES.installations, 'jwt', (ctx) => {
      const all = ctx.state.installationList(ctx.identity.appId);
      const { items, headers } = paginate(all, ctx.query, `${ctx.apiUrl}/app/installations`);
      return { status: 200, headers, body: items.map((i) => installationJson(ctx, i.id, i.account, i.accountType ?? 'Organization')) };
    }),
    compile(ROUTES.redeliver, 'jwt', (ctx) => {
      const delivery = ctx.state.deliveries.find((d) => d.id === Number(ctx.params.delivery_id));
      if (!delivery) return notFound();
      ctx.redeliver(delivery);
      return { status: 202, body: {} };
    }),
  ];
}
