import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { parseConfigDocument, type RunnerClass } from '../../runtime/config/document.ts';
import { loadEnv } from '../../runtime/config/env.ts';
import { IMAGE_WARMING_TAINT, INFRA, LABEL, NODE_CLASS_LABEL, RUNNER_TAINT } from '../../runtime/k8s/labels.ts';
import { buildClassPodTemplate, classPlacement, placeholderPlacement } from '../../runtime/k8s/pod-template.ts';
import { ConfigError } from '../../runtime/util/errors.ts';
import { stableStringify } from '../../infra/stable-json.ts';
import { loadStackFile, MOCK_OIDC_ISSUER, ofType, one, runProgram, type ProgramRun, type StackFile } from './harness.ts';

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const T = {
  nodePool: 'kubernetes:karpenter.sh/v1:NodePool',
  nodeClass: 'kubernetes:karpenter.k8s.aws/v1:EC2NodeClass',
  netpol: 'kubernetes:networking.k8s.io/v1:NetworkPolicy',
  configMap: 'kubernetes:core/v1:ConfigMap',
  deployment: 'kubernetes:apps/v1:Deployment',
  statefulSet: 'kubernetes:apps/v1:StatefulSet',
  daemonSet: 'kubernetes:apps/v1:DaemonSet',
  pdb: 'kubernetes:policy/v1:PodDisruptionBudget',
  role: 'kubernetes:rbac.authorization.k8s.io/v1:Role',
  roleBinding: 'kubernetes:rbac.authorization.k8s.io/v1:RoleBinding',
  secret: 'kubernetes:core/v1:Secret',
  eks: 'eks:index:Cluster',
} as const;

/** The classes of a stack file, as the runtime schema parses them. */
function classesOf(file: StackFile): RunnerClass[] {
  return parseConfigDocument({ classes: file.config['runs-fleet:classes'] }).classes;
}

function valkeyMode(file: StackFile): string {
  return (file.config['runs-fleet:valkey'] as { mode?: string } | undefined)?.mode ?? 'inCluster';
}

function env(run: ProgramRun): Map<string, any> {
  const container = one(run, T.deployment, 'orchestrator-deployment').inputs.spec.template.spec.containers[0];
  return new Map(container.env.map((e: any) => [e.name, e]));
}

