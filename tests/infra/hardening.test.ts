import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { alertRules } from '../../infra/alert-rules.ts';
import { parseStackConfig } from '../../infra/config.ts';
import { DASHBOARD_PANELS } from '../../infra/dashboard.ts';
import { loadStackFile, MOCK_OIDC_ISSUER, ofType, one, runProgram, type ProgramRun, type StackFile } from './harness.ts';

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const T = {
  service: 'kubernetes:core/v1:Service',
  netpol: 'kubernetes:networking.k8s.io/v1:NetworkPolicy',
  deployment: 'kubernetes:apps/v1:Deployment',
  addon: 'aws:eks/addon:Addon',
  role: 'aws:iam/role:Role',
  attachment: 'aws:iam/rolePolicyAttachment:RolePolicyAttachment',
  group: 'aws:elasticache/replicationGroup:ReplicationGroup',
  sg: 'aws:ec2/securityGroup:SecurityGroup',
  secret: 'kubernetes:core/v1:Secret',
  configMap: 'kubernetes:core/v1:ConfigMap',
  rule: 'kubernetes:monitoring.coreos.com/v1:PrometheusRule',
  monitor: 'kubernetes:monitoring.coreos.com/v1:ServiceMonitor',
  sgp: 'kubernetes:vpcresources.k8s.aws/v1beta1:SecurityGroupPolicy',
} as const;

const svc = (run: ProgramRun, name: string) => one(run, T.service, name).inputs;
const containerEnv = (run: ProgramRun) =>
  new Map<string, any>(one(run, T.deployment, 'orchestrator-deployment').inputs.spec.template.spec.containers[0].env.map((e: any) => [e.name, e]));
const cniConfig = (run: ProgramRun) => JSON.parse(one(run, T.addon, 'cluster-vpc-cni').inputs.configurationValues);

