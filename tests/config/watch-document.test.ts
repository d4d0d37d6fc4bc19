import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { ConfigDocument } from '../../runtime/config/document.ts';
import { loadConfigDocument } from '../../runtime/config/load-document.ts';
import { createConfigReloadMetrics, watchConfigDocument, type ConfigWatcher } from '../../runtime/config/watch-document.ts';
import { createRegistry } from '../../runtime/metrics/registry.ts';
import { ConfigError } from '../../runtime/util/errors.ts';
import { ManualClock, until } from '../warm-pool/support/manual-clock.ts';

const classYaml = `classes:
  - name: 4cpu-linux-arm64
    arch: arm64
    cpu: 4
    memoryGiB: 16
    diskGiB: 50
    instanceFamilies: [c7g]
    nodePoolCpuLimit: 100
`;
const docYaml = (min: number, max = 10) => `${classYaml}pools:
  - name: default
    class: 4cpu-linux-arm64
    min: ${min}
    max: ${max}
`;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runs-fleet-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function reloads(registry: Registry, result: string): Promise<number> {
  const metric = await registry.getSingleMetric('runs_fleet_config_reloads_total')!.get();
  return metric.values.find((v) => v.labels.result === result)?.value ?? 0;
}

describe('loadConfigDocument', () => {
  it('reads YAML and JSON, by extension or by content', async () => {
    await writeFile(join(dir, 'a.yaml'), docYaml(2));
    await writeFile(join(dir, 'b.json'), JSON.stringify({ classes: [{ name: 'c', arch: 'amd64', cpu: 2, memoryGiB: 4, diskGiB: 20, instanceFamilies: ['m7i'], nodePoolCpuLimit: 8 }] }));
    await writeFile(join(dir, 'config'), '{"classes":[{"name":"c","arch":"amd64","cpu":2,"memoryGiB":4,"diskGiB":20,"instanceFamilies":["m7i"],"nodePoolCpuLimit":8}]}');
    assert.equal(loadConfigDocument(join(dir, 'a.yaml')).pools[0]!.min, 2);
    assert.equal(loadConfigDocument(join(dir, 'b.json')).classes[0]!.arch, 'amd64');
    assert.equal(loadConfigDocument(join(dir, 'config')).classes[0]!.name, 'c');
  });

  it('names the file and every problem by path', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, docYaml(6, 4).replace('diskGiB: 50', 'diskGiB: 5'));
    assert.throws(() => loadConfigDocument(file), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems.map((p) => p.split(' ')[0]), [`${file}:`, `${file}:`]);
      assert.match(err.problems.join('\n'), new RegExp(`${file}: classes\\[0\\]\\.diskGiB`));
      assert.match(err.problems.join('\n'), new RegExp(`${file}: pools\\[0\\]\\.max must be ≥ min \\(4 < 6\\)`));
      return true;
    });
  });

  it('reports syntax errors, duplicate keys, empty and missing files with the file name', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['syntax.yaml', 'classes: [\n  - a\n', /syntax\.yaml: invalid YAML/],
      ['dupe.yaml', `${classYaml}classes: []\n`, /dupe\.yaml: invalid YAML at line \d+/],
      ['broken.json', '{"classes": [', /broken\.json: invalid JSON/],
      ['empty.yaml', '  \n', /empty\.yaml: is empty/],
    ];
    for (const [name, text, want] of cases) {
      await writeFile(join(dir, name), text);
      assert.throws(() => loadConfigDocument(join(dir, name)), want);
    }
    assert.throws(() => loadConfigDocument(join(dir, 'nope.yaml')), /nope\.yaml: cannot read the config document \(ENOENT\)/);
  });
});

