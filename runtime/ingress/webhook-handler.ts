import type { IncomingMessage } from 'node:http';
import { echo, echoLabels } from '../labels/bounds.ts';
import { LabelError } from '../labels/errors.ts';
import type { Logger } from '../log.ts';
import type { EnqueueResult, QueuedJob } from '../queue/types.ts';
import type { Clock } from '../util/clock.ts';
import { jobStage, stageNow } from '../util/job-stages.ts';
import type { IngressMetrics } from './metrics.ts';
import { parseWorkflowJob, type WorkflowJobEvent } from './payload.ts';
import { BodyTooLargeError, readRawBody } from './read-raw-body.ts';
import { verifySignature } from './verify-signature.ts';

export const MAX_BODY_BYTES = 1024 * 1024;
const REQUIRED_HEADERS = ['x-github-event', 'x-github-delivery', 'x-hub-signature-256'] as const;

export interface WebhookDeps {
  /** The current secret first, then the previous one during a rotation. */
  secrets: () => readonly string[];
  /**
   * Parses runs-on labels and checks them against the runner classes: a request for
   * runs-fleet, null when the job is not ours; throws an error with a `reason` for a
   * job that is ours but cannot be served (bad label, unknown class, beyond every class).
   */
  classify: (labels: string[]) => unknown;
  /** A job refused by classify: record it (awaited, before the answer) and tell its author. */
  onRejected?: (job: WorkflowJobEvent, err: LabelError) => Promise<void>;
  enqueue: (job: QueuedJob) => Promise<EnqueueResult>;
  /** in_progress / completed events for jobs that may be ours (records, cancellation cleanup). */
  onJobEvent?: (event: WorkflowJobEvent, deliveryId: string) => Promise<void>;
  clock: Clock;
  log: Logger;
  metrics: IngressMetrics;
}

export interface WebhookResponse {
  status: number;
  body: Record<string, unknown>;
  outcome: string;
}

const reply = (status: number, outcome: string, body: Record<string, unknown>): WebhookResponse => ({ status, outcome, body });

/**
 * The webhook policy, in a fixed order, each check with its own status:
 * content type (415) → required headers (400) → body size (413) → signature (401, no side
 * effect) → event type (202, ignored) → JSON and payload shape (400) → act. A job is
 * answered 2xx only once it is stored; when Valkey cannot store it the answer is 503,
 * so GitHub records a failed delivery that can be redelivered.
 */
export async function handleWebhook(req: IncomingMessage, deps: WebhookDeps): Promise<WebhookResponse> {
  const receivedAt = deps.clock.now();
  const startedAt = stageNow();
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    req.resume();
    return reply(415, 'unsupported_media_type', { error: 'Content-Type must be application/json: set the webhook content type to JSON in the GitHub App settings' });
  }
  if (!req.headers['x-hub-signature-256'] && req.headers['x-hub-signature']) {
    // A sha1-only delivery: SHA-1 signatures are not accepted, so it is unauthenticated, not malformed.
    req.resume();
    return reply(401, 'bad_signature', { error: 'only X-Hub-Signature-256 (HMAC-SHA256) is accepted; X-Hub-Signature (SHA-1) alone is refused' });
  }
  const missing = REQUIRED_HEADERS.filter((h) => !req.headers[h]);
  if (missing.length) {
    req.resume();
    return reply(400, 'missing_headers', { error: `missing required headers: ${missing.join(', ')}` });
  }
  let raw: Buffer;
  try {
    raw = await readRawBody(req, MAX_BODY_BYTES);
  } catch (err) {
    if (err instanceof BodyTooLargeError) return reply(413, 'too_large', { error: `body exceeds ${MAX_BODY_BYTES} bytes` });
    throw err;
  }
  const verified = await verifySignature(raw, header(req, 'x-hub-signature-256'), deps.secrets());
  if (!verified)
    return reply(401, 'bad_signature', { error: 'signature does not match: check that the webhook secret matches RUNS_FLEET_WEBHOOK_SECRET' });

  const event = header(req, 'x-github-event');
  const deliveryId = header(req, 'x-github-delivery')!;
  if (event !== 'workflow_job') return reply(202, 'ignored_event', { status: 'ignored', reason: `event ${event} is not acted on` });

  let body: unknown;
  try {
    body = JSON.parse(verified.body);
  } catch {
    return reply(400, 'bad_json', { error: 'body is not valid JSON' });
  }
  const parsed = parseWorkflowJob(body);
  if (!parsed.ok) return reply(400, 'bad_payload', { error: 'not a workflow_job payload', problems: parsed.problems.slice(0, 10) });
  const job = parsed.event;
  if (job.action === 'queued') {
    jobStage(job.jobId, job.runAttempt, 'received', startedAt);
    jobStage(job.jobId, job.runAttempt, 'checked');
  }
  deps.metrics.jobsReceived.inc({ action: job.action });
  const log = deps.log.child({ deliveryId, jobId: job.jobId, runAttempt: job.runAttempt, repository: job.repository });

  if (job.action === 'queued') return onQueued(job, deliveryId, receivedAt, deps, log);
  if (deps.onJobEvent && (job.action === 'in_progress' || job.action === 'completed')) {
    try {
      await deps.onJobEvent(job, deliveryId);
    } catch (err) {
      log.error({ err }, 'could not record job event');
      return reply(503, 'store_unavailable', { error: 'could not record the event; redeliver later' });
    }
    return reply(202, 'recorded', { status: 'recorded' });
  }
  return reply(202, 'ignored_action', { status: 'ignored', reason: `action ${job.action} is not acted on` });
}

