import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { buildSignedWorkflowJobWebhook, buildWorkflowJobPayload, type WorkflowJobFields } from '../../sim/github/webhook-payload.ts';

const examples = (createRequire(import.meta.url)('@octokit/webhooks-examples/api.github.com/index.json') as Array<{ name: string; examples: any[] }>)
  .find((e) => e.name === 'workflow_job')!.examples;
const example6 = examples[6];

const job: WorkflowJobFields = {
  id: 10_000_000_007,
  runId: 5_000_000_003,
  runAttempt: 2,
  owner: 'acme',
  repo: 'web-app',
  labels: ['self-hosted', 'runs-fleet=5000000003/runner=4cpu-linux-arm64'],
  installationId: 4242,
};

describe('sim/github webhook payloads (from @octokit/webhooks-examples)', () => {
  it('keeps the real example\'s shape and replaces the job\'s fields', () => {
    const p = buildWorkflowJobPayload('queued', job) as any;
    assert.equal(p.action, 'queued');
    assert.deepEqual(Object.keys(p.workflow_job).sort(), Object.keys(example6.workflow_job).sort());
    assert.deepEqual(Object.keys(p.repository).sort(), Object.keys(example6.repository).sort());
    assert.deepEqual(Object.keys(p).sort(), ['action', 'installation', 'organization', 'repository', 'sender', 'workflow_job']);
    const wj = p.workflow_job;
    assert.deepEqual(
      [wj.id, wj.run_id, wj.run_attempt, wj.status, wj.conclusion, wj.runner_name, wj.runner_id],
      [job.id, job.runId, 2, 'queued', null, null, null],
    );
    assert.deepEqual(wj.labels, job.labels);
    assert.equal(wj.url, `https://api.github.com/repos/acme/web-app/actions/jobs/${job.id}`);
    assert.equal(p.repository.full_name, 'acme/web-app');
    assert.equal(p.repository.name, 'web-app');
    assert.equal(p.repository.owner.login, 'acme');
    assert.equal(p.repository.owner.type, 'Organization');
    assert.equal(p.organization.login, 'acme');
    assert.equal(p.installation.id, 4242);
    assert.ok(!JSON.stringify(p).includes('lineville'), 'no trace of the example\'s owner');
    assert.ok(!JSON.stringify(p).includes('elastic-machines-testing'));
  });

  it('in_progress and completed carry the runner and the conclusion', () => {
    const running = buildWorkflowJobPayload('in_progress', { ...job, runnerName: 'rf-1', runnerId: 9, runnerGroupId: 1, runnerGroupName: 'Default' }) as any;
    assert.deepEqual(
      [running.workflow_job.status, running.workflow_job.runner_name, running.workflow_job.runner_id, running.workflow_job.runner_group_name],
      ['in_progress', 'rf-1', 9, 'Default'],
    );
    const done = buildWorkflowJobPayload('completed', { ...job, conclusion: 'cancelled', completedAt: '2026-11-02T10:00:00Z' }) as any;
    assert.deepEqual([done.workflow_job.status, done.workflow_job.conclusion, done.workflow_job.completed_at], ['completed', 'cancelled', '2026-11-02T10:00:00Z']);
  });

  it('a waiting job keeps the deployment; a user-owned repo has no organization; no installation when null', () => {
    const waiting = buildWorkflowJobPayload('waiting', job) as any;
    assert.ok(waiting.deployment);
    const user = buildWorkflowJobPayload('queued', { ...job, ownerType: 'User', installationId: null }) as any;
    assert.equal(user.organization, undefined);
    assert.equal(user.repository.owner.type, 'User');
    assert.equal(user.installation, undefined);
  });

  it('each build is independent of the last (the cached example is never mutated)', () => {
    const a = buildWorkflowJobPayload('queued', job) as any;
    a.workflow_job.labels.push('mutated');
    a.repository.owner.login = 'mutated';
    const b = buildWorkflowJobPayload('queued', job) as any;
    assert.deepEqual(b.workflow_job.labels, job.labels);
    assert.equal(b.repository.owner.login, 'acme');
  });

  it('signs the exact body with HMAC-SHA256 and sends GitHub\'s headers', () => {
    const hook = buildSignedWorkflowJobWebhook({ action: 'queued', job, secret: 's3cret', deliveryId: 'd-1' });
    assert.equal(hook.headers['x-hub-signature-256'], `sha256=${createHmac('sha256', 's3cret').update(hook.body).digest('hex')}`);
    assert.equal(hook.headers['x-github-event'], 'workflow_job');
    assert.equal(hook.headers['x-github-delivery'], 'd-1');
    assert.equal(hook.headers['content-type'], 'application/json');
    assert.equal(hook.headers['x-github-hook-installation-target-id'], '4242');
    assert.deepEqual(JSON.parse(hook.body), hook.payload);
    const other = buildSignedWorkflowJobWebhook({ action: 'queued', job, secret: 's3cret' });
    assert.notEqual(other.deliveryId, hook.deliveryId, 'a fresh GUID per delivery');
  });

  it('refuses owner or repo names that are not GitHub names', () => {
    assert.throws(() => buildWorkflowJobPayload('queued', { ...job, owner: 'a"b' }), /owner "a"b" is not a GitHub name/);
    assert.throws(() => buildWorkflowJobPayload('queued', { ...job, repo: 'x/y' }), /repo/);
  });
});