/** What every shipped stack must show (issue 17, "Done when"). */
function sharedChecks(getRun: () => ProgramRun) {
  it('the NLB forwards the webhook port alone, to system nodes alone', () => {
    const run = getRun();
    const lbs = ofType(run, T.service).filter((s) => s.inputs.spec.type === 'LoadBalancer');
    assert.deepEqual(lbs.map((s) => s.name), ['orchestrator-webhook']);
    const lb = lbs[0]!.inputs;
    assert.deepEqual(lb.spec.ports, [{ name: 'https', port: 443, targetPort: 'http', protocol: 'TCP' }]);
    const pod = one(run, T.deployment, 'orchestrator-deployment').inputs.spec.template.spec;
    assert.equal(pod.containers[0].ports.find((p: any) => p.name === 'http').containerPort, Number(containerEnv(run).get('RUNS_FLEET_PORT').value));
    // The target nodes are exactly the system node group's nodes.
    const systemLabels = one(run, 'eks:index:ManagedNodeGroup', 'cluster-system').inputs.labels;
    const selector = lb.metadata.annotations['service.beta.kubernetes.io/aws-load-balancer-target-node-labels'];
    assert.deepEqual(Object.fromEntries(selector.split(',').map((kv: string) => kv.split('='))), systemLabels);
    assert.equal(systemLabels['runs-fleet.io/node-role'], 'system');
  });

  it('serves metrics on a ClusterIP Service that admits pods of the cluster only', () => {
    const run = getRun();
    const metrics = svc(run, 'orchestrator-metrics');
    assert.equal(metrics.spec.type, 'ClusterIP');
    assert.deepEqual(metrics.spec.ports, [{ name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' }]);
    assert.equal(containerEnv(run).get('RUNS_FLEET_PRIVATE_PORT').value, '9090');
    const np = one(run, T.netpol, 'orchestrator-netpol').inputs.spec;
    assert.deepEqual(np.policyTypes, ['Ingress', 'Egress']);
    assert.deepEqual(np.ingress, [
      { from: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ protocol: 'TCP', port: 8080 }] },
      { from: [{ namespaceSelector: {} }], ports: [{ protocol: 'TCP', port: 9090 }] },
    ]);
  });

  it('enforces NetworkPolicies in strict mode, with kube-system admitted explicitly', () => {
    const run = getRun();
    const cfg = cniConfig(run);
    assert.equal(cfg.enableNetworkPolicy, 'true');
    assert.equal(cfg.env.NETWORK_POLICY_ENFORCING_MODE, 'strict');
    assert.equal(ofType(run, 'eks:index:Cluster')[0]!.inputs.useDefaultVpcCni, true);
    assert.equal(ofType(run, 'eks:index:Cluster')[0]!.inputs.vpcCniOptions, undefined, 'one owner of the CNI settings');
    const ks = one(run, T.netpol, 'cluster-kube-system-allow').inputs;
    assert.equal(ks.metadata.namespace, 'kube-system');
    assert.deepEqual(ks.spec, { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{}], egress: [{}] });
  });

  it('puts the CNI IAM policy on the aws-node service account (IRSA) and on no node role', () => {
    const run = getRun();
    const addon = one(run, T.addon, 'cluster-vpc-cni').inputs;
    const role = one(run, T.role, 'cluster-vpc-cni-role');
    assert.equal(addon.serviceAccountRoleArn, `arn:aws:mock::123456789012:${role.name}`);
    const trust = JSON.parse(role.inputs.assumeRolePolicy);
    assert.equal(trust.Statement[0].Action, 'sts:AssumeRoleWithWebIdentity');
    assert.equal(trust.Statement[0].Condition.StringEquals[`${MOCK_OIDC_ISSUER}:sub`], 'system:serviceaccount:kube-system:aws-node');
    const cni = ofType(run, T.attachment).filter((a) => a.inputs.policyArn.endsWith('/AmazonEKS_CNI_Policy'));
    assert.deepEqual(cni.map((a) => a.inputs.role), [{ resourceType: T.role, resourceName: 'cluster-vpc-cni-role' }]);
    for (const nodeRole of ['runner-nodes-role', 'cluster-system-role']) {
      const attached = ofType(run, T.attachment).filter((a) => a.inputs.role?.resourceName === nodeRole).map((a) => a.inputs.policyArn.split('/').pop());
      assert.ok(attached.includes('AmazonEKSWorkerNodePolicy'), nodeRole);
      assert.ok(!attached.includes('AmazonEKS_CNI_Policy'), `${nodeRole} carries the CNI policy`);
    }
  });

  it('ships the dashboard, the alert rules and the scrape config it enables', () => {
    const run = getRun();
    const cm = one(run, T.configMap, 'observability-dashboard').inputs;
    const dashboard = JSON.parse(cm.data['runs-fleet.json']);
    assert.equal(dashboard.panels.length, DASHBOARD_PANELS.length);
    for (const p of dashboard.panels) assert.ok(p.targets.length > 0 && p.targets.every((t: any) => /runs_fleet_/.test(t.expr)), p.title);
    const rule = one(run, T.rule, 'observability-alerts').inputs;
    assert.deepEqual(rule.spec.groups[0].rules.map((r: any) => r.alert), [
      'RunsFleetWebhook5xx', 'RunsFleetDeadLetters', 'RunsFleetPickupSlow', 'RunsFleetRateLimitWaits', 'RunsFleetNoLeader', 'RunsFleetRunnerVersionOld',
    ]);
    const monitor = one(run, T.monitor, 'observability-service-monitor').inputs;
    const metrics = svc(run, 'orchestrator-metrics');
    for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) assert.equal(metrics.metadata.labels[k], v, `ServiceMonitor selects ${k}`);
    assert.ok(!('runs-fleet.io/metrics' in svc(run, 'orchestrator-webhook').metadata.labels), 'the ServiceMonitor does not select the NLB Service');
    assert.deepEqual(monitor.spec.endpoints, [{ port: 'metrics', path: '/metrics', interval: '30s' }]);
  });
}

