import assert from 'node:assert/strict';
import { planImageWarming, type WarmingNode, type WarmingPod } from '../../runtime/controllers/image-warming/plan.ts';

describe('image-warming plan (when a runner node may take runners)', () => {
  const now = 1_000_000;
  const node = (name: string, o: Partial<WarmingNode> = {}): WarmingNode => ({ name, tainted: true, readySince: now - 60_000, ...o });
  const ph = (nodeName: string, o: Partial<WarmingPod> = {}): WarmingPod => ({ nodeName, ready: false, terminating: false, ...o });
  // A pending placeholder has no nodeName.

  it('opens a node once a placeholder on it is Ready (its pre-pull ran the runner image)', () => {
    assert.deepEqual(planImageWarming([node('a')], [ph('a', { ready: true }), ph('a')], now), [{ node: 'a', reason: 'image_pulled' }]);
  });

  it('keeps a node tainted while its placeholders are still pulling', () => {
    assert.deepEqual(planImageWarming([node('a')], [ph('a'), ph('a')], now), []);
  });

  it('opens a node no placeholder warms at once when none is pending (a cold start must not wait)', () => {
    assert.deepEqual(planImageWarming([node('a', { readySince: now })], [ph('b', { ready: true })], now, 5_000), [{ node: 'a', reason: 'no_placeholder' }]);
  });

  it('with placeholders pending, waits the grace in which the scheduler would bind them there', () => {
    const pending = { ready: false, terminating: false };
    assert.deepEqual(planImageWarming([node('a', { readySince: now - 4_999 })], [pending], now, 5_000), []);
    assert.deepEqual(planImageWarming([node('a', { readySince: now - 5_000 })], [pending], now, 5_000), [{ node: 'a', reason: 'no_placeholder' }]);
  });

  it('does not count a terminating placeholder as warming the node', () => {
    assert.deepEqual(planImageWarming([node('a')], [ph('a', { terminating: true })], now), [{ node: 'a', reason: 'no_placeholder' }]);
    assert.deepEqual(planImageWarming([node('a')], [ph('a', { terminating: true, ready: true })], now), [{ node: 'a', reason: 'no_placeholder' }], 'gone, so its Ready is not evidence');
  });

  it('leaves untainted and not-Ready nodes alone, and judges each node by its own placeholders', () => {
    const nodes = [node('done', { tainted: false }), node('booting', { readySince: undefined }), node('a'), node('b')];
    const pods = [ph('done', { ready: true }), ph('booting', { ready: true }), ph('a', { ready: true }), ph('b')];
    assert.deepEqual(planImageWarming(nodes, pods, now), [{ node: 'a', reason: 'image_pulled' }]);
  });

  it('opens the warming nodes furthest along for runners that have nowhere better to go, one per runner and class', () => {
    const nodes = [
      node('late', { class: 'c4', readySince: now - 10_000 }),
      node('early', { class: 'c4', readySince: now - 50_000 }),
      node('mid', { class: 'c4', readySince: now - 30_000 }),
      node('other', { class: 'c8', readySince: now - 90_000 }),
    ];
    const pulling = [ph('late'), ph('early'), ph('mid'), ph('other')];
    assert.deepEqual(planImageWarming(nodes, pulling, now, 5_000, {}), [], 'no runner waiting: all stay held for their placeholders');
    assert.deepEqual(planImageWarming(nodes, pulling, now, 5_000, { c4: 2 }), [
      { node: 'early', reason: 'runner_waiting' },
      { node: 'mid', reason: 'runner_waiting' },
    ]);
  });

  it('counts a node opened for its own reasons against the waiting runners of its class', () => {
    const nodes = [node('warm', { class: 'c4' }), node('pulling', { class: 'c4' })];
    assert.deepEqual(planImageWarming(nodes, [ph('warm', { ready: true }), ph('pulling')], now, 5_000, { c4: 1 }), [{ node: 'warm', reason: 'image_pulled' }]);
    assert.deepEqual(planImageWarming(nodes, [ph('warm', { ready: true }), ph('pulling')], now, 5_000, { c4: 2 }), [
      { node: 'warm', reason: 'image_pulled' },
      { node: 'pulling', reason: 'runner_waiting' },
    ]);
  });
  describe('with the image pre-pull DaemonSet (a pod pulling the image on every runner node)', () => {
    const pre = (nodeName: string, o: Partial<WarmingPod> = {}): WarmingPod => ({ nodeName, ready: false, terminating: false, prePull: true, ...o });

    it('a node launched for runners opens once its pre-pull pod is Ready, not at once', () => {
      assert.deepEqual(planImageWarming([node('a', { readySince: now })], [pre('a')], now), [], 'pulling: held');
      assert.deepEqual(planImageWarming([node('a', { readySince: now })], [pre('a', { ready: true })], now), [{ node: 'a', reason: 'image_pulled' }]);
    });

    it('a runner with nowhere to go does not open a node whose pull is under way: it would wait for the same pull there', () => {
      const nodes = [node('a', { class: 'c4', readySince: now - 30_000 })];
      assert.deepEqual(planImageWarming(nodes, [pre('a'), ph('a')], now, 5_000, { c4: 1 }), []);
    });

    it('a pull that runs past the hold stops holding the node from a waiting runner', () => {
      const nodes = [node('a', { class: 'c4', readySince: now - 180_000 })];
      assert.deepEqual(planImageWarming(nodes, [pre('a')], now, 5_000, { c4: 1 }, 180_000), [{ node: 'a', reason: 'runner_waiting' }]);
      assert.deepEqual(planImageWarming(nodes, [pre('a')], now, 5_000, { c4: 1 }, 180_001), []);
    });

    it('a pre-pull pod not yet bound is not a pending placeholder: a node without pods still opens at once', () => {
      assert.deepEqual(planImageWarming([node('a', { readySince: now })], [{ ready: false, terminating: false, prePull: true }], now, 5_000), [{ node: 'a', reason: 'no_placeholder' }]);
    });
  });
});
