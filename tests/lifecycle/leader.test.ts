import assert from 'node:assert/strict';
import { LeaderElector } from '../../runtime/controllers/leader/elector.ts';
import { createKubeClients, type KubeClients } from '../../runtime/k8s/client.ts';
import { silentLogger } from '../../runtime/log.ts';
import { systemClock } from '../../runtime/util/clock.ts';
import { startSimCluster, type SimCluster } from '../../sim/k8s/cluster.ts';
import { kubeconfigYaml, makeKubeConfig } from '../../sim/k8s/kubeconfig.ts';
import { eventually } from '../support/eventually.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';
import { uniquePrefix } from '../support/valkey.ts';

const NS = 'runs-fleet-system';

describe('leader election on a Lease (sim API server)', function () {
  this.timeout(20_000);
  let sim: SimCluster;
  const clients: KubeClients[] = [];
  const electors: LeaderElector[] = [];
  before(async () => {
    sim = await startSimCluster({ namespaces: [NS] });
  });
  after(async () => {
    await sim.stop();
  });
  afterEach(async () => {
    await Promise.all(electors.splice(0).map((e) => e.stop()));
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  async function kube(server = sim.url): Promise<KubeClients> {
    const c = await createKubeClients(makeKubeConfig(kubeconfigYaml(server)));
    clients.push(c);
    return c;
  }

  function elector(identity: string, lease: string, coordination: KubeClients['coordination'], leaseDurationMs = 2_000): LeaderElector {
    const e = new LeaderElector({
      coordination, namespace: NS, name: lease, identity, clock: systemClock, log: silentLogger(),
      timing: { leaseDurationMs, renewDeadlineMs: leaseDurationMs - 500, retryPeriodMs: 100 },
    });
    electors.push(e);
    return e;
  }

  const leaseOf = (name: string) => sim.store.get('leases', NS, name) as { spec: Record<string, any> } | undefined;

  it('three replicas: exactly one leads, and the Lease names it with microsecond times', async () => {
    const lease = uniquePrefix('lease');
    const { coordination } = await kube();
    const all = ['a', 'b', 'c'].map((id) => elector(id, lease, coordination));
    all.forEach((e) => e.start());
    const leaders = await eventually(() => all.filter((e) => e.isLeader()), (l) => l.length === 1);
    await new Promise((r) => setTimeout(r, 500)); // several renewal rounds
    assert.deepEqual(all.filter((e) => e.isLeader()), leaders);
    const spec = leaseOf(lease)!.spec;
    assert.equal(spec.holderIdentity, ['a', 'b', 'c'][all.indexOf(leaders[0]!)]);
    assert.match(String(spec.renewTime), /\.\d{6}Z$/);
    assert.equal(spec.leaseDurationSeconds, 2);
  });

  it('a leader that stops releases the Lease: the next one takes over before the old claim would have run out', async () => {
    const lease = uniquePrefix('lease');
    const { coordination } = await kube();
    const first = elector('first', lease, coordination, 30_000);
    first.start();
    await eventually(() => first.isLeader(), Boolean);
    const second = elector('second', lease, coordination, 30_000);
    second.start();
    const changes: boolean[] = [];
    first.onChange((leading, term) => changes.push(leading && !term?.aborted));
    const renewedUntil = Date.parse(String(leaseOf(lease)!.spec.renewTime)) + 30_000;
    await first.stop();
    assert.equal(leaseOf(lease)!.spec.holderIdentity, '', 'released');
    await eventually(() => second.isLeader(), Boolean);
    assert.ok(Date.parse(String(leaseOf(lease)!.spec.acquireTime)) < renewedUntil, 'taken over by release, not by expiry');
    assert.equal(leaseOf(lease)!.spec.leaseTransitions, 1);
    assert.deepEqual(changes, [true, false], 'the old term was told it ended');
  });

  it('a leader cut off from the API server steps down; another takes over only after the lease ran out; never two at once', async () => {
    const lease = uniquePrefix('lease');
    const proxy = await startFaultProxy(sim.url);
    const cutOff = elector('cut-off', lease, (await kube(proxy.url)).coordination);
    cutOff.start();
    await eventually(() => cutOff.isLeader(), Boolean);
    const term = cutOff.term();
    const other = elector('other', lease, (await kube()).coordination);
    other.start();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(other.isLeader(), false);

    await proxy.stop();
    let overlap = false;
    await eventually(() => {
      if (cutOff.isLeader() && other.isLeader()) overlap = true;
      return other.isLeader();
    }, Boolean, 10_000, 5);
    assert.equal(overlap, false);
    assert.equal(cutOff.isLeader(), false);
    assert.equal(term?.aborted, true, "the cut-off leader's work was aborted with its term");
    assert.equal(leaseOf(lease)!.spec.holderIdentity, 'other');
  });
});
