import diagnostics from 'node:diagnostics_channel';

/**
 * Where a job is on its way from webhook to runner Job, published on a Node diagnostics
 * channel (as undici publishes its requests): a profiler, an APM agent or a benchmark
 * subscribes to see each stage with sub-millisecond times; with no subscriber a stage
 * costs one `hasSubscribers` check. The job records keep whole-millisecond stamps; these
 * are for finding where a millisecond goes.
 *
 * - `received`: the ingress started on the delivery
 * - `checked`: body read, signature verified, payload parsed and checked
 * - `enqueuing`: labels resolved, the Lua step that stores the job is called
 * - `provisioning`: a consumer took the job (handed over by that step, or read from the stream)
 * - `jit_issued`: the JIT runner config came back (rate-limit reservation, token, the call)
 * - `objects_sent`: the Secret and Job POSTs are going out
 */
export type JobStage = 'received' | 'checked' | 'enqueuing' | 'provisioning' | 'jit_issued' | 'objects_sent';

export interface JobStageEvent {
  jobId: number;
  runAttempt: number;
  stage: JobStage;
  /** Epoch ms at performance.now()'s resolution. */
  at: number;
}

export const JOB_STAGE_CHANNEL = 'runs-fleet:job-stage';
const channel = diagnostics.channel(JOB_STAGE_CHANNEL);

/** The time a stage is stamped with, for a stage published later (the job id is not known yet). */
export const stageNow = (): number => performance.timeOrigin + performance.now();

export function jobStage(jobId: number, runAttempt: number, stage: JobStage, at?: number): void {
  if (channel.hasSubscribers) channel.publish({ jobId, runAttempt, stage, at: at ?? stageNow() } satisfies JobStageEvent);
}
