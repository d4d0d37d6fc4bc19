import assert from 'node:assert/strict';
import { jsonEqual } from '../../sim/k8s/api/equal.ts';
import { jsonPatch, mergePatch } from '../../sim/k8s/api/patch.ts';
import { resource } from '../../sim/k8s/api/resources.ts';
import { labelSelectorMatcher, parseFieldSelector, parseLabelSelector } from '../../sim/k8s/api/selectors.ts';
import { cpuMilli, bytes } from '../../runtime/capacity/quantity.ts';

describe('sim/k8s API building blocks', () => {
  it('matches label selectors like the API server', () => {
    const l = { app: 'runner', tier: 'ci', 'runs-fleet.io/class': 'arm64' };
    const yes = ['app=runner', 'app==runner', 'app!=web', 'tier in (ci, cd)', 'tier notin (web)', 'app,!missing', 'runs-fleet.io/class=arm64', 'app=runner,tier=ci', ''];
    const no = ['app=web', 'app!=runner', 'tier in (web)', 'missing', '!app', 'app=runner,tier=cd'];
    for (const s of yes) assert.equal(parseLabelSelector(s)(l), true, s);
    for (const s of no) assert.equal(parseLabelSelector(s)(l), false, s);
    assert.equal(parseLabelSelector('missing notin (x)')(l), true, 'notin matches an absent key');
    assert.throws(() => parseLabelSelector('a in b'), /unable to parse requirement/);
    const m = labelSelectorMatcher({ matchLabels: { app: 'runner' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['ci'] }] });
    assert.equal(m(l), true);
    assert.equal(m({ app: 'runner' }), false);
  });

  it('matches field selectors and refuses unsupported fields', () => {
    const pods = resource('pods');
    const pod = { metadata: { name: 'p', namespace: 'n' }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } };
    assert.equal(parseFieldSelector('spec.nodeName=n1,status.phase!=Failed', pods)(pod), true);
    assert.equal(parseFieldSelector('metadata.namespace==other', pods)(pod), false);
    assert.equal(parseFieldSelector('spec.nodeName=', pods)({ metadata: { name: 'q' } }), true, 'an empty value matches an unset field');
    assert.throws(() => parseFieldSelector('spec.hostname=x', pods), /field label not supported: spec.hostname/);
  });

  it('applies RFC 6902 JSON patches and RFC 7386 merge patches without touching the input', () => {
    const doc = { metadata: { labels: { 'a/b': '1' } }, list: [1, 2, 3] };
    const out = jsonPatch(doc, [
      { op: 'add', path: '/list/-', value: 4 },
      { op: 'remove', path: '/list/0' },
      { op: 'replace', path: '/metadata/labels/a~1b', value: '2' },
      { op: 'copy', from: '/list/0', path: '/first' },
      { op: 'move', from: '/first', path: '/moved' },
      { op: 'test', path: '/moved', value: 2 },
    ]);
    assert.deepEqual(out, { metadata: { labels: { 'a/b': '2' } }, list: [2, 3, 4], moved: 2 });
    assert.deepEqual(doc.list, [1, 2, 3]);
    assert.throws(() => jsonPatch(doc, [{ op: 'replace', path: '/nope', value: 1 }]), /missing path/);
    assert.deepEqual(mergePatch({ a: { b: 1, c: 2 }, l: [1] }, { a: { b: null, d: 3 }, l: [2] }), { a: { c: 2, d: 3 }, l: [2] });
  });

  it('compares objects semantically and parses quantities', () => {
    assert.equal(jsonEqual({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1, d: undefined }), true);
    assert.equal(jsonEqual({ a: [1, 2] }, { a: [2, 1] }), false);
    assert.deepEqual(['250m', '1', '1.5', '2000m', '0.1'].map(cpuMilli), [250, 1000, 1500, 2000, 100]);
    assert.deepEqual(['512Mi', '1Gi', '1G', '1e3', '128974848'].map(bytes), [536870912, 1073741824, 1e9, 1000, 128974848]);
  });
});
