import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { parseConfigDocument, type ConfigDocument } from '../../runtime/config/document.ts';
import { runJobsCommand } from '../../runtime/jobs/command.ts';
import { parseRunsOn } from '../../runtime/labels/parse.ts';
import type { QueuedJob } from '../../runtime/queue/types.ts';
import { RUNNER_NAMESPACE, startLocalStack, type LocalStack } from '../../sim/stack.ts';
import { sampleDocument } from '../support/config.ts';
import { eventually } from '../support/eventually.ts';
import { Connections, testValkeyUrl, uniquePrefix } from '../support/valkey.ts';

function sink() {
  let text = '';
  return { write: (s: string) => void (text += s), text: () => text };
}

const GPU_CLASS = {
  name: 'gpu-linux-amd64', arch: 'amd64' as const, cpu: 8, memoryGiB: 32, diskGiB: 100, instanceFamilies: ['g6'], nodePoolCpuLimit: 64,
};

describe('npm run jobs: dead letters listed, shown and replayed (real Valkey, orchestrator, sim cluster, GitHub double)', function () {
  this.timeout(30_000);
  const conns = new Connections();
  let s: LocalStack | undefined;
  afterEach(async () => {
    await s?.stop();
    s = undefined;
    conns.closeAll();
  });

  it('a job whose class vanished from the config after it was accepted is dead-lettered, shown, refused for replay until the class is back, then replayed into a Job', async () => {
    let doc: ConfigDocument = sampleDocument();
    const prefix = uniquePrefix('jobs');
    s = await startLocalStack({
      doc, valkeyUrl: testValkeyUrl(), queuePrefix: prefix, github: { autoDeliver: false },
      orchestrator: { consumer: { blockMs: 100 }, configPollMs: 100 },
    });
    const o = s.orchestrators[0]!;
    // Accepted while the class existed; the operator then removed it (the webhook check has passed).
    const gh = s.github.queueJob({ owner: 'octo-org', repo: 'app', name: 'gpu-tests', labels: ['runs-fleet/runner=gpu-linux-amd64'] });
    const job: QueuedJob = {
      jobId: gh.id, runId: gh.runId, runAttempt: 1, repository: 'octo-org/app', owner: 'octo-org', repo: 'app', org: 'octo-org',
      installationId: s.github.defaultInstallationId, labels: gh.labels, request: parseRunsOn(gh.labels), deliveryId: 'd-1',
      workflowName: 'CI', jobName: gh.name, headSha: gh.headSha, receivedAt: Date.now(), enqueuedAt: Date.now(),
    };
    assert.equal((await o.queue.enqueue(job)).status, 'enqueued');
    const record = await eventually(() => o.records.get(gh.id, 1), (r) => r?.status === 'dead_lettered');
    assert.match(record!.failure!, /^unknown_class: /);
    const [run] = await eventually(() => s!.github.checkRuns(), (l) => l.length === 1, 5_000);
    assert.equal(run!.conclusion, 'action_required', 'the author is told from the consumer too');

    const valkey = conns.command(s.valkeyUrl);
    await conns.ready();
    const cmd = (argv: string[]) => {
      const out = sink();
      const err = sink();
      return runJobsCommand(argv, { valkey, doc: () => doc, out, err }).then((code) => ({ code, out: out.text(), err: err.text() }));
    };

    const list = await cmd(['list', '--prefix', prefix]);
    assert.equal(list.code, 0);
    assert.match(list.out, /queue: 0 waiting, 0 in flight, 1 dead-lettered/);
    assert.match(list.out, new RegExp(`octo-org/app job ${gh.id} attempt 1 \\(gpu-tests\\)`));
    assert.match(list.out, /unknown_class: runs-on label "runs-fleet\/runner=gpu-linux-amd64"/);
    const listed = JSON.parse((await cmd(['list', '--prefix', prefix, '--json'])).out);
    const deadId: string = listed.deadLetters[0].id;
    assert.equal(listed.summary.deadLetters, 1);

    const show = await cmd(['show', deadId, '--prefix', prefix]);
    assert.equal(show.code, 0);
    assert.match(show.out, /record: +dead_lettered — unknown_class/);
    assert.match(show.out, new RegExp(`npm run jobs -- replay ${deadId}`));
    assert.match((await cmd(['show', String(gh.id), '--prefix', prefix])).out, /status: dead_lettered/);

    const refused = await cmd(['replay', deadId, '--prefix', prefix]);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /would fail again \(unknown_class/);
    assert.equal((await o.queue.deadLetters()).length, 1, 'a refused replay changes nothing');

    // The fix: the class is back in the config document, and the orchestrator has reloaded it.
    doc = parseConfigDocument({ ...sampleDocument(), classes: [...sampleDocument().classes, GPU_CLASS] });
    writeFileSync(s.configFile, JSON.stringify(doc));
    await eventually(() => o.config.current().classes.some((c) => c.name === GPU_CLASS.name), Boolean);

    const replayed = await cmd(['replay', deadId, '--prefix', prefix]);
    assert.equal(replayed.code, 0, replayed.err);
    assert.match(replayed.out, new RegExp(`replayed octo-org/app job ${gh.id} attempt 1 as queue entry \\d+-\\d+`));
    const [k8sJob] = await eventually(() => s!.sim.store.list('jobs', { namespace: RUNNER_NAMESPACE }), (l) => l.length === 1);
    assert.equal(k8sJob!.metadata.name, `runner-${gh.id}-1-r1`);
    assert.equal((await eventually(() => o.records.get(gh.id, 1), (r) => r?.status === 'job_created'))?.className, GPU_CLASS.name);
    assert.equal(s.github.listRunners().length, 1);
    assert.equal((await cmd(['list', '--prefix', prefix, '--json'])).out.includes('"deadLetters": 0'), true);
    const again = await cmd(['replay', deadId, '--prefix', prefix]);
    assert.equal(again.code, 1, 'a dead letter is replayed once');
  });

  it('bad arguments exit 2 with the usage and change nothing', async () => {
    const valkey = conns.command();
    await conns.ready();
    for (const argv of [[], ['frobnicate'], ['show'], ['replay'], ['list', '--count', 'x'], ['list', '--bogus'], ['list', 'extra']]) {
      const out = sink();
      const err = sink();
      assert.equal(await runJobsCommand(argv, { valkey, out, err }), 2, argv.join(' '));
      assert.match(err.text(), /Usage: npm run jobs/);
    }
  });
});
