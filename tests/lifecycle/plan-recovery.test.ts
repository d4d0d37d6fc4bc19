import assert from 'node:assert/strict';
import { DEFAULT_POLICY, planRecovery, type RecoveryInput } from '../../runtime/controllers/recovery/plan.ts';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const input = (o: Partial<RecoveryInput> = {}): RecoveryInput => ({
  failure: { kind: 'spot_interruption', infrastructure: true },
  github: { status: 'completed', conclusion: 'failure', runnerName: 'rf-a' },
  ourRunner: 'rf-a', reprovisions: 0, reruns: 0, lostAt: T0, now: T0 + 60_000, checks: 0, ...o,
});
const plan = (o: Partial<RecoveryInput> = {}, p = DEFAULT_POLICY) => planRecovery(input(o), p);

describe('recovery plan (pure)', () => {
  it('failed mid-run on lost infrastructure → one re-run, then exhausted', () => {
    assert.deepEqual(plan(), { action: 'rerun', count: 1, why: 'failed mid-run after spot_interruption' });
    assert.deepEqual(plan({ reruns: 1 }), {
      action: 'none', outcome: 'exhausted', why: 'already re-run 1 time(s) for infrastructure (maxInfraRetries 1)',
    });
    assert.equal(plan({ reruns: 1 }, { ...DEFAULT_POLICY, maxInfraRetries: 3 }).action, 'rerun');
    assert.equal(plan({}, { ...DEFAULT_POLICY, maxInfraRetries: 0 }).action, 'none');
  });

  it('never retries a job that failed on its own, whatever GitHub says', () => {
    for (const kind of ['oom', 'deadline_exceeded', 'runner_failed', 'image_pull'] as const) {
      const p = plan({ failure: { kind, infrastructure: false } });
      assert.deepEqual([p.action, p.action === 'none' && p.outcome], ['none', 'own_failure'], kind);
      assert.equal(plan({ failure: { kind, infrastructure: false }, github: { status: 'queued', conclusion: null, runnerName: null } }).action, 'none');
    }
  });

  it('still queued on GitHub → provision again, within maxReprovisions', () => {
    const queued = { status: 'queued', conclusion: null, runnerName: null };
    assert.deepEqual(plan({ github: queued }), { action: 'requeue', count: 1, why: 'GitHub still has the job queued after spot_interruption' });
    assert.deepEqual(plan({ github: queued, reprovisions: 1 }).action, 'requeue');
    const p = plan({ github: queued, reprovisions: 2 });
    assert.equal(p.action === 'none' && p.outcome, 'exhausted');
  });

  it('still in progress on GitHub → wait with a growing delay, and give up after the bound', () => {
    const running = { status: 'in_progress', conclusion: null, runnerName: 'rf-a' };
    const first = plan({ github: running });
    assert.deepEqual(first, { action: 'wait', retryAt: T0 + 60_000 + 15_000, why: 'GitHub shows the job in_progress; waiting for it to fail' });
    const later = plan({ github: running, checks: 10 });
    assert.equal(later.action === 'wait' && later.retryAt - (T0 + 60_000), DEFAULT_POLICY.recheckMaxMs);
    const late = plan({ github: running, now: T0 + DEFAULT_POLICY.concludeWithinMs });
    assert.equal(late.action === 'none' && late.outcome, 'gave_up');
  });

  it('run by another runner, succeeded, cancelled or gone → nothing to do', () => {
    const outcome = (o: Partial<RecoveryInput>) => {
      const p = plan(o);
      return p.action === 'none' ? p.outcome : p.action;
    };
    assert.equal(outcome({ github: { status: 'in_progress', conclusion: null, runnerName: 'rf-other' } }), 'taken_by_other');
    assert.equal(outcome({ github: { status: 'completed', conclusion: 'failure', runnerName: 'rf-other' } }), 'taken_by_other');
    assert.equal(outcome({ github: { status: 'completed', conclusion: 'success', runnerName: 'rf-a' } }), 'succeeded');
    assert.equal(outcome({ github: { status: 'completed', conclusion: 'cancelled', runnerName: 'rf-a' } }), 'cancelled');
    assert.equal(outcome({ github: undefined }), 'gone');
  });
});
