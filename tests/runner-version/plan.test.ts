import assert from 'node:assert/strict';
import { compareVersions, imageRunnerVersion, imageWithVersion } from '../../runtime/config/runner-release.ts';
import { planRunnerVersion, type RunnerVersionObserved } from '../../runtime/controllers/runner-version/plan.ts';

const IMAGE = 'ghcr.io/actions/actions-runner:2.336.0';
const observed = (o: Partial<RunnerVersionObserved> = {}): RunnerVersionObserved => ({
  follow: true, image: IMAGE, latest: undefined, candidatePrepulled: false, now: 1_000_000, maxPrepullWaitMs: 60_000, ...o,
});

describe('runner version decision (pure)', () => {
  it('reads and rewrites versions in image references', () => {
    assert.equal(imageRunnerVersion(IMAGE), '2.336.0');
    assert.equal(imageRunnerVersion('registry:5000/actions-runner:v2.330.1-ubuntu-24.04@sha256:abc'), '2.330.1');
    assert.equal(imageRunnerVersion('registry:5000/actions-runner@sha256:abc'), undefined);
    assert.equal(imageRunnerVersion('mirror/runner:stable'), undefined);
    assert.equal(imageWithVersion('registry:5000/r/actions-runner:2.336.0@sha256:abc', 'v2.337.0'), 'registry:5000/r/actions-runner:2.337.0');
    assert.ok(compareVersions('2.329.0', '2.328.9') > 0 && compareVersions('2.99.0', '2.100.0') < 0 && compareVersions('v2.1.0', '2.1.0') === 0);
  });

  it('pinned: the image as written, whatever GitHub published', () => {
    const p = planRunnerVersion({ inUse: '2.340.0' }, observed({ follow: false, latest: '2.340.0' }));
    assert.deepEqual([p.runnerImage, p.prepullImage, p.state], [IMAGE, IMAGE, {}]);
  });

  it('a newer release is pre-pulled first; runners switch only once the placeholders have it', () => {
    const seen = planRunnerVersion({}, observed({ latest: '2.337.0', candidatePrepulled: true }));
    assert.equal(seen.runnerImage, IMAGE, 'not on the pass that first sees it');
    assert.equal(seen.prepullImage, 'ghcr.io/actions/actions-runner:2.337.0');
    assert.deepEqual(seen.state, { inUse: '2.336.0', candidate: '2.337.0', candidateSince: 1_000_000 });

    const rolling = planRunnerVersion(seen.state, observed({ latest: '2.337.0', now: 1_010_000 }));
    assert.equal(rolling.runnerImage, IMAGE);
    assert.equal(rolling.switchedTo, undefined);

    const done = planRunnerVersion(rolling.state, observed({ latest: '2.337.0', now: 1_020_000, candidatePrepulled: true }));
    assert.deepEqual([done.runnerImage, done.prepullImage, done.switchedTo, done.switchReason],
      ['ghcr.io/actions/actions-runner:2.337.0', 'ghcr.io/actions/actions-runner:2.337.0', '2.337.0', 'prepulled']);
    assert.deepEqual(done.state, { inUse: '2.337.0' });
  });

  it('switches anyway when the pre-pull cannot finish within the wait', () => {
    const p = planRunnerVersion({ inUse: '2.336.0', candidate: '2.337.0', candidateSince: 0 }, observed({ latest: '2.337.0', now: 60_000 }));
    assert.deepEqual([p.switchedTo, p.switchReason], ['2.337.0', 'prepull_timeout']);
  });

  it('never goes back, and a newer release replaces a candidate still rolling out', () => {
    assert.equal(planRunnerVersion({ inUse: '2.337.0' }, observed({ latest: '2.336.5' })).runnerImage, 'ghcr.io/actions/actions-runner:2.337.0');
    const p = planRunnerVersion({ inUse: '2.336.0', candidate: '2.337.0', candidateSince: 5 }, observed({ latest: '2.338.0' }));
    assert.deepEqual(p.state, { inUse: '2.336.0', candidate: '2.338.0', candidateSince: 1_000_000 });
  });

  it('an operator raising the pinned image past the version in use takes effect at once', () => {
    const p = planRunnerVersion({ inUse: '2.336.0', candidate: '2.337.0', candidateSince: 5 }, observed({ image: 'ghcr.io/actions/actions-runner:2.338.0' }));
    assert.deepEqual([p.runnerImage, p.state], ['ghcr.io/actions/actions-runner:2.338.0', { inUse: '2.338.0' }]);
  });
});