describe('watchConfigDocument', () => {
  const watchers: ConfigWatcher[] = [];
  afterEach(async () => {
    await Promise.all(watchers.splice(0).map((w) => w.stop()));
  });

  function watch(path: string, clock = new ManualClock()) {
    const registry = createRegistry();
    const watcher = watchConfigDocument({ path, clock, intervalMs: 1_000, metrics: createConfigReloadMetrics(registry) });
    watchers.push(watcher);
    const seen: Array<{ doc: ConfigDocument; previous: ConfigDocument }> = [];
    watcher.subscribe((doc, previous) => void seen.push({ doc, previous }));
    return { watcher, registry, seen, clock };
  }

  it('refuses to start on a bad document', async () => {
    const file = join(dir, 'config.yaml');
    await writeFile(file, docYaml(6, 4));
    assert.throws(() => watchConfigDocument({ path: file, clock: new ManualClock() }), /config\.yaml: pools\[0\]\.max/);
  });

  it('applies an edited file and tells subscribers the new and previous documents', async () => {
    const file = join(dir, 'config.yaml');
    await writeFile(file, docYaml(1));
    const { watcher, seen } = watch(file);
    assert.equal(await watcher.poll(), false, 'nothing changed yet');
    await writeFile(file, docYaml(3));
    assert.equal(await watcher.poll(), true);
    assert.equal(watcher.current().pools[0]!.min, 3);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.previous.pools[0]!.min, 1);
    assert.equal(seen[0]!.doc.pools[0]!.min, 3);
  });

  it('does not notify when the file is rewritten with the same content', async () => {
    const file = join(dir, 'config.yaml');
    await writeFile(file, docYaml(1));
    const { watcher, seen } = watch(file);
    await unlink(file);
    await writeFile(file, docYaml(1)); // new inode, same bytes
    assert.equal(await watcher.poll(), false);
    assert.equal(seen.length, 0);
  });

  it('follows a ConfigMap volume update (..data symlink swapped to a new directory)', async () => {
    const mount = join(dir, 'mount');
    await mkdir(join(mount, '..2025_01_06_12_00_00.1'), { recursive: true });
    await writeFile(join(mount, '..2025_01_06_12_00_00.1', 'config.yaml'), docYaml(1));
    await symlink('..2025_01_06_12_00_00.1', join(mount, '..data'));
    await symlink('..data/config.yaml', join(mount, 'config.yaml'));
    const { watcher, seen } = watch(join(mount, 'config.yaml'));
    assert.equal(watcher.current().pools[0]!.min, 1);

    // What the kubelet's AtomicWriter does: write a new timestamped dir, point ..data_tmp at it,
    // rename over ..data (atomic), then remove the old dir. The file path itself never changes.
    await mkdir(join(mount, '..2025_01_06_12_01_00.2'));
    await writeFile(join(mount, '..2025_01_06_12_01_00.2', 'config.yaml'), docYaml(4));
    await symlink('..2025_01_06_12_01_00.2', join(mount, '..data_tmp'));
    await rename(join(mount, '..data_tmp'), join(mount, '..data'));
    await rm(join(mount, '..2025_01_06_12_00_00.1'), { recursive: true });

    assert.equal(await watcher.poll(), true);
    assert.equal(watcher.current().pools[0]!.min, 4);
    assert.deepEqual(seen.map((s) => s.doc.pools[0]!.min), [4]);
  });

  it('keeps the last good document on a bad edit, reports it once, and recovers', async () => {
    const file = join(dir, 'config.yaml');
    await writeFile(file, docYaml(2));
    const { watcher, registry, seen } = watch(file);
    await writeFile(file, docYaml(6, 4));
    assert.equal(await watcher.poll(), false);
    await writeFile(file, docYaml(6, 4) + '\n'); // still bad, different bytes: same problems, not re-counted
    assert.equal(await watcher.poll(), false);
    assert.equal(watcher.current().pools[0]!.min, 2);
    assert.equal(await reloads(registry, 'invalid'), 1);
    assert.equal((await registry.getSingleMetric('runs_fleet_config_last_reload_ok')!.get()).values[0]!.value, 0);

    await writeFile(file, docYaml(5));
    assert.equal(await watcher.poll(), true);
    assert.equal(watcher.current().pools[0]!.min, 5);
    assert.equal(await reloads(registry, 'applied'), 1);
    assert.equal((await registry.getSingleMetric('runs_fleet_config_last_reload_ok')!.get()).values[0]!.value, 1);
    assert.equal(seen.length, 1);
  });

  it('keeps the document while the file is missing, and reloads when it returns', async () => {
    const file = join(dir, 'config.yaml');
    await writeFile(file, docYaml(2));
    const { watcher, registry } = watch(file);
    await unlink(file);
    assert.equal(await watcher.poll(), false);
    assert.equal(await watcher.poll(), false);
    assert.equal(await reloads(registry, 'unreadable'), 1);
    assert.equal(watcher.current().pools[0]!.min, 2);
    await writeFile(file, docYaml(7));
    assert.equal(await watcher.poll(), true);
    assert.equal(watcher.current().pools[0]!.min, 7);
  });

  it('a failing subscriber does not stop the others', async () => {
    const file = join(dir, 'config.yaml');
    await writeFile(file, docYaml(1));
    const { watcher, seen } = watch(file);
    watcher.subscribe(() => {
      throw new Error('boom');
    });
    const late: number[] = [];
    const unsubscribe = watcher.subscribe((doc) => void late.push(doc.pools[0]!.min));
    await writeFile(file, docYaml(2));
    await watcher.poll();
    unsubscribe();
    await writeFile(file, docYaml(3));
    await watcher.poll();
    assert.deepEqual(seen.map((s) => s.doc.pools[0]!.min), [2, 3]);
    assert.deepEqual(late, [2]);
  });

  it('polls on the injected clock and stops', async () => {
    const file = join(dir, 'config.yaml');
    await writeFile(file, docYaml(1));
    const clock = new ManualClock();
    const { watcher, seen } = watch(file, clock);
    await until(() => clock.waiting === 1, 'the loop to sleep');
    await writeFile(file, docYaml(2));
    await clock.advance(999);
    assert.equal(seen.length, 0, 'no poll before the interval');
    await clock.advance(1);
    await until(() => seen.length === 1, 'the timed poll to apply the edit');
    assert.equal(watcher.current().pools[0]!.min, 2);

    await watcher.stop();
    await watcher.stop();
    assert.equal(clock.waiting, 0, 'the loop no longer sleeps');
    await writeFile(file, docYaml(3));
    await clock.advance(5_000);
    assert.equal(watcher.current().pools[0]!.min, 2);
  });
});
