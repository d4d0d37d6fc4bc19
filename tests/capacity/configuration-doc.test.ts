import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runnerAllotment } from '../../runtime/capacity/runner-size.ts';
import { buildClassPodTemplate } from '../../runtime/k8s/pod-template.ts';
import { loadStackDocument } from '../../sim/stack-document.ts';

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const STACKS = ['Pulumi.dev.yaml', 'Pulumi.prod-existing-vpc.yaml'];
const share = (s: { cpuMilli: number; memoryMiB: number }) => `${s.cpuMilli}m / ${s.memoryMiB} MiB`;

/** The "What a runner gets" table of docs/configuration.md, row by row. */
function docRows(): string[][] {
  const text = readFileSync(root('docs/configuration.md'), 'utf8');
  const section = text.slice(text.indexOf('### What a runner gets'), text.indexOf('### How a pool is sized'));
  return section.split('\n').filter((l) => /^\| `Pulumi\./.test(l)).map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
}

describe('docs/configuration.md "What a runner gets"', () => {
  it('lists every class of both shipped stacks with what the sizing computes and the pod template carries', () => {
    const want: string[][] = [];
    for (const file of STACKS) {
      const { doc } = loadStackDocument(root(file));
      for (const cls of doc.classes) {
        const a = runnerAllotment(cls);
        // The numbers are the ones the rendered pod template really requests, not only the module's.
        const spec = buildClassPodTemplate(cls, doc.runner).spec!;
        const runner = spec.containers[0]!.resources!.requests!;
        const dind = spec.initContainers![0]!.resources!.requests!;
        assert.deepEqual(spec.resources!.limits, { cpu: `${a.pod.cpuMilli}m`, memory: `${a.pod.memoryMiB}Mi` });
        assert.deepEqual([runner.cpu, runner.memory, dind.cpu, dind.memory], [`${a.runner.cpuMilli}m`, `${a.runner.memoryMiB}Mi`, `${a.dind.cpuMilli}m`, `${a.dind.memoryMiB}Mi`]);
        want.push([
          `\`${file}\``, `\`${cls.name}\``, `${cls.cpu} vCPU / ${cls.memoryGiB} GiB`, a.instanceTypes.join(', '),
          share(a.node), share(a.pod), share(a.runner), share(a.dind),
        ]);
      }
    }
    assert.deepEqual(docRows(), want);
  });
});