/** Assertions that hold for any valid stack. */
function commonChecks(getRun: () => ProgramRun, getFile: () => StackFile) {
  it('registers one NodePool per runner class with its CPU limit, taint, label and node class', () => {
    const run = getRun();
    const classes = classesOf(getFile());
    const pools = ofType(run, T.nodePool);
    assert.equal(pools.length, classes.length);
    for (const cls of classes) {
      const np = one(run, T.nodePool, `karpenter-nodepool-${cls.name}`).inputs;
      assert.equal(np.metadata.name, cls.name);
      assert.equal(np.spec.limits.cpu, String(cls.nodePoolCpuLimit));
      const tmpl = np.spec.template;
      assert.deepEqual(tmpl.spec.taints, [{ key: RUNNER_TAINT.key, value: RUNNER_TAINT.value, effect: RUNNER_TAINT.effect }]);
      assert.equal(tmpl.metadata.labels[NODE_CLASS_LABEL], cls.name);
      assert.equal(tmpl.spec.nodeClassRef.name, `runs-fleet-${cls.diskGiB}gib`);
      const req = new Map(tmpl.spec.requirements.map((r: any) => [r.key, r.values]));
      assert.deepEqual(req.get('kubernetes.io/arch'), [cls.arch]);
      assert.deepEqual(req.get('karpenter.sh/capacity-type'), cls.capacityTypes);
      assert.deepEqual(req.get('karpenter.k8s.aws/instance-family'), cls.instanceFamilies);
      // Instances of exactly the class's size, which its runner pod is sized to fit (runtime/capacity/runner-size.ts).
      assert.deepEqual(req.get('karpenter.k8s.aws/instance-cpu'), [String(cls.cpu)]);
      assert.deepEqual(req.get('karpenter.k8s.aws/instance-memory'), [String(cls.memoryGiB * 1024)]);
      assert.equal(np.spec.disruption.consolidationPolicy, 'WhenEmpty');
      assert.ok(np.spec.disruption.budgets.length > 0);
      // Runner pods select exactly what these nodes carry.
      const placement = classPlacement(cls);
      assert.equal(placement.nodeSelector[NODE_CLASS_LABEL], tmpl.metadata.labels[NODE_CLASS_LABEL]);
      assert.deepEqual(placement.tolerations[0], { key: RUNNER_TAINT.key, operator: 'Equal', value: RUNNER_TAINT.value, effect: RUNNER_TAINT.effect });
    }
  });

  it('starts runner nodes with the image-warming startup taint (pre-pull on), which placeholders tolerate and runner pods do not', () => {
    const run = getRun();
    const file = getFile();
    const prePull = (file.config['runs-fleet:runner'] as { prePullImages?: boolean } | undefined)?.prePullImages ?? true;
    const tolerates = (tols: readonly any[], t: any) => tols.some((x) => x.key === t.key && (x.operator === 'Exists' || x.value === t.value) && (!x.effect || x.effect === t.effect));
    for (const cls of classesOf(file)) {
      const startup = one(run, T.nodePool, `karpenter-nodepool-${cls.name}`).inputs.spec.template.spec.startupTaints;
      if (!prePull) {
        assert.equal(startup, undefined, 'without pre-pulling a Ready placeholder proves nothing about the image');
        continue;
      }
      assert.deepEqual(startup, [{ key: IMAGE_WARMING_TAINT.key, value: IMAGE_WARMING_TAINT.value, effect: IMAGE_WARMING_TAINT.effect }]);
      assert.ok(tolerates(placeholderPlacement(cls).tolerations, startup[0]), 'placeholders land on warming nodes');
      assert.ok(!tolerates(classPlacement(cls).tolerations, startup[0]), 'runners do not');
    }
    // The runner pod template the orchestrator stamps Jobs from (in the config document) does not tolerate it either.
    const doc = JSON.parse(one(run, T.configMap, 'platform-config').inputs.data['config.json']);
    assert.ok(doc.classes.length > 0);
    for (const c of doc.classes) assert.ok(!tolerates(c.podTemplate.spec.tolerations ?? [], IMAGE_WARMING_TAINT), `class ${c.name}'s runner pods`);
  });

  it('pre-pulls the runner image on every runner node with a DaemonSet that takes none of the runners\' room (pre-pull on)', () => {
    const run = getRun();
    const prePull = (getFile().config['runs-fleet:runner'] as { prePullImages?: boolean } | undefined)?.prePullImages ?? true;
    const sets = ofType(run, T.daemonSet);
    if (!prePull) return assert.equal(sets.length, 0);
    const ds = one(run, T.daemonSet, 'platform-image-prepull').inputs;
    const doc = JSON.parse(one(run, T.configMap, 'platform-config').inputs.data['config.json']);
    const runnerNs = ofType(run, T.netpol).find((r) => r.inputs.metadata.name === 'runs-fleet-deny-ingress')?.inputs.metadata.namespace;
    assert.ok(runnerNs);
    assert.equal(ds.metadata.namespace, runnerNs, 'in the runner namespace, where the image-warming reconcile lists pods');
    const spec = ds.spec.template.spec;
    assert.deepEqual(spec.initContainers.map((c: any) => c.image), [doc.runner.image, doc.runner.dindImage]);
    for (const c of [...spec.initContainers, ...spec.containers]) assert.equal(c.resources, undefined, `${c.name} requests nothing: runners are sized to the allocatable after the EKS DaemonSets`);
    assert.equal(spec.priorityClassName, undefined, 'outside the quotas scoped to the runner and placeholder PriorityClasses');
    assert.deepEqual(spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms, [{ matchExpressions: [{ key: NODE_CLASS_LABEL, operator: 'Exists' }] }]);
    for (const t of [RUNNER_TAINT, IMAGE_WARMING_TAINT]) assert.ok(spec.tolerations.some((x: any) => x.key === t.key && x.effect === t.effect), `tolerates ${t.key}`);
  });

  it('annotates each NodePool with the CPU its warm pools may hold', () => {
    const run = getRun();
    const file = getFile();
    const pools = (file.config['runs-fleet:pools'] ?? []) as Array<{ class: string; max: number }>;
    for (const cls of classesOf(file)) {
      const want = pools.filter((p) => p.class === cls.name).reduce((s, p) => s + p.max * cls.cpu, 0);
      const np = one(run, T.nodePool, `karpenter-nodepool-${cls.name}`).inputs;
      assert.equal(np.metadata.annotations[INFRA.warmPoolMaxCpu], String(want), cls.name);
    }
  });

  it('hardens one EC2NodeClass per distinct disk size', () => {
    const run = getRun();
    const disks = [...new Set(classesOf(getFile()).map((c) => c.diskGiB))];
    const classes = ofType(run, T.nodeClass);
    assert.deepEqual(classes.map((c) => c.inputs.metadata.name).sort(), disks.map((d) => `runs-fleet-${d}gib`).sort());
    for (const nc of classes) {
      const spec = nc.inputs.spec;
      assert.deepEqual(spec.metadataOptions, { httpEndpoint: 'enabled', httpProtocolIPv6: 'disabled', httpPutResponseHopLimit: 1, httpTokens: 'required' });
      assert.equal(spec.amiSelectorTerms.length, 1);
      assert.match(spec.amiSelectorTerms[0].alias, /^al2023@/);
      const ebs = spec.blockDeviceMappings[0].ebs;
      assert.equal(ebs.volumeType, 'gp3');
      assert.equal(ebs.encrypted, true);
      assert.equal(ebs.volumeSize, nc.inputs.metadata.name.replace(/^runs-fleet-(\d+)gib$/, '$1Gi'));
      assert.ok(spec.instanceProfile && spec.role === undefined, 'exactly one of role / instanceProfile');
    }
  });

  it('keeps runner pods away from instance metadata, the VPC and cluster Services', () => {
    const run = getRun();
    const egress = one(run, T.netpol, 'platform-runner-egress').inputs;
    assert.equal(egress.metadata.namespace, run.outputs.runnerNamespace);
    assert.deepEqual(egress.spec.podSelector, {});
    const blocks = egress.spec.egress.flatMap((rule: any) => rule.to.filter((t: any) => t.ipBlock).map((t: any) => t.ipBlock));
    assert.equal(blocks.length, 1);
    assert.equal(blocks[0].cidr, '0.0.0.0/0');
    const file = getFile();
    const net = file.config['runs-fleet:network'] as { mode: string; cidr?: string; vpcCidrs?: string[] };
    const vpc = net.mode === 'create' ? [net.cidr!] : net.vpcCidrs!;
    const serviceCidr = (file.config['runs-fleet:cluster'] as { serviceCidr: string }).serviceCidr;
    for (const cidr of ['169.254.169.254/32', ...vpc, serviceCidr]) assert.ok(blocks[0].except.includes(cidr), `egress allows ${cidr}`);
    const dns = egress.spec.egress.find((rule: any) => rule.ports?.some((p: any) => p.port === 53));
    assert.ok(dns, 'runners can resolve names');
    const deny = one(run, T.netpol, 'platform-deny-ingress').inputs.spec;
    assert.deepEqual(deny, { podSelector: {}, policyTypes: ['Ingress'] });
  });

  it('runs the orchestrator with ≥ 2 replicas, a PDB, probes, limits and a read-only root', () => {
    const run = getRun();
    const dep = one(run, T.deployment, 'orchestrator-deployment').inputs;
    assert.ok(dep.spec.replicas >= 2);
    const pod = dep.spec.template.spec;
    const c = pod.containers[0];
    assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
    assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
    assert.deepEqual(c.ports, [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }]);
    assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory && c.resources.limits.cpu);
    for (const container of [...pod.containers, ...pod.initContainers]) {
      assert.equal(container.securityContext.readOnlyRootFilesystem, true, container.name);
      assert.equal(container.securityContext.allowPrivilegeEscalation, false, container.name);
    }
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.automountServiceAccountToken, true);
    assert.match(c.image, /^node:24\.\d+\.\d+/);
    // The memory flags of runtime/node-flags.ts, as bench/memory.bench.ts measures them.
    assert.deepEqual(c.command, ['node', '--max-semi-space-size=2', '--optimize-for-size', '/app/main.mjs']);
    assert.equal(c.env.find((e: any) => e.name === 'MALLOC_ARENA_MAX')?.value, '2');
    const pdb = one(run, T.pdb, 'orchestrator-pdb').inputs.spec;
    assert.deepEqual(pdb.selector.matchLabels, dep.spec.selector.matchLabels);
    assert.equal(pdb.maxUnavailable, 1);
  });

  it('gives the orchestrator the runtime environment it validates at start', () => {
    const run = getRun();
    const e = env(run);
    assert.equal(e.get('RUNS_FLEET_PORT').value, '8080');
    assert.equal(e.get('RUNS_FLEET_VALKEY_URL').value, run.outputs.valkeyEndpoint);
    assert.equal(e.get('RUNS_FLEET_PRIVATE_PORT').value, '9090');
    if (valkeyMode(getFile()) === 'inCluster') {
      assert.equal(e.get('RUNS_FLEET_VALKEY_URL').value, `redis://valkey.${run.outputs.systemNamespace}.svc:6379`);
      assert.equal(e.get('RUNS_FLEET_VALKEY_WAIT_REPLICAS').value, '0', 'one Valkey pod: nothing to wait for');
    } else assert.equal(e.get('RUNS_FLEET_VALKEY_WAIT_REPLICAS').value, '1', 'a 2xx only once a replica holds the job');
    assert.equal(e.get('RUNS_FLEET_RUNNER_NAMESPACE').value, run.outputs.runnerNamespace);
    assert.equal(e.get('RUNS_FLEET_SYSTEM_NAMESPACE').value, run.outputs.systemNamespace);
    assert.equal(e.get('RUNS_FLEET_CONFIG_FILE').value, '/etc/runs-fleet/config/config.json');
    assert.deepEqual(e.get('RUNS_FLEET_POD_NAME').valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
    assert.equal(e.get('RUNS_FLEET_GITHUB_APP_ID').value, String((getFile().config['runs-fleet:github'] as { appId: unknown }).appId));
    for (const secretEnv of ['RUNS_FLEET_WEBHOOK_SECRET', 'RUNS_FLEET_WEBHOOK_SECRET_PREVIOUS', 'RUNS_FLEET_VALKEY_PASSWORD'])
      assert.ok(e.get(secretEnv).valueFrom.secretKeyRef, `${secretEnv} comes from a Secret`);
    // The config document is mounted as a directory so kubelet refreshes it in place.
    const pod = one(run, T.deployment, 'orchestrator-deployment').inputs.spec.template.spec;
    const mount = pod.containers[0].volumeMounts.find((m: any) => m.mountPath === '/etc/runs-fleet/config');
    assert.ok(mount && mount.subPath === undefined);
    const volume = pod.volumes.find((v: any) => v.name === mount.name);
    assert.equal(volume.configMap.name, 'runs-fleet-config');
    const keyPath = e.get('RUNS_FLEET_GITHUB_PRIVATE_KEY_FILE').value as string;
    const keyMount = pod.containers[0].volumeMounts.find((m: any) => keyPath.startsWith(`${m.mountPath}/`));
    const keyVolume = pod.volumes.find((v: any) => v.name === keyMount.name);
    const keySecret = ofType(run, T.secret).find((s) => `${s.name}-mock` === keyVolume.secret.secretName)!;
    assert.match(keySecret.inputs.stringData[keyPath.split('/').pop()!], /-----BEGIN RSA PRIVATE KEY-----/);
  });

  it('grants the orchestrator namespaced, wildcard-free RBAC, and cluster-wide only reading Nodes and patching them (the image-warming taint)', () => {
    const run = getRun();
    const clusterRoles = ofType(run, 'kubernetes:rbac.authorization.k8s.io/v1:ClusterRole');
    assert.deepEqual(clusterRoles.map((r) => r.inputs.rules), [[{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'patch'] }]]);
    const bindings = ofType(run, 'kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding');
    assert.equal(bindings.length, 1);
    assert.deepEqual(bindings[0]!.inputs.subjects.map((s: any) => s.name), ['runs-fleet-orchestrator']);
    const runners = one(run, T.role, 'orchestrator-runners-role').inputs;
    assert.equal(runners.metadata.namespace, run.outputs.runnerNamespace);
    const verbs = (group: string, resource: string) =>
      runners.rules.find((r: any) => r.apiGroups.includes(group) && r.resources.includes(resource))?.verbs ?? [];
    for (const v of ['create', 'delete', 'get', 'list', 'watch']) assert.ok(verbs('batch', 'jobs').includes(v), `jobs ${v}`);
    for (const v of ['create', 'delete', 'get']) assert.ok(verbs('', 'secrets').includes(v), `secrets ${v}`);
    for (const v of ['get', 'list', 'watch']) assert.ok(verbs('', 'pods').includes(v), `pods ${v}`);
    assert.ok(verbs('', 'events').includes('create'));
    for (const v of ['create', 'patch', 'delete']) assert.ok(verbs('apps', 'deployments').includes(v), `deployments ${v}`);
    const system = one(run, T.role, 'orchestrator-system-role').inputs;
    assert.equal(system.metadata.namespace, run.outputs.systemNamespace);
    assert.deepEqual(system.rules.map((r: any) => r.resources).flat(), ['leases']);
    for (const role of ofType(run, T.role))
      for (const rule of role.inputs.rules) for (const field of ['apiGroups', 'resources', 'verbs']) assert.ok(!rule[field].includes('*'), `${role.name} uses *`);
    for (const binding of ofType(run, T.roleBinding))
      assert.deepEqual(binding.inputs.subjects, [{ kind: 'ServiceAccount', name: 'runs-fleet-orchestrator', namespace: run.outputs.systemNamespace }]);
  });

  it('ships the bundled runtime in a ConfigMap under the size limit, hash-named and rolling the Deployment', () => {
    const run = getRun();
    const cm = one(run, T.configMap, 'orchestrator-bundle').inputs;
    const gz = Buffer.from(cm.binaryData['main.mjs.gz'], 'base64');
    const js = gunzipSync(gz);
    const sha = createHash('sha256').update(js).digest('hex');
    assert.ok(js.toString('utf8', 0, 200).includes('createRequire'), 'ESM bundle with the require banner');
    assert.equal(cm.metadata.annotations[INFRA.bundleSha256], sha);
    assert.equal(cm.metadata.name, `runs-fleet-orchestrator-${sha.slice(0, 12)}`);
    const size = Object.values<string>(cm.binaryData).reduce((n, b64) => n + Buffer.from(b64, 'base64').length, 0);
    assert.ok(size < 1024 * 1024, `bundle ConfigMap holds ${size} bytes`);
    const tmpl = one(run, T.deployment, 'orchestrator-deployment').inputs.spec.template;
    assert.equal(tmpl.metadata.annotations[INFRA.bundleSha256], sha);
    assert.ok(tmpl.spec.volumes.some((v: any) => v.configMap?.name === cm.metadata.name));
    assert.equal(run.outputs.bundleSha256, sha);
  });

  it('renders a config document the runtime accepts, with each class pod template', () => {
    const run = getRun();
    const cm = one(run, T.configMap, 'platform-config').inputs;
    assert.equal(cm.metadata.name, 'runs-fleet-config');
    assert.equal(cm.metadata.namespace, run.outputs.systemNamespace);
    const json = cm.data['config.json'] as string;
    const doc = parseConfigDocument(JSON.parse(json), 'config.json: ');
    assert.equal(json, `${stableStringify(JSON.parse(json))}\n`, 'keys are sorted');
    assert.equal(cm.metadata.annotations[INFRA.configSha256], createHash('sha256').update(json).digest('hex'));
    const file = getFile();
    assert.deepEqual(doc.classes.map((c) => c.name), classesOf(file).map((c) => c.name));
    assert.deepEqual(doc.pools.map((p) => [p.name, p.class, p.min, p.max]),
      ((file.config['runs-fleet:pools'] ?? []) as any[]).map((p) => [p.name, p.class, p.min, p.max]));
    assert.equal(doc.aliases.length, ((file.config['runs-fleet:aliases'] ?? []) as unknown[]).length);
    for (const cls of doc.classes) {
      assert.deepEqual(cls.podTemplate, JSON.parse(JSON.stringify(buildClassPodTemplate(cls, doc.runner))), cls.name);
      assert.equal(cls.podTemplate!.spec && (cls.podTemplate!.spec as any).priorityClassName, doc.runner.priorityClassName);
    }
    // The priority classes and the runner service account the templates name exist.
    const pcs = ofType(run, 'kubernetes:scheduling.k8s.io/v1:PriorityClass').map((p) => p.inputs);
    const runnerPc = pcs.find((p) => p.metadata.name === doc.runner.priorityClassName)!;
    const placeholderPc = pcs.find((p) => p.metadata.name === doc.runner.placeholderPriorityClassName)!;
    assert.ok(runnerPc.value > 0 && placeholderPc.value < 0);
    assert.equal(placeholderPc.preemptionPolicy, 'Never');
    const sa = one(run, 'kubernetes:core/v1:ServiceAccount', 'platform-runner-sa').inputs;
    assert.equal(sa.metadata.name, doc.runner.serviceAccountName);
    assert.equal(sa.automountServiceAccountToken, false);
  });

  it('runs Valkey with AOF, a volume, a generated password, probes, a PDB and orchestrator-only ingress (in-cluster mode)', function () {
    const run = getRun();
    if (valkeyMode(getFile()) !== 'inCluster') return this.skip();
    const sts = one(run, T.statefulSet, 'valkey-statefulset').inputs;
    const c = sts.spec.template.spec.containers[0];
    assert.match(c.image, /^valkey\/valkey:\d+\.\d+\.\d+/);
    const args = c.args.join(' ');
    assert.match(args, /--appendonly yes/);
    assert.match(args, /--maxmemory-policy noeviction/);
    assert.ok(!args.includes('mockpassword'), 'the password is not on the command line');
    assert.ok(c.readinessProbe && c.livenessProbe);
    assert.equal(sts.spec.volumeClaimTemplates[0].spec.storageClassName, 'runs-fleet-gp3');
    assert.equal(ofType(run, 'random:index/randomPassword:RandomPassword').length, 1);
    const secret = one(run, T.secret, 'valkey-auth').inputs;
    assert.match(secret.stringData.password, /^mockpassword/);
    assert.equal(secret.stringData['auth.conf'], `requirepass ${secret.stringData.password}\n`);
    assert.deepEqual(one(run, T.pdb, 'valkey-pdb').inputs.spec.selector, sts.spec.selector);
    const np = one(run, T.netpol, 'valkey-ingress').inputs.spec;
    const orchestratorLabels = one(run, T.deployment, 'orchestrator-deployment').inputs.spec.template.metadata.labels;
    assert.deepEqual(np.ingress, [{ from: [{ podSelector: { matchLabels: orchestratorLabels } }], ports: [{ protocol: 'TCP', port: 6379 }] }]);
    assert.equal(orchestratorLabels[LABEL.component], 'orchestrator');
  });

  it('builds EKS with access entries, OIDC, logging and a tainted system node group', () => {
    const run = getRun();
    const eks = ofType(run, T.eks);
    assert.equal(eks.length, 1);
    const args = eks[0]!.inputs;
    assert.equal(args.authenticationMode, 'API');
    assert.equal(args.createOidcProvider, true);
    assert.equal(args.skipDefaultNodeGroup, true);
    assert.equal(args.useDefaultVpcCni, true, 'the managed vpc-cni add-on, not the component, configures the CNI');
    const cni = one(run, 'aws:eks/addon:Addon', 'cluster-vpc-cni').inputs;
    assert.equal(JSON.parse(cni.configurationValues).enableNetworkPolicy, 'true', 'NetworkPolicies are enforced');
    assert.ok(args.enabledClusterLogTypes.includes('audit'));
    const nodeRole = one(run, 'aws:iam/role:Role', 'runner-nodes-role');
    assert.deepEqual(args.accessEntries.karpenterNodes, { principalArn: `arn:aws:mock::123456789012:${nodeRole.name}`, type: 'EC2_LINUX' });
    const mng = one(run, 'eks:index:ManagedNodeGroup', 'cluster-system').inputs;
    assert.deepEqual(mng.taints, [{ key: 'CriticalAddonsOnly', value: 'true', effect: 'NO_SCHEDULE' }]);
    assert.deepEqual(mng.cluster, { resourceType: T.eks, resourceName: 'cluster-eks' });
    const coredns = one(run, 'aws:eks/addon:Addon', 'cluster-coredns').inputs;
    assert.equal(coredns.addonName, 'coredns');
    assert.match(coredns.configurationValues, /CriticalAddonsOnly/);
  });

  it('installs Karpenter 1.14.1 with IRSA and an interruption queue fed by EventBridge', () => {
    const run = getRun();
    const chart = one(run, 'kubernetes:helm.sh/v3:Release', 'karpenter-chart').inputs;
    assert.equal(chart.chart, 'oci://public.ecr.aws/karpenter/karpenter');
    assert.equal(chart.version, '1.14.1');
    assert.equal(chart.namespace, 'kube-system');
    const role = one(run, 'aws:iam/role:Role', 'karpenter-controller').inputs;
    assert.equal(chart.values.serviceAccount.annotations['eks.amazonaws.com/role-arn'], 'arn:aws:mock::123456789012:karpenter-controller');
    const trust = JSON.parse(role.assumeRolePolicy);
    assert.equal(trust.Statement[0].Condition.StringEquals[`${MOCK_OIDC_ISSUER}:sub`], 'system:serviceaccount:kube-system:karpenter');
    const rules = ofType(run, 'aws:cloudwatch/eventRule:EventRule');
    assert.equal(rules.length, 5);
    for (const r of rules) assert.ok('detail-type' in JSON.parse(r.inputs.eventPattern), r.name);
    assert.equal(ofType(run, 'aws:cloudwatch/eventTarget:EventTarget').length, 5);
    const policy = JSON.parse(one(run, 'aws:iam/rolePolicy:RolePolicy', 'karpenter-controller').inputs.policy);
    const passRole = policy.Statement.find((s: any) => s.Action === 'iam:PassRole');
    assert.equal(passRole.Resource, 'arn:aws:mock::123456789012:runner-nodes-role');
  });

  it('uses runs-fleet:infra:<Name> components and prefixes every child with its component name', () => {
    const run = getRun();
    const components = run.resources.filter((r) => r.type.startsWith('runs-fleet:infra:'));
    assert.deepEqual(components.map((c) => c.type).sort(), [
      'runs-fleet:infra:Cluster', valkeyMode(getFile()) === 'elastiCache' ? 'runs-fleet:infra:ElastiCacheValkey' : null,
      'runs-fleet:infra:Karpenter', 'runs-fleet:infra:Network', 'runs-fleet:infra:NodeIdentity', 'runs-fleet:infra:Observability',
      'runs-fleet:infra:Orchestrator', 'runs-fleet:infra:RunnerPlatform', valkeyMode(getFile()) === 'inCluster' ? 'runs-fleet:infra:Valkey' : null,
    ].filter(Boolean));
    const componentNames = components.map((c) => c.name);
    for (const r of run.resources) {
      if (r.type.startsWith('runs-fleet:infra:')) continue;
      assert.ok(componentNames.some((n) => r.name.startsWith(`${n}-`)), `${r.type} ${r.name} is not named after its component`);
      assert.ok(r.urn.includes('runs-fleet:infra:'), `${r.name} has no component parent: ${r.urn}`);
    }
  });

  it('exports what an operator needs', () => {
    const o = getRun().outputs;
    assert.match(o.webhookUrl, /^https:\/\/[a-z0-9.-]+\/webhook$/);
    assert.equal(o.githubAppSettings.webhookUrl, o.webhookUrl);
    assert.deepEqual(o.githubAppSettings.subscribeToEvents, ['Workflow job']);
    assert.match(o.kubeconfig, /"kind":"Config"/);
    assert.match(o.clusterName, /^runs-fleet-/);
    assert.match(o.valkeyEndpoint, valkeyMode(getFile()) === 'elastiCache' ? /^rediss:\/\// : /^redis:\/\/valkey\./);
    assert.match(o.webhookDns, /CNAME/);
    assert.deepEqual(Object.keys(o.nodePools).sort(), classesOf(getFile()).map((c) => c.name).sort());
  });
}

