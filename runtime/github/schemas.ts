import { z } from 'zod';
import { formatIssues } from '../config/issues.ts';
import { PermanentError } from '../util/errors.ts';

/**
 * The parts of GitHub's responses the orchestrator relies on, checked once at the
 * boundary. Unknown fields are dropped; a missing field fails the call with a
 * message naming it (never its value, which may be a token).
 */

const nullableInt = z.number().int().nullable().optional().transform((v) => v ?? null);
const nullableString = z.string().nullable().optional().transform((v) => v ?? null);

export const AccessTokenResponse = z.object({
  token: z.string().min(1),
  expires_at: z.string(),
});

export const InstallationResponse = z.object({ id: z.number().int() });
export const InstallationsPage = z.array(InstallationResponse);

export const JitConfigResponse = z.object({
  runner: z.object({ id: z.number().int(), name: z.string() }),
  encoded_jit_config: z.string().min(1),
});

export const WorkflowJobResponse = z
  .object({
    id: z.number().int(),
    run_id: z.number().int(),
    run_attempt: z.number().int().optional().default(1),
    status: z.string(),
    conclusion: nullableString,
    name: z.string().optional().default(''),
    labels: z.array(z.string()).default([]),
    runner_id: nullableInt,
    runner_name: nullableString,
    runner_group_id: nullableInt,
    created_at: nullableString,
    started_at: nullableString,
    completed_at: nullableString,
    head_branch: nullableString,
    workflow_name: nullableString,
  })
  .transform((j) => ({
    id: j.id,
    runId: j.run_id,
    runAttempt: j.run_attempt,
    status: j.status,
    conclusion: j.conclusion,
    name: j.name,
    labels: j.labels,
    runnerId: j.runner_id,
    runnerName: j.runner_name,
    runnerGroupId: j.runner_group_id,
    createdAt: j.created_at,
    startedAt: j.started_at,
    completedAt: j.completed_at,
    headBranch: j.head_branch,
    workflowName: j.workflow_name,
  }));
export type WorkflowJob = z.output<typeof WorkflowJobResponse>;

export const JobsPage = z.object({ total_count: z.number().int(), jobs: z.array(WorkflowJobResponse) });

export const RunsPage = z.object({
  total_count: z.number().int(),
  workflow_runs: z.array(z.object({ id: z.number().int(), status: nullableString, run_attempt: z.number().int().optional() })),
});

export const RunnerResponse = z
  .object({
    id: z.number().int(),
    name: z.string(),
    os: z.string().optional().default(''),
    status: z.string(),
    busy: z.boolean(),
    ephemeral: z.boolean().optional().default(false),
    runner_group_id: nullableInt,
    labels: z.array(z.object({ name: z.string() })).default([]),
  })
  .transform((r) => ({
    id: r.id,
    name: r.name,
    os: r.os,
    status: r.status,
    busy: r.busy,
    ephemeral: r.ephemeral,
    runnerGroupId: r.runner_group_id,
    labels: r.labels.map((l) => l.name),
  }));
export type Runner = z.output<typeof RunnerResponse>;

export const RunnersPage = z.object({ total_count: z.number().int(), runners: z.array(RunnerResponse) });

export const CheckRunResponse = z.object({ id: z.number().int(), html_url: z.string().nullable().optional() });

/** A release of a repository (actions/runner): its tag and when it was published. */
export const ReleaseResponse = z
  .object({ tag_name: z.string(), published_at: z.string().nullable(), draft: z.boolean().optional(), prerelease: z.boolean().optional() })
  .transform((r) => ({ tagName: r.tag_name, publishedAt: r.published_at, prerelease: r.prerelease ?? false }));
export type Release = z.output<typeof ReleaseResponse>;

export const HookDeliveryResponse = z
  .object({
    id: z.number().int(),
    guid: z.string(),
    delivered_at: z.string(),
    redelivery: z.boolean(),
    duration: z.number().optional().default(0),
    status: z.string(),
    status_code: z.number().int(),
    event: z.string(),
    action: nullableString,
    installation_id: nullableInt,
    repository_id: nullableInt,
  })
  .transform((d) => ({
    id: d.id,
    guid: d.guid,
    deliveredAt: d.delivered_at,
    redelivery: d.redelivery,
    durationS: d.duration,
    status: d.status,
    statusCode: d.status_code,
    event: d.event,
    action: d.action,
    installationId: d.installation_id,
    repositoryId: d.repository_id,
  }));
export type HookDelivery = z.output<typeof HookDeliveryResponse>;

export const HookDeliveriesPage = z.array(HookDeliveryResponse);

/** Parses a response body, or throws PermanentError('github_bad_response') naming the bad fields. */
export function parseResponse<S extends z.ZodType>(schema: S, operation: string, text: string): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PermanentError('github_bad_response', `GitHub ${operation}: the response body is not JSON`);
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    throw new PermanentError('github_bad_response', `GitHub ${operation}: unexpected response: ${formatIssues(result.error).join('; ')}`);
  }
  return result.data;
}
