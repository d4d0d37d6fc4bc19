import assert from 'node:assert/strict';
import { request } from 'undici';
import { createAppJwt, loadAppPrivateKey } from '../../runtime/github/app-jwt.ts';
import { ROUTES, startGitHubDouble, type GitHubDouble } from '../../sim/github/double.ts';

/** The double's check runs, releases, runners by name, held requests and lost replies, over raw HTTP. */
describe('sim/github double: check runs, releases, runners by name, holds (raw HTTP)', () => {
  let double: GitHubDouble;
  beforeEach(async () => {
    double = await startGitHubDouble();
  });
  afterEach(() => double.stop());

  async function call(method: string, path: string, auth: string, body?: unknown) {
    const res = await request(`${double.url}${path}`, {
      method: method as 'GET', headers: { authorization: `Bearer ${auth}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, json: text ? JSON.parse(text) : undefined };
  }
  const jwt = () => createAppJwt(loadAppPrivateKey(double.privateKeyPem), double.appId, Date.now());
  const token = async () => (await call('POST', '/app/installations/1/access_tokens', await jwt())).json.token as string;

  it('creates check runs as GitHub does: 201, completed with a conclusion, 422 for a missing field or an unknown commit', async () => {
    const job = double.queueJob({ owner: 'acme', repo: 'app', labels: ['self-hosted'] });
    const t = await token();
    const body = { name: 'runs-fleet: build', head_sha: job.headSha, conclusion: 'action_required', output: { title: 'No runner', summary: 'why' } };
    const created = await call('POST', '/repos/acme/app/check-runs', t, body);
    assert.equal(created.status, 201);
    assert.deepEqual([created.json.status, created.json.conclusion, created.json.head_sha, created.json.output.title], ['completed', 'action_required', job.headSha, 'No runner']);
    assert.equal((await call('GET', `/repos/acme/app/check-runs/${created.json.id}`, t)).json.name, 'runs-fleet: build');
    assert.equal((await call('POST', '/repos/acme/app/check-runs', t, { ...body, head_sha: undefined })).status, 422);
    assert.match((await call('POST', '/repos/acme/app/check-runs', t, { ...body, head_sha: 'f'.repeat(40) })).json.message, /No commit found for SHA/);
    assert.equal((await call('POST', '/repos/acme/app/check-runs', t, { ...body, conclusion: 'bogus' })).status, 422);
    assert.equal((await call('POST', '/repos/acme/app/check-runs', t, { ...body, output: { title: 'x', summary: 'y'.repeat(65_536) } })).status, 422);
    assert.equal(double.checkRuns().length, 1);
  });

  it('serves the latest release (404 before any) and a release by tag', async () => {
    const t = await token();
    assert.equal((await call('GET', '/repos/actions/runner/releases/latest', t)).status, 404);
    double.publishRelease('actions', 'runner', 'v2.336.0', new Date('2026-07-20T17:42:20Z'));
    double.publishRelease('actions', 'runner', 'v2.337.0', new Date('2026-08-20T00:00:00Z'));
    const latest = await call('GET', '/repos/actions/runner/releases/latest', t);
    assert.deepEqual([latest.status, latest.json.tag_name, latest.json.published_at], [200, 'v2.337.0', '2026-08-20T00:00:00Z']);
    assert.equal((await call('GET', '/repos/actions/runner/releases/tags/v2.336.0', t)).json.published_at, '2026-07-20T17:42:20Z');
    assert.equal((await call('GET', '/repos/actions/runner/releases/tags/v9.9.9', t)).status, 404);
    assert.deepEqual((await call('GET', '/app/installations', await jwt())).json.map((i: { id: number }) => i.id), [1]);
  });

  it('filters runners by exact name, holds a call until released, and can drop a reply after acting', async () => {
    const t = await token();
    const jit = (name: string) => call('POST', '/orgs/acme/actions/runners/generate-jitconfig', t, { name, runner_group_id: 1, labels: ['x'] });
    await jit('rf-a-1-1');
    await jit('rf-a-1-10');
    const byName = await call('GET', '/orgs/acme/actions/runners?name=rf-a-1-1', t);
    assert.deepEqual([byName.json.total_count, byName.json.runners[0].name], [1, 'rf-a-1-1']);

    const held = double.hold(ROUTES.orgJitConfig);
    const pending = jit('rf-held');
    await held.arrived;
    assert.equal(double.findRunner('rf-held'), undefined, 'nothing happens while held');
    held.release();
    assert.equal((await pending).status, 201);

    double.inject(ROUTES.orgJitConfig, { kind: 'drop-reply' });
    await assert.rejects(jit('rf-lost'), /other side closed|socket|closed/i);
    assert.ok(double.findRunner('rf-lost'), 'the runner was registered although the reply was lost');
    assert.equal((await jit('rf-lost')).status, 409);
  });
});
