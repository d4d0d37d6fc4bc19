import type { PolicyConfigSchema, ResourceValidationPolicy } from '@pulumi/policy';
import { compareVersions, imageRunnerVersion, MIN_RUNNER_VERSION, parseVersion } from '../runtime/config/runner-release.ts';
import { RUNNER_CONTAINER } from '../runtime/k8s/labels.ts';
import { describe, onType, settings } from './lib/define.ts';
import { documentJson, isConfigDocumentMap, podSubjects } from './lib/config-document.ts';
import { asArray, TYPE, type Json } from './lib/types.ts';

/**
 * GitHub refuses to register a runner older than 2.329.0 (runtime/config/runner-release.ts),
 * so a runner image pinned below it makes every job wait until it times out. Checked on
 * every pod the config document produces that runs the runner image: each class's runner
 * container, and each placeholder's pre-pull of it (a placeholder pre-pulling an old image
 * is wasted, and names the image new runners will use).
 */

const schema: PolicyConfigSchema = {
  properties: {
    minRunnerVersion: {
      type: 'string', default: MIN_RUNNER_VERSION, pattern: '^v?\\d+\\.\\d+\\.\\d+$',
      description: 'The oldest actions/runner version a pinned runner image may have (GitHub registers 2.329.0 or later).',
    },
  },
};

/** The containers that run the runner image: the runner itself and a placeholder's pre-pull of it. */
const RUNNER_IMAGE_CONTAINERS = new Set([RUNNER_CONTAINER, `prepull-${RUNNER_CONTAINER}`]);

function oldImages(spec: Json, floor: string): string[] {
  const containers = [...asArray(spec.initContainers), ...asArray(spec.containers)];
  return containers.flatMap((c) => {
    if (!RUNNER_IMAGE_CONTAINERS.has(String(c?.name)) || typeof c?.image !== 'string') return [];
    const version = imageRunnerVersion(c.image);
    return version && compareVersions(version, floor) < 0 ? [`container "${c.name}" uses image "${c.image}" (runner ${version}, older than ${floor})`] : [];
  });
}

export const runnerImageFloor: ResourceValidationPolicy = {
  name: 'runner-image-floor',
  description: 'A runner image pinned to a version is at least the floor (2.329.0: GitHub registers no older runner).',
  enforcementLevel: 'mandatory',
  severity: 'high',
  configSchema: schema,
  validateResource: onType(TYPE.configMap, (props, args, report) => {
    if (!isConfigDocumentMap(props)) return args.notApplicable('not the runs-fleet config document');
    const read = documentJson(props);
    // An unreadable document is reported by the runner-pods policies; nothing to add here.
    if (!read.ok) return;
    const { minRunnerVersion: floor } = settings<{ minRunnerVersion: string }>(args, schema);
    if (!parseVersion(floor)) {
      report(`runner-image-floor: minRunnerVersion "${floor}" is not a version. Fix: set it to a runner release such as ${MIN_RUNNER_VERSION} in the policy pack config.`);
      return;
    }
    const label = describe('ConfigMap', props, args.name);
    for (const subject of podSubjects(read.raw)) {
      const problems = oldImages(subject.spec, floor);
      if (problems.length)
        report(`${label}: ${subject.what}: ${problems.join('; ')}; GitHub would refuse to register it, so every job would wait for a runner. ` +
          `Fix: set runs-fleet:runner.image to a current release, e.g. ghcr.io/actions/actions-runner:<latest from github.com/actions/runner/releases>, or runs-fleet:runner.version to latest.`);
    }
  }),
};

export const runnerImagePolicies = [runnerImageFloor];
