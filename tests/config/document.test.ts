import assert from 'node:assert/strict';
import { parseConfigDocument } from '../../runtime/config/document.ts';
import { ConfigError } from '../../runtime/util/errors.ts';

const cls = (name: string, cpu = 4) => ({
  name, arch: 'arm64', cpu, memoryGiB: cpu * 4, diskGiB: 50, instanceFamilies: ['c7g'], nodePoolCpuLimit: 100,
});

describe('config document', () => {
  it('applies defaults to a minimal document', () => {
    const doc = parseConfigDocument({ classes: [cls('4cpu-linux-arm64')] });
    assert.equal(doc.runner.scope, 'org');
    assert.equal(doc.runner.runnerGroupId, 1);
    assert.deepEqual(doc.classes[0]!.capacityTypes, ['spot', 'on-demand']);
    assert.equal(doc.classes[0]!.maxDurationMinutes, 360);
    assert.deepEqual(doc.pools, []);
  });

  it('lists every problem by path', () => {
    const bad = {
      runner: { image: 'ghcr.io/actions/actions-runner:latest' },
      classes: [cls('a'), cls('a'), { ...cls('B_bad'), cpu: 0 }],
      pools: [
        { name: 'p', class: 'a', min: 6, max: 4 },
        { name: 'q', class: 'nope', min: 0, max: 1, schedules: [{ start: '25:00', end: '08:00', timeZone: 'Mars/Base', min: 3 }] },
      ],
    };
    assert.throws(() => parseConfigDocument(bad, 'doc:'), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const text = err.problems.join('\n');
      for (const want of [
        'doc:runner.image must be pinned',
        'doc:classes[2].name must be a DNS label',
        'doc:classes[2].cpu',
        'doc:pools[0].max must be ≥ min (4 < 6)',
        'doc:pools[1].schedules[0].start must be a 24-hour time',
        'doc:pools[1].schedules[0].timeZone must be an IANA time zone',
      ]) assert.ok(text.includes(want), `missing "${want}" in:\n${text}`);
      return true;
    });
  });

  it('rejects duplicate classes and pools that name unknown classes', () => {
    assert.throws(
      () => parseConfigDocument({ classes: [cls('a'), cls('a')], pools: [{ name: 'p', class: 'zz', min: 0, max: 1 }] }),
      /classes\[1\]\.name duplicates class "a"[\s\S]*pools\[0\]\.class names unknown class "zz"/,
    );
  });
});