async function onQueued(job: WorkflowJobEvent, deliveryId: string, receivedAt: number, deps: WebhookDeps, log: Logger): Promise<WebhookResponse> {
  let request: unknown;
  try {
    request = deps.classify(job.labels);
  } catch (err) {
    const reason = typeof (err as { reason?: unknown }).reason === 'string' ? (err as { reason: string }).reason : undefined;
    if (!reason) throw err;
    // A bad label is the workflow author's error: answer 2xx so GitHub does not redeliver it,
    // and say why in the record, the log, the metric and (onRejected) a check run. Every echo
    // of the labels is bounded: they are workflow text of any length.
    const message = echo((err as Error).message, 1_000);
    if (deps.onRejected && err instanceof LabelError) {
      try {
        await deps.onRejected(job, err);
      } catch (e) {
        log.error({ err: { message: (e as Error).message } }, 'could not record a rejected job');
        return reply(503, 'store_unavailable', { error: 'could not record the rejection; redeliver later' });
      }
    }
    deps.metrics.jobsRejected.inc({ reason });
    log.warn({ reason, labels: echoLabels(job.labels), problem: message }, 'job rejected: runs-fleet cannot serve its runs-on label');
    return reply(202, 'rejected', { status: 'rejected', reason, message });
  }
  if (request === null || request === undefined) return reply(202, 'not_ours', { status: 'ignored', reason: 'no runs-fleet label' });
  if (job.installationId === undefined)
    return reply(400, 'no_installation', { error: 'payload has no installation id: deliver webhooks from the GitHub App, not a repository or organisation hook' });

  const queued: QueuedJob = {
    jobId: job.jobId, runId: job.runId, runAttempt: job.runAttempt, repository: job.repository, owner: job.owner,
    repo: job.repo, org: job.org, installationId: job.installationId, labels: job.labels, request, deliveryId,
    workflowName: job.workflowName, jobName: job.jobName, receivedAt, enqueuedAt: deps.clock.now(),
    ...(job.headSha && { headSha: job.headSha }),
  };
  let result: EnqueueResult;
  try {
    jobStage(job.jobId, job.runAttempt, 'enqueuing');
    result = await deps.enqueue(queued);
  } catch (err) {
    log.error({ err: { message: (err as Error).message, name: (err as Error).name } }, 'job not stored: Valkey unavailable');
    return reply(503, 'store_unavailable', { error: 'the job could not be stored; GitHub will show a failed delivery that can be redelivered' });
  }
  if (result.status === 'duplicate') {
    deps.metrics.jobsDuplicate.inc();
    log.info('duplicate delivery of a stored job');
    return reply(202, 'duplicate', { status: 'duplicate' });
  }
  deps.metrics.jobsEnqueued.inc();
  log.info({ entryId: result.id }, 'job enqueued');
  return reply(202, 'enqueued', { status: 'enqueued', entryId: result.id });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