describe('a deployable an SRE signs off (issue 17) under mocks', function () {
  this.timeout(60_000);

  describe('dev stack', () => {
    let file: StackFile;
    let run: ProgramRun;
    before(async () => {
      file = loadStackFile(root('Pulumi.dev.yaml'));
      run = await runProgram(file.config, { stack: 'dev', secretKeys: file.secretKeys });
    });
    sharedChecks(() => run);

    it('runs Valkey in the cluster with a PDB that lets a drain evict it', () => {
      assert.equal(ofType(run, T.group).length, 0);
      const pdb = one(run, 'kubernetes:policy/v1:PodDisruptionBudget', 'valkey-pdb').inputs.spec;
      assert.equal(pdb.maxUnavailable, 1);
      assert.equal(pdb.minAvailable, undefined);
      assert.equal(containerEnv(run).get('RUNS_FLEET_VALKEY_WAIT_REPLICAS').value, '0');
      assert.equal(cniConfig(run).env.ENABLE_POD_ENI, undefined, 'no branch ENIs without ElastiCache');
      assert.equal(ofType(run, T.sgp).length, 0);
    });

    it('annotates the metrics Service and pods for annotation-based scraping', () => {
      const want = { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090', 'prometheus.io/path': '/metrics' };
      assert.deepEqual(svc(run, 'orchestrator-metrics').metadata.annotations, want);
      const podAnnotations = one(run, T.deployment, 'orchestrator-deployment').inputs.spec.template.metadata.annotations;
      for (const [k, v] of Object.entries(want)) assert.equal(podAnnotations[k], v);
    });

    it('creates no dashboard, alerts, ServiceMonitor or scrape annotations when they are turned off', async () => {
      const off = await runProgram({
        ...file.config,
        'runs-fleet:observability': { dashboard: false, alerts: false, serviceMonitor: false, scrapeAnnotations: false },
      }, { stack: 'dev', secretKeys: file.secretKeys });
      assert.equal(ofType(off, T.rule).length, 0);
      assert.equal(ofType(off, T.monitor).length, 0);
      assert.equal(ofType(off, T.configMap).filter((c) => c.name === 'observability-dashboard').length, 0);
      assert.deepEqual(svc(off, 'orchestrator-metrics').metadata.annotations, {});
      assert.ok(!('prometheus.io/scrape' in one(off, T.deployment, 'orchestrator-deployment').inputs.spec.template.metadata.annotations));
    });
  });

  describe('prod-existing-vpc stack', () => {
    let run: ProgramRun;
    before(async () => {
      const file = loadStackFile(root('Pulumi.prod-existing-vpc.yaml'));
      run = await runProgram(file.config, { stack: 'prod-existing-vpc', secretKeys: file.secretKeys });
    });
    sharedChecks(() => run);

    it('uses ElastiCache for Valkey: Multi-AZ failover, TLS required, encrypted at rest, a generated AUTH token, no eviction', () => {
      assert.equal(ofType(run, 'kubernetes:apps/v1:StatefulSet').length, 0, 'no in-cluster Valkey');
      const g = one(run, T.group, 'valkey-group').inputs;
      assert.equal(g.engine, 'valkey');
      assert.equal(g.engineVersion, '8.1');
      assert.equal(g.numCacheClusters, 2);
      assert.equal(g.automaticFailoverEnabled, true);
      assert.equal(g.multiAzEnabled, true);
      assert.equal(g.transitEncryptionEnabled, true);
      assert.equal(g.transitEncryptionMode, 'required');
      assert.equal(g.atRestEncryptionEnabled, true);
      assert.match(g.authToken, /^mockpasswordvalkeyauthtoken$/);
      assert.equal(one(run, 'random:index/randomPassword:RandomPassword', 'valkey-auth-token').inputs.special, false);
      assert.equal(one(run, T.secret, 'valkey-auth').inputs.stringData.password, g.authToken, 'the orchestrator authenticates with the same token');
      const params = one(run, 'aws:elasticache/parameterGroup:ParameterGroup', 'valkey-params').inputs;
      assert.equal(params.family, 'valkey8');
      assert.deepEqual(params.parameters, [{ name: 'maxmemory-policy', value: 'noeviction' }]);
      const subnets = one(run, 'aws:elasticache/subnetGroup:SubnetGroup', 'valkey-subnets').inputs;
      assert.equal(subnets.subnetIds.length, 3);
    });

    it('admits only the orchestrator’s security group, which only the orchestrator’s pods carry', () => {
      const server = one(run, T.sg, 'valkey-server').inputs;
      const g = one(run, T.group, 'valkey-group').inputs;
      assert.deepEqual(g.securityGroupIds, ['valkey-server-id']);
      assert.deepEqual(server.ingress, [{ protocol: 'tcp', fromPort: 6379, toPort: 6379, securityGroups: ['valkey-clients-id'], description: 'orchestrator pods' }]);
      assert.deepEqual(server.egress, []);
      const sgp = one(run, T.sgp, 'orchestrator-security-groups').inputs;
      const labels = one(run, T.deployment, 'orchestrator-deployment').inputs.spec.template.metadata.labels;
      assert.deepEqual(sgp.spec.podSelector.matchLabels, labels);
      assert.deepEqual(sgp.spec.securityGroups.groupIds, ['sg-0mockcluster', 'valkey-clients-id']);
      const cfg = cniConfig(run);
      assert.equal(cfg.env.ENABLE_POD_ENI, 'true');
      assert.equal(cfg.env.POD_SECURITY_GROUP_ENFORCING_MODE, 'standard');
      assert.equal(cfg.init.env.DISABLE_TCP_EARLY_DEMUX, 'true');
      const controller = one(run, T.attachment, 'cluster-vpc-resource-controller').inputs;
      assert.match(controller.policyArn, /AmazonEKSVPCResourceController$/);
      assert.equal(controller.role, 'runs-fleet-prod-eksRole-mock');
    });

    it('connects over TLS and answers 2xx only once a replica holds the job', () => {
      const env = containerEnv(run);
      assert.match(env.get('RUNS_FLEET_VALKEY_URL').value, /^rediss:\/\/.+:6379$/);
      assert.equal(env.get('RUNS_FLEET_VALKEY_WAIT_REPLICAS').value, '1');
      assert.ok(env.get('RUNS_FLEET_VALKEY_PASSWORD').valueFrom.secretKeyRef);
    });

    it('labels the PrometheusRule and ServiceMonitor for the operator’s selector', () => {
      assert.equal(one(run, T.rule, 'observability-alerts').inputs.metadata.labels.release, 'monitoring');
      assert.equal(one(run, T.monitor, 'observability-service-monitor').inputs.metadata.labels.release, 'monitoring');
      assert.equal(one(run, T.configMap, 'observability-dashboard').inputs.metadata.namespace, 'monitoring');
    });
  });

  it('alert thresholds come from the stack config', () => {
    const o = parseStackConfig({
      classes: [{ name: 'c', arch: 'arm64', cpu: 2, memoryGiB: 8, diskGiB: 50, instanceFamilies: ['m7g'], nodePoolCpuLimit: 8 }],
      github: { appId: '1', privateKey: '-----BEGIN RSA PRIVATE KEY-----x', webhookSecret: 'x'.repeat(16) },
      webhook: { hostname: 'a.example.com', certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0f1e' },
      observability: { pickupP95Seconds: 45, runnerVersionMaxAgeDays: 10 },
    }, { stack: 't', region: 'us-east-1' }).observability;
    const rules = new Map(alertRules(o).map((r) => [r.alert, r]));
    assert.match(rules.get('RunsFleetPickupSlow')!.expr, /histogram_quantile\(0\.95, sum by \(le\) \(rate\(runs_fleet_job_stage_seconds_bucket\{stage=~"webhook_to_running"\}\[15m\]\)\)\) > 45$/);
    assert.match(rules.get('RunsFleetRunnerVersionOld')!.expr, /^max\(runs_fleet_runner_version_age_seconds\) > 864000$/);
  });

  it('rejects an ElastiCache group without a replica, naming the setting', () => {
    assert.throws(() => parseStackConfig({
      classes: [{ name: 'c', arch: 'arm64', cpu: 2, memoryGiB: 8, diskGiB: 50, instanceFamilies: ['m7g'], nodePoolCpuLimit: 8 }],
      github: { appId: '1', privateKey: '-----BEGIN RSA PRIVATE KEY-----x', webhookSecret: 'x'.repeat(16) },
      webhook: { hostname: 'a.example.com', certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0f1e' },
      valkey: { mode: 'elastiCache', elastiCache: { replicas: 0 } },
    }, { stack: 't', region: 'us-east-1' }), /runs-fleet:valkey\.elastiCache\.replicas must be at least 1: Multi-AZ automatic failover needs a replica/);
  });
});