describe('infra program under mocks', function () {
  this.timeout(60_000);

  describe('dev stack (Pulumi.dev.yaml: new VPC, mixed arm64/amd64 classes)', () => {
    let file: StackFile;
    let run: ProgramRun;
    before(async () => {
      file = loadStackFile(root('Pulumi.dev.yaml'));
      run = await runProgram(file.config, { stack: 'dev', secretKeys: file.secretKeys });
    });

    commonChecks(() => run, () => file);

    it('creates the VPC with tagged subnets in three zones and one NAT gateway', () => {
      assert.equal(ofType(run, 'aws:ec2/vpc:Vpc').length, 1);
      const privateSubnets = ofType(run, 'aws:ec2/subnet:Subnet').filter((s) => s.name.includes('private'));
      assert.equal(privateSubnets.length, 3);
      for (const s of privateSubnets) assert.equal(s.inputs.tags['karpenter.sh/discovery'], 'runs-fleet-dev');
      assert.equal(ofType(run, 'aws:ec2/natGateway:NatGateway').length, 1);
      assert.equal(ofType(run, 'aws:ec2/tag:Tag').length, 0);
    });

    it('creates the webhook DNS record in the configured zone', () => {
      const record = one(run, 'aws:route53/record:Record', 'orchestrator-dns').inputs;
      assert.equal(record.name, 'runs-fleet.dev.example.com');
      assert.deepEqual(record.records, [run.outputs.loadBalancerHostname]);
      const svc = one(run, 'kubernetes:core/v1:Service', 'orchestrator-webhook').inputs;
      assert.equal(svc.spec.type, 'LoadBalancer');
      assert.equal(svc.metadata.annotations['service.beta.kubernetes.io/aws-load-balancer-ssl-cert'],
        (file.config['runs-fleet:webhook'] as { certificateArn: string }).certificateArn);
      assert.deepEqual(svc.spec.ports, [{ name: 'https', port: 443, targetPort: 'http', protocol: 'TCP' }]);
    });

    it('keeps every child name when classes and pools are reordered', async () => {
      const reordered = {
        ...file.config,
        'runs-fleet:classes': [...(file.config['runs-fleet:classes'] as unknown[])].reverse(),
        'runs-fleet:pools': [...(file.config['runs-fleet:pools'] as unknown[])].reverse(),
      };
      const again = await runProgram(reordered, { stack: 'dev', secretKeys: file.secretKeys });
      const names = (r: ProgramRun) => r.resources.map((x) => `${x.type}::${x.name}`).sort();
      assert.deepEqual(names(again), names(run));
      for (const np of ofType(run, T.nodePool)) assert.deepEqual(one(again, T.nodePool, np.name).inputs, np.inputs);
    });

    it('records the same resources in preview, for policies that run at preview time', async () => {
      const preview = await runProgram(file.config, { stack: 'dev', secretKeys: file.secretKeys, preview: true });
      assert.equal(preview.resources.length, run.resources.length);
      assert.deepEqual(one(preview, T.nodePool, 'karpenter-nodepool-4cpu-linux-arm64').inputs.spec.limits, { cpu: '192' });
    });
  });

  describe('prod-existing-vpc stack (existing VPC, repo scope, amd64-heavy on-demand classes)', () => {
    let file: StackFile;
    let run: ProgramRun;
    before(async () => {
      file = loadStackFile(root('Pulumi.prod-existing-vpc.yaml'));
      run = await runProgram(file.config, { stack: 'prod-existing-vpc', secretKeys: file.secretKeys });
    });

    commonChecks(() => run, () => file);

    it('adopts the existing VPC: no network resources, discovery tags on its private subnets', () => {
      const net = file.config['runs-fleet:network'] as { vpcId: string; privateSubnetIds: string[] };
      assert.equal(ofType(run, 'aws:ec2/vpc:Vpc').length, 0);
      assert.equal(ofType(run, 'aws:ec2/subnet:Subnet').length, 0);
      const tags = ofType(run, 'aws:ec2/tag:Tag');
      assert.deepEqual(tags.map((t) => t.inputs.resourceId).sort(), [...net.privateSubnetIds].sort());
      for (const t of tags) assert.deepEqual([t.inputs.key, t.inputs.value], ['karpenter.sh/discovery', 'runs-fleet-prod']);
      const eks = ofType(run, T.eks)[0]!.inputs;
      assert.equal(eks.vpcId, net.vpcId);
      assert.deepEqual(eks.privateSubnetIds, net.privateSubnetIds);
      assert.equal(eks.endpointPublicAccess, false);
      assert.equal(Object.keys(eks.accessEntries).filter((k) => k.startsWith('admin-')).length, 1);
    });

    it('passes the rotating webhook secret and leaves DNS to the operator', () => {
      const webhook = one(run, T.secret, 'orchestrator-webhook').inputs.stringData;
      assert.deepEqual(Object.keys(webhook).sort(), ['current', 'previous']);
      assert.equal(ofType(run, 'aws:route53/record:Record').length, 0);
      assert.equal(run.outputs.webhookDns, `create a CNAME record runners.ci.example.org -> ${run.outputs.loadBalancerHostname}`);
      assert.equal(one(run, T.deployment, 'orchestrator-deployment').inputs.spec.replicas, 3);
      assert.deepEqual(run.outputs.githubAppSettings.permissions.repository.Administration, 'Read and write');
    });

    it('sizes on-demand NodePools and the node classes for 100 and 200 GiB', () => {
      const np = one(run, T.nodePool, 'karpenter-nodepool-16cpu-linux-amd64').inputs;
      assert.deepEqual(np.spec.template.spec.requirements.find((r: any) => r.key === 'karpenter.sh/capacity-type').values, ['on-demand']);
      assert.equal(np.metadata.annotations[INFRA.warmPoolMaxCpu], String(8 * 16));
      assert.deepEqual(ofType(run, T.nodeClass).map((n) => n.name).sort(), ['karpenter-nodeclass-100gib', 'karpenter-nodeclass-200gib']);
    });
  });

  describe('several GitHub Apps (runs-fleet:github.apps)', () => {
    it('puts every App, the top-level one first, in apps.json and points RUNS_FLEET_GITHUB_APPS_FILE at it; the runtime reads it back', async () => {
      const file = loadStackFile(root('Pulumi.dev.yaml'));
      const github = file.config['runs-fleet:github'] as Record<string, unknown>;
      const extra = { appId: 222222, privateKey: github.privateKey, webhookSecret: 'second-app-webhook-secret', installations: [77] };
      const config = { ...file.config, 'runs-fleet:github': { ...github, apps: [extra] } };
      const run = await runProgram(config, { stack: 'dev', secretKeys: file.secretKeys });
      const e = env(run);
      for (const single of ['RUNS_FLEET_GITHUB_APP_ID', 'RUNS_FLEET_GITHUB_PRIVATE_KEY_FILE', 'RUNS_FLEET_WEBHOOK_SECRET', 'RUNS_FLEET_WEBHOOK_SECRET_PREVIOUS'])
        assert.equal(e.get(single), undefined, `${single} is replaced by the apps file`);
      const appsPath = e.get('RUNS_FLEET_GITHUB_APPS_FILE').value as string;
      const pod = one(run, T.deployment, 'orchestrator-deployment').inputs.spec.template.spec;
      const mount = pod.containers[0].volumeMounts.find((m: any) => appsPath.startsWith(`${m.mountPath}/`));
      const volume = pod.volumes.find((v: any) => v.name === mount.name);
      const secret = ofType(run, T.secret).find((x) => `${x.name}-mock` === volume.secret.secretName)!;
      const json = secret.inputs.stringData[appsPath.split('/').pop()!] as string;
      const loaded = loadEnv({
        RUNS_FLEET_GITHUB_APPS_FILE: appsPath, RUNS_FLEET_VALKEY_URL: 'redis://v:6379', RUNS_FLEET_CONFIG_FILE: '/c.json',
      }, (p) => {
        if (p === appsPath) return json;
        throw Object.assign(new Error('nope'), { code: 'ENOENT' });
      });
      assert.deepEqual(loaded.githubApps.map((a) => [a.appId, a.webhookSecret, a.installations]), [
        [String(github.appId), github.webhookSecret, []],
        ['222222', 'second-app-webhook-secret', [77]],
      ]);
    });

    it('refuses the same App twice', async () => {
      const file = loadStackFile(root('Pulumi.dev.yaml'));
      const github = file.config['runs-fleet:github'] as Record<string, unknown>;
      const bad = { ...file.config, 'runs-fleet:github': { ...github, apps: [{ appId: github.appId, privateKey: github.privateKey, webhookSecret: 'second-app-webhook-secret' }] } };
      await assert.rejects(runProgram(bad, { stack: 'dev', secretKeys: file.secretKeys }), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.ok(err.problems.some((p) => p.includes('runs-fleet:github.apps[0].appId') && p.includes('listed twice')), err.message);
        return true;
      });
    });
  });

  describe('invalid stack config', () => {
    it('fails before registering anything, listing every problem by path', async () => {
      const file = loadStackFile(root('Pulumi.dev.yaml'));
      const pools = structuredClone(file.config['runs-fleet:pools']) as Array<Record<string, unknown>>;
      pools[1]!.min = 6;
      pools[1]!.max = 4;
      pools[2]!.class = 'gpu';
      const bad = { ...file.config, 'runs-fleet:pools': pools, 'runs-fleet:orchestrator': { replicas: 1 } };
      await assert.rejects(runProgram(bad, { stack: 'dev', secretKeys: file.secretKeys }), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.ok(err.problems.includes('runs-fleet:pools[1].max must be ≥ min (4 < 6)'), err.message);
        assert.ok(err.problems.some((p) => p.startsWith('runs-fleet:pools[2].class names unknown class "gpu"')), err.message);
        assert.ok(err.problems.some((p) => p.startsWith('runs-fleet:orchestrator.replicas must be at least 2')), err.message);
        return true;
      });
    });

    it('reports a misspelt top-level key and a missing region', async () => {
      const file = loadStackFile(root('Pulumi.dev.yaml'));
      const { 'aws:region': _region, ...withoutRegion } = file.config;
      const bad = { ...withoutRegion, 'runs-fleet:valkey-size': 3 };
      await assert.rejects(runProgram(bad, { stack: 'dev', secretKeys: file.secretKeys }), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.ok(err.problems.some((p) => p.startsWith('runs-fleet:valkey-size is not a known setting')), err.message);
        assert.ok(err.problems.some((p) => p.startsWith('aws:region is not set')), err.message);
        return true;
      });
    });
  });
});
