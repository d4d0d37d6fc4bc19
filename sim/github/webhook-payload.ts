import { createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

/**
 * Real-shaped `workflow_job` webhooks for the ingress tests and the demo. The base is
 * a payload GitHub actually sent (@octokit/webhooks-examples, `workflow_job` example 6:
 * a queued self-hosted job delivered to an App installation); only the fields a job
 * defines are replaced, so every other field keeps GitHub's real shape.
 */

export type WorkflowJobAction = 'queued' | 'waiting' | 'in_progress' | 'completed';
export type WorkflowJobStatus = 'queued' | 'waiting' | 'in_progress' | 'completed';
export type WorkflowJobConclusion =
  | 'success' | 'failure' | 'cancelled' | 'skipped' | 'timed_out' | 'action_required' | 'neutral';

/** The job fields a payload is built from (the double's job records carry these). */
export interface WorkflowJobFields {
  id: number;
  runId: number;
  runAttempt: number;
  owner: string;
  repo: string;
  labels: string[];
  /** Defaults to the status the action implies. */
  status?: WorkflowJobStatus;
  conclusion?: WorkflowJobConclusion | null;
  runnerId?: number | null;
  runnerName?: string | null;
  runnerGroupId?: number | null;
  runnerGroupName?: string | null;
  name?: string;
  workflowName?: string;
  headBranch?: string;
  headSha?: string;
  /** ISO timestamps; created/started default to now. */
  createdAt?: string;
  startedAt?: string | null;
  completedAt?: string | null;
  /** `installation.id`; omitted from the payload when null (a repo or org hook, not an App). */
  installationId?: number | null;
  /** `Organization` adds the `organization` object GitHub sends for org-owned repositories. */
  ownerType?: 'Organization' | 'User';
  ownerId?: number;
  repositoryId?: number;
}

export interface SignedWebhook {
  /** Request headers as GitHub sends them (lower-case names). */
  headers: Record<string, string>;
  /** The exact bytes that were signed. */
  body: string;
  /** `X-GitHub-Delivery`. */
  deliveryId: string;
  payload: Record<string, unknown>;
}

const BASE_OWNER = 'lineville';
const BASE_REPO = 'elastic-machines-testing';
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

let cachedBase: string | undefined;

/** Example 6 serialised once; each build parses a fresh copy so callers may mutate theirs. */
function baseExample(): string {
  if (cachedBase) return cachedBase;
  const index = createRequire(import.meta.url)('@octokit/webhooks-examples/api.github.com/index.json') as Array<{
    name: string;
    examples: unknown[];
  }>;
  const example = index.find((e) => e.name === 'workflow_job')?.examples[6];
  if (!example) throw new Error('@octokit/webhooks-examples has no workflow_job example 6; reinstall the pinned devDependency');
  cachedBase = JSON.stringify(example);
  return cachedBase;
}

const statusFor: Record<WorkflowJobAction, WorkflowJobStatus> = {
  queued: 'queued',
  waiting: 'waiting',
  in_progress: 'in_progress',
  completed: 'completed',
};

/** A `workflow_job` payload object for `action`, with the job's fields replaced in the real example. */
export function buildWorkflowJobPayload(action: WorkflowJobAction, job: WorkflowJobFields): Record<string, unknown> {
  for (const [what, value] of [['owner', job.owner], ['repo', job.repo]] as const) {
    if (!SAFE_NAME.test(value)) throw new Error(`webhook payload: ${what} "${value}" is not a GitHub name (letters, digits, ".", "_", "-")`);
  }
  // Renaming by text keeps every URL field (html_url, *_url templates) consistent with the new owner/repo.
  const text = baseExample()
    .replaceAll(`${BASE_OWNER}/${BASE_REPO}`, `${job.owner}/${job.repo}`)
    .replaceAll(BASE_REPO, job.repo)
    .replaceAll(`/${BASE_OWNER}`, `/${job.owner}`)
    .replaceAll(`"login":"${BASE_OWNER}"`, `"login":"${job.owner}"`);
  const payload = JSON.parse(text) as Record<string, any>;
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const status = job.status ?? statusFor[action];

  payload.action = action;
  const wj = payload.workflow_job as Record<string, unknown>;
  const apiRepo = `https://api.github.com/repos/${job.owner}/${job.repo}`;
  Object.assign(wj, {
    id: job.id,
    run_id: job.runId,
    run_attempt: job.runAttempt,
    node_id: `CR_${Buffer.from(`job:${job.id}`).toString('base64url')}`,
    run_url: `${apiRepo}/actions/runs/${job.runId}`,
    url: `${apiRepo}/actions/jobs/${job.id}`,
    html_url: `https://github.com/${job.owner}/${job.repo}/actions/runs/${job.runId}/job/${job.id}`,
    check_run_url: `${apiRepo}/check-runs/${job.id}`,
    status,
    conclusion: job.conclusion ?? null,
    labels: [...job.labels],
    runner_id: job.runnerId ?? null,
    runner_name: job.runnerName ?? null,
    runner_group_id: job.runnerGroupId ?? null,
    runner_group_name: job.runnerGroupName ?? null,
    created_at: job.createdAt ?? now,
    started_at: job.startedAt === undefined ? (job.createdAt ?? now) : job.startedAt,
    completed_at: job.completedAt ?? null,
    steps: [],
    ...(job.name !== undefined && { name: job.name }),
    ...(job.workflowName !== undefined && { workflow_name: job.workflowName }),
    ...(job.headBranch !== undefined && { head_branch: job.headBranch }),
    ...(job.headSha !== undefined && { head_sha: job.headSha }),
  });
  // Example 6 is an environment-gated job; only `waiting` jobs carry a deployment.
  if (action !== 'waiting') delete payload.deployment;

  const repository = payload.repository as Record<string, any>;
  if (job.repositoryId !== undefined) repository.id = job.repositoryId;
  if (job.ownerId !== undefined) repository.owner.id = job.ownerId;
  const ownerType = job.ownerType ?? 'Organization';
  repository.owner.type = ownerType;
  if (ownerType === 'Organization') payload.organization = organizationObject(job.owner, repository.owner.id as number);

  if (job.installationId === null) delete payload.installation;
  else if (job.installationId !== undefined) {
    payload.installation = {
      id: job.installationId,
      node_id: Buffer.from(`04:IntegrationInstallation${job.installationId}`).toString('base64'),
    };
  }
  return payload;
}

function organizationObject(login: string, id: number): Record<string, unknown> {
  const api = `https://api.github.com/orgs/${login}`;
  return {
    login,
    id,
    node_id: Buffer.from(`04:Organization${id}`).toString('base64'),
    url: api,
    repos_url: `${api}/repos`,
    events_url: `${api}/events`,
    hooks_url: `${api}/hooks`,
    issues_url: `${api}/issues`,
    members_url: `${api}/members{/member}`,
    public_members_url: `${api}/public_members{/member}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    description: null,
  };
}

/** `X-Hub-Signature-256` for `body`: `sha256=` + hex HMAC-SHA256 with the webhook secret. */
export function signWebhookBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The headers GitHub sends with a delivery of `event`, signed over `body`. */
export function webhookHeaders(options: {
  event: string;
  deliveryId: string;
  /** Signed as given: a Buffer is HMACed byte for byte (tests send bytes that are not UTF-8). */
  body: string | Buffer;
  secret: string;
  installationId?: number | null;
  hookId?: number;
}): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/044aadd',
    'x-github-event': options.event,
    'x-github-delivery': options.deliveryId,
    'x-github-hook-id': String(options.hookId ?? 1),
    'x-github-hook-installation-target-type': 'integration',
    'x-github-hook-installation-target-id': String(options.installationId ?? 1),
    'x-hub-signature-256': signWebhookBody(options.secret, options.body),
    'x-hub-signature': `sha1=${createHmac('sha1', options.secret).update(options.body).digest('hex')}`,
  };
}

/** A complete signed `workflow_job` delivery: headers, raw body and delivery GUID. */
export function buildSignedWorkflowJobWebhook(options: {
  action: WorkflowJobAction;
  job: WorkflowJobFields;
  secret: string;
  deliveryId?: string;
}): SignedWebhook {
  const payload = buildWorkflowJobPayload(options.action, options.job);
  const body = JSON.stringify(payload);
  const deliveryId = options.deliveryId ?? randomUUID();
  const installation = payload.installation as { id: number } | undefined;
  const headers = webhookHeaders({ event: 'workflow_job', deliveryId, body, secret: options.secret, installationId: installation?.id ?? null });
  return { headers, body, deliveryId, payload };
}
