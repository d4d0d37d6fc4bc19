import type { WorkflowJobEvent as OctokitWorkflowJobEvent } from '@octokit/webhooks-types';
import { z } from 'zod';

/**
 * The parts of a `workflow_job` delivery runs-fleet acts on, validated once here;
 * everything downstream trusts this type. @octokit/webhooks-types describes the whole
 * payload but only at compile time: a delivery is bytes from the network, so zod still
 * checks it at the edge, and the type check below keeps the two in step.
 */
const WorkflowJobPayload = z.object({
  action: z.string(),
  workflow_job: z.object({
    id: z.number().int().positive(),
    run_id: z.number().int().positive(),
    run_attempt: z.number().int().positive().default(1),
    labels: z.array(z.string()),
    status: z.string().optional(),
    conclusion: z.string().nullable().optional(),
    name: z.string().nullable().optional(),
    workflow_name: z.string().nullable().optional(),
    runner_id: z.number().nullable().optional(),
    runner_name: z.string().nullable().optional(),
    started_at: z.string().nullable().optional(),
    completed_at: z.string().nullable().optional(),
    head_sha: z.string().nullable().optional(),
  }),
  repository: z.object({
    full_name: z.string().regex(/^[^/]+\/[^/]+$/),
    name: z.string(),
    owner: z.object({ login: z.string(), type: z.string().optional() }),
  }),
  organization: z.object({ login: z.string() }).nullable().optional(),
  installation: z.object({ id: z.number().int().positive() }).nullable().optional(),
});

/**
 * Compile-time check: every payload octokit's types call a `workflow_job` event (queued,
 * in_progress, completed, waiting) is one this schema accepts, so the schema asks for
 * nothing GitHub does not send. A field renamed upstream fails `tsc` here.
 */
type AcceptsEveryOctokitPayload = OctokitWorkflowJobEvent extends z.input<typeof WorkflowJobPayload> ? true : false;
const acceptsEveryOctokitPayload: AcceptsEveryOctokitPayload = true;
void acceptsEveryOctokitPayload;

export interface WorkflowJobEvent {
  action: string;
  jobId: number;
  runId: number;
  runAttempt: number;
  labels: string[];
  status: string | undefined;
  conclusion: string | undefined;
  jobName: string | undefined;
  workflowName: string | undefined;
  runnerId: number | undefined;
  runnerName: string | undefined;
  startedAt: string | undefined;
  completedAt: string | undefined;
  /** The commit the job runs on: where a check run telling the author about the job goes. */
  headSha: string | undefined;
  repository: string;
  owner: string;
  repo: string;
  org: string | undefined;
  installationId: number | undefined;
}

export type ParsedPayload = { ok: true; event: WorkflowJobEvent } | { ok: false; problems: string[] };

export function parseWorkflowJob(body: unknown): ParsedPayload {
  const r = WorkflowJobPayload.safeParse(body);
  if (!r.success) return { ok: false, problems: r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) };
  const p = r.data;
  const j = p.workflow_job;
  return {
    ok: true,
    event: {
      action: p.action,
      jobId: j.id,
      runId: j.run_id,
      runAttempt: j.run_attempt,
      labels: j.labels,
      status: j.status,
      conclusion: j.conclusion ?? undefined,
      jobName: j.name ?? undefined,
      workflowName: j.workflow_name ?? undefined,
      runnerId: j.runner_id ?? undefined,
      runnerName: j.runner_name ?? undefined,
      startedAt: j.started_at ?? undefined,
      completedAt: j.completed_at ?? undefined,
      headSha: j.head_sha ?? undefined,
      repository: p.repository.full_name,
      owner: p.repository.owner.login,
      repo: p.repository.name,
      org: p.organization?.login ?? undefined,
      installationId: p.installation?.id ?? undefined,
    },
  };
}
