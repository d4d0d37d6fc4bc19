import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { priorityClasses } from '../../infra/runner-guardrails.ts';
import { parseConfigText } from '../../runtime/config/load-document.ts';
import { RunnerSettings } from '../../runtime/config/document.ts';
import { classPlacement } from '../../runtime/k8s/pod-template.ts';
import { NODE_CLASS_LABEL, RUNNER_TAINT } from '../../runtime/k8s/labels.ts';
import { validateAliases } from '../../runtime/labels/validate.ts';
import { REPO_ROOT } from '../../sim/local.ts';

const doc = readFileSync(join(REPO_ROOT, 'docs', 'local-and-kind.md'), 'utf8');
const blocks = (lang: string) => [...doc.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);

describe('docs/local-and-kind.md matches the code', () => {
  const yamlBlocks = blocks('yaml');
  const config = yamlBlocks.find((b) => b.includes('classes:'))!;
  const kindDoc = parseConfigText(config, 'kind-config.yaml');

  it('its kind config document is valid, aliases included', () => {
    assert.equal(kindDoc.classes.length, 1);
    assert.deepEqual(validateAliases(kindDoc), []);
  });

  it('the node label and taint it applies are the ones runner pods select and tolerate', () => {
    const cls = kindDoc.classes[0]!;
    const placement = classPlacement(cls);
    const sh = blocks('sh').join('\n');
    assert.match(sh, new RegExp(`kubectl label node \\S+ ${NODE_CLASS_LABEL}=${cls.name}`));
    assert.equal(placement.nodeSelector[NODE_CLASS_LABEL], cls.name);
    assert.match(sh, new RegExp(`kubectl taint node \\S+ ${RUNNER_TAINT.key}=${RUNNER_TAINT.value}:${RUNNER_TAINT.effect}`));
  });

  it('its PriorityClasses and ServiceAccount are what the program and the pod template use', () => {
    const manifest = blocks('sh').find((b) => b.includes('kind: PriorityClass'))!;
    const body = /<<'EOF'\n([\s\S]*?)\nEOF/.exec(manifest)![1]!;
    const objects = parseAllDocuments(body).map((d) => d.toJSON() as Record<string, any>);
    const want = priorityClasses(RunnerSettings.parse({}));
    for (const pc of Object.values(want)) {
      const got = objects.find((o) => o.kind === 'PriorityClass' && o.metadata.name === pc.metadata.name);
      assert.ok(got, `PriorityClass ${pc.metadata.name} is on the page`);
      assert.equal(got!.value, pc.value);
      assert.equal(got!.preemptionPolicy, pc.preemptionPolicy);
    }
    const sa = objects.find((o) => o.kind === 'ServiceAccount');
    assert.equal(sa?.metadata.name, RunnerSettings.parse({}).serviceAccountName);
  });
});
