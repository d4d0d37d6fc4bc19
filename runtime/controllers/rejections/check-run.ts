import type { ConfigDocument } from '../../config/document.ts';
import { echo, echoLabels } from '../../labels/bounds.ts';
import type { LabelError } from '../../labels/errors.ts';

/** What a check run tells the workflow author about a job runs-fleet will not serve. */
export interface CheckRunText {
  name: string;
  title: string;
  summary: string;
}

export interface RejectedJobView {
  jobName: string | undefined;
  labels: readonly string[];
}

/** GitHub caps a check run's output.summary at 65535 characters; ours stays far below. */
const MAX_SUMMARY = 8_000;
const MAX_CLASSES_LISTED = 30;

/** Fix text by reason, for the reasons whose detail does not already say what to do. */
const FIXES: Partial<Record<LabelError['reason'], string>> = {
  unknown_class: 'Use one of the classes below in `runner=`, or ask the runs-fleet operator to add the class to the config document.',
  no_matching_class: 'Ask for less (`cpu=`, `ram=`, `disk=`, `arch=`, `family=`), name a class below with `runner=`, or ask the operator for a larger class.',
  impossible_size: 'Ask for less, or name a larger class below with `runner=`.',
  oversize_disk: 'Ask for a smaller `disk=`, or name a class below with a larger disk.',
  label_too_long: 'Shorten the runs-fleet label in `runs-on`; it only needs the keys you set, e.g. `runs-fleet/runner=<class>`.',
  too_many_labels: 'A runner carries at most 100 labels: remove labels from `runs-on`.',
};
const GENERIC_FIX = 'Correct the runs-fleet label in `runs-on` (grammar: docs/labels.md), then re-run the job.';

/**
 * The check run for a rejected job: titled with the job's name, its summary giving the
 * label, the reason, the fix and the classes this deployment knows. Every echo of
 * workflow text is bounded, so the check run stays small whatever the labels hold. Pure.
 */
export function rejectionCheckRun(job: RejectedJobView, err: LabelError, doc: ConfigDocument): CheckRunText {
  const jobName = echo(job.jobName ?? 'job', 80);
  const classes = doc.classes.slice(0, MAX_CLASSES_LISTED).map(
    (c) => `| \`${c.name}\` | ${c.cpu} | ${c.memoryGiB} | ${c.arch} | ${c.instanceFamilies.join(', ')} |`,
  );
  const more = doc.classes.length > MAX_CLASSES_LISTED ? [`\n…and ${doc.classes.length - MAX_CLASSES_LISTED} more classes.`] : [];
  const summary = [
    `runs-fleet cannot start a runner for **${jobName}**, so this job would wait for a runner until GitHub times it out.`,
    '',
    `- **Label:** \`${err.label}\``,
    `- **Reason:** \`${err.reason}\` — ${err.detail}`,
    `- **Fix:** ${FIXES[err.reason] ?? GENERIC_FIX}`,
    '',
    `The job's runs-on labels: ${echoLabels(job.labels).map((l) => `\`${l}\``).join(', ')}`,
    '',
    '**Runner classes of this deployment**',
    '',
    '| class | vCPU | memory GiB | arch | instance families |',
    '| --- | --- | --- | --- | --- |',
    ...classes,
    ...more,
  ].join('\n');
  return {
    name: echo(`runs-fleet: ${jobName}`, 100),
    title: echo(`No runner for ${jobName}: ${err.reason}`, 120),
    summary: summary.length > MAX_SUMMARY ? `${summary.slice(0, MAX_SUMMARY)}\n…` : summary,
  };
}
