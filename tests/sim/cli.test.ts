import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = ['--import', 'tsx', 'sim/cli.ts'];

function run(args: string[]) {
  return spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
}

describe('npm run sim (sim/cli.ts)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sim-cli-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints usage for --help and refuses to start without --kubeconfig', () => {
    const help = run(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Usage: npm run sim -- --kubeconfig FILE/);
    const missing = run([]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--kubeconfig FILE is required/);
    const badConfig = join(dir, 'bad.yaml');
    writeFileSync(badConfig, 'classes: []\n');
    const bad = run(['--kubeconfig', join(dir, 'kc'), '--config', badConfig]);
    assert.equal(bad.status, 2, 'a bad config document is a usage error, as in every command');
    assert.match(bad.stderr, /classes must define at least one runner class/);
  });

  it('serves a cluster from a config document, writes a kubeconfig client-node and kubectl accept, and exits 0 on SIGTERM', async () => {
    const kubeconfig = join(dir, 'kubeconfig');
    const config = join(dir, 'config.yaml');
    writeFileSync(config, 'classes:\n  - {name: arm64-4cpu, arch: arm64, cpu: 4, memoryGiB: 8, diskGiB: 50, instanceFamilies: [c7g], nodePoolCpuLimit: 16}\n');
    const child = spawn(process.execPath, [...CLI, '--kubeconfig', kubeconfig, '--config', config], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await waitFor(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(out), () => out);
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(kubeconfig);
      const core = kc.makeApiClient(k8s.CoreV1Api);
      const nodes = await core.listNode();
      // The default system node group: 2 × m7g.large (infra/config.ts cluster.systemNodes).
      assert.deepEqual(nodes.items.map((n) => [n.metadata!.labels!['karpenter.sh/nodepool'], n.metadata!.labels!['node.kubernetes.io/instance-type']]), [['system', 'm7g.large'], ['system', 'm7g.large']]);
      const pcs = await kc.makeApiClient(k8s.SchedulingV1Api).listPriorityClass();
      assert.ok(pcs.items.some((p) => p.metadata!.name === 'runs-fleet-placeholder' && p.value === -10));
      if (spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0) {
        const k = spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'get', 'nodes', '-o', 'name'], { encoding: 'utf8', timeout: 20_000 });
        assert.equal(k.status, 0, k.stderr);
        assert.match(k.stdout, /^node\/system-/);
      }
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    assert.match(out, /stopped/);
  });
});

async function waitFor(ok: () => boolean, show: () => string): Promise<void> {
  const start = Date.now();
  while (!ok()) {
    if (Date.now() - start > 15_000) throw new Error(`the CLI did not start:\n${show()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
