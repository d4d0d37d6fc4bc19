import { jsonEqual } from '../api/equal.ts';
import { errors } from '../api/errors.ts';
import type { Admission } from '../api/registry.ts';
import { resource } from '../api/resources.ts';
import { labelSelectorMatcher } from '../api/selectors.ts';
import { defaultPodSpec, validatePodSpec } from './pod-spec.ts';

const jobsT = resource('jobs');
const deploymentsT = resource('deployments');

export const JOB_LABELS = {
  controllerUid: 'batch.kubernetes.io/controller-uid',
  jobName: 'batch.kubernetes.io/job-name',
  legacyControllerUid: 'controller-uid',
  legacyJobName: 'job-name',
} as const;

export const jobAdmission: Admission = {
  create(job) {
    const spec = job.spec;
    if (!spec?.template) throw errors.invalid(jobsT, job.metadata.name, [{ field: 'spec.template', message: 'Required value' }]);
    const causes = validatePodSpec(spec.template.spec, 'spec.template.spec', ['OnFailure', 'Never']);
    if (!spec.template.spec?.restartPolicy)
      causes.push({ field: 'spec.template.spec.restartPolicy', message: 'Required value: valid values: "OnFailure", "Never"' });
    if (causes.length) throw errors.invalid(jobsT, job.metadata.name, causes);
    defaultPodSpec(spec.template.spec);
    spec.parallelism ??= 1;
    spec.completions ??= spec.parallelism === 1 ? 1 : spec.completions;
    spec.backoffLimit ??= 6;
    spec.completionMode ??= 'NonIndexed';
    spec.suspend ??= false;
    spec.podReplacementPolicy ??= 'TerminatingOrFailed';
    spec.manualSelector ??= undefined;
    const uid = job.metadata.uid;
    const name = job.metadata.name;
    const generated = {
      [JOB_LABELS.controllerUid]: uid,
      [JOB_LABELS.jobName]: name,
      [JOB_LABELS.legacyControllerUid]: uid,
      [JOB_LABELS.legacyJobName]: name,
    };
    spec.template.metadata = { ...(spec.template.metadata ?? {}), labels: { ...(spec.template.metadata?.labels ?? {}), ...generated } };
    spec.selector = { matchLabels: { [JOB_LABELS.controllerUid]: uid } };
    if (!job.metadata.labels || Object.keys(job.metadata.labels).length === 0) job.metadata.labels = { ...spec.template.metadata.labels };
  },
  update(next, old) {
    if (!jsonEqual(next.spec?.selector, old.spec?.selector))
      throw errors.invalid(jobsT, old.metadata.name, [{ field: 'spec.selector', message: 'Invalid value: field is immutable' }]);
  },
};

export const deploymentAdmission: Admission = {
  create(d) {
    const spec = d.spec;
    const causes: { field: string; message: string }[] = [];
    if (!spec?.selector) causes.push({ field: 'spec.selector', message: 'Required value' });
    if (!spec?.template) causes.push({ field: 'spec.template', message: 'Required value' });
    else {
      causes.push(...validatePodSpec(spec.template.spec, 'spec.template.spec', ['Always']));
      if (spec.selector && !labelSelectorMatcher(spec.selector)(spec.template.metadata?.labels ?? {}))
        causes.push({ field: 'spec.template.metadata.labels', message: 'Invalid value: `selector` does not match template `labels`' });
    }
    if (causes.length) throw errors.invalid(deploymentsT, d.metadata.name, causes);
    defaultPodSpec(spec.template.spec);
    spec.replicas ??= 1;
    spec.strategy ??= { type: 'RollingUpdate' };
    if (spec.strategy.type === 'RollingUpdate') spec.strategy.rollingUpdate ??= { maxUnavailable: '25%', maxSurge: '25%' };
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
  },
  update(next, old) {
    if (!jsonEqual(next.spec?.selector, old.spec?.selector))
      throw errors.invalid(deploymentsT, old.metadata.name, [{ field: 'spec.selector', message: 'Invalid value: field is immutable' }]);
    if (next.spec?.template?.spec && next.spec.template.spec !== old.spec?.template?.spec) defaultPodSpec(next.spec.template.spec);
  },
};
