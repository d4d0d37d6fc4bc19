import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { applySet } from '../../infra/plan.ts';
import { parseConfigDocument } from '../../runtime/config/document.ts';
import { ConfigError } from '../../runtime/util/errors.ts';
import { loadStackDocument } from '../../sim/stack-document.ts';
import { REPO_ROOT } from '../../sim/local.ts';

/**
 * Every config rule's error names the file and the stack key, the value found, the rule and
 * the fix — zod's own wording ("Too small: expected number to be >=0") never reaches the user.
 * One row per kind of rule: the stack file is Pulumi.dev.yaml with one --set applied.
 */
const ROWS: Array<[set: string, line: string]> = [
  ['runs-fleet:pools[0].min=-1', 'runs-fleet:pools[0].min must be ≥ 0, got -1: set a value of at least 0'],
  ['runs-fleet:classes[0].cpu="4"', 'runs-fleet:classes[0].cpu must be a number, not text, got "4" (a string): write 4 without quotes'],
  ['runs-fleet:classes[0].cpu=2.5', 'runs-fleet:classes[0].cpu must be a whole number, got 2.5 (a number): use 2 or 3'],
  ['runs-fleet:classes[0].cpu=500', 'runs-fleet:classes[0].cpu must be ≤ 192, got 500: set a value of at most 192'],
  ['runs-fleet:classes[0].arch="arm"', 'runs-fleet:classes[0].arch must be one of arm64, amd64, got "arm": did you mean arm64?'],
  ['runs-fleet:classes[0].instanceFamilies=[]', 'runs-fleet:classes[0].instanceFamilies must list at least 1 item, got []: add entries'],
  ['runs-fleet:classes[0].instanceFamilies="c7g"', 'runs-fleet:classes[0].instanceFamilies must be a list, got "c7g" (a string): write it as a list'],
  ['runs-fleet:classes[0].nodePoolCPULimit=10', 'runs-fleet:classes[0] has an unknown key "nodePoolCPULimit": remove it or fix its spelling'],
  ['runs-fleet:aliases[0].match=""', 'runs-fleet:aliases[0].match must be at least 1 character long, got "": write a longer value'],
  ['runs-fleet:runner.prePullImages="yes"', 'runs-fleet:runner.prePullImages must be true or false, got "yes" (a string): write true or false'],
  ['runs-fleet:runner=5', 'runs-fleet:runner must be a mapping (key: value lines), got 5 (a number): write its settings as key: value lines'],
  ['runs-fleet:network.mode="vpc"', 'runs-fleet:network.mode must be one of create, existing, got "vpc": use one of those'],
  ['runs-fleet:orchestrator.logLevel="inf"', 'runs-fleet:orchestrator.logLevel must be one of fatal, error, warn, info, debug, trace, got "inf": did you mean info?'],
  ['runs-fleet:orchestrator.replicas=1', 'runs-fleet:orchestrator.replicas must be at least 2 (one replica per zone keeps webhooks flowing during a node loss), got 1'],
  ['runs-fleet:karpenter.consolidateAfter="2 min"', 'runs-fleet:karpenter.consolidateAfter must be a duration such as 30s, 2m or 1h30m, got "2 min"'],
  ['runs-fleet:valkey.image="valkey/valkey:latest"', 'runs-fleet:valkey.image must be pinned to a tag or digest other than :latest, got "valkey/valkey:latest"'],
  ['runs-fleet:pools[0].max=0', 'runs-fleet:pools[0].max must be ≥ min'],
  ['runs-fleet:pools[0].class="nope"', 'runs-fleet:pools[0].class names unknown class "nope"'],
  ['runs-fleet:github.apiUrl="api.github.com"', 'runs-fleet:github.apiUrl must be an http(s) URL such as https://api.github.com, got "api.github.com"'],
  ['runs-fleet:github.appId=true', 'runs-fleet:github.appId must be the numeric App ID or the client ID (Iv…) of your GitHub App, got true'],
];

describe('config errors name the file, the key, the value, the rule and the fix', function () {
  this.timeout(20_000);
  let tmp: string;
  const base = parseDocument(readFileSync(join(REPO_ROOT, 'Pulumi.dev.yaml'), 'utf8')).toJS() as { config: Record<string, unknown> };
  before(() => { tmp = mkdtempSync(join(tmpdir(), 'runs-fleet-errors-')); });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  const problemsFor = (config: Record<string, unknown>): [file: string, problems: string[]] => {
    const file = join(tmp, 'Pulumi.errors.yaml');
    writeFileSync(file, JSON.stringify({ config }));
    try {
      loadStackDocument(file);
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return [file, err.problems];
    }
    return assert.fail('the stack file was accepted');
  };

  for (const [set, line] of ROWS) {
    it(`${set} → ${line}`, () => {
      const [file, problems] = problemsFor(applySet(base.config, set));
      assert.ok(problems.some((p) => p.startsWith(`${file}: ${line}`)), `no "${file}: ${line}…" in:\n${problems.join('\n')}`);
      for (const p of problems) {
        assert.ok(p.startsWith(`${file}: `), `names the file: ${p}`);
        assert.doesNotMatch(p, /Too (small|big)|Invalid (input|option)|Unrecognized key|expected \w+, received/, `zod's own wording: ${p}`);
      }
    });
  }

  it('says which required setting is missing and never shows a secret value', () => {
    const config = { ...base.config };
    delete config['runs-fleet:webhook'];
    config['runs-fleet:github'] = { appId: 1, privateKey: 'hunter2-not-a-pem', webhookSecret: 'hunter3' };
    const [file, problems] = problemsFor(config);
    const text = problems.join('\n');
    assert.ok(problems.includes(`${file}: runs-fleet:webhook is missing: it is required (a mapping); add it`), text);
    assert.match(text, /runs-fleet:github\.privateKey must be the PEM private key .*; the value is a secret and is not shown/);
    assert.match(text, /runs-fleet:github\.webhookSecret must be at least 16 characters .*; the value is a secret and is not shown/);
    assert.ok(!text.includes('hunter2') && !text.includes('hunter3'), text);
  });

  it('words the config document (RUNS_FLEET_CONFIG_FILE) the same way', () => {
    assert.throws(() => parseConfigDocument({ classes: [{ name: 'a', arch: 'arm64', cpu: 0, memoryGiB: 4, diskGiB: 50, instanceFamilies: ['c7g'], nodePoolCpuLimit: 4 }] }, '/etc/runs-fleet/config.yaml: '),
      (err: unknown) => err instanceof ConfigError && err.problems[0] === '/etc/runs-fleet/config.yaml: classes[0].cpu must be ≥ 1, got 0: set a value of at least 1');
  });
});
