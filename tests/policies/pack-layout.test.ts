import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import ts from 'typescript';
import { parse as parseYaml } from 'yaml';
import { policies } from '../../policies/policies.ts';
import { root } from './support.ts';

/**
 * The pack as the Pulumi CLI loads it: PulumiPolicy.yaml (runtime nodejs), a versioned
 * package.json whose dependencies `npm ci --prefix policies` installs (the same SDK
 * versions as the program; ts-node 10 with TypeScript < 7, which ts-node needs), and an
 * index.ts that only constructs the pack. Also what @pulumi/policy's server checks at
 * start (it exits on a policy named `all` or a schema declaring enforcementLevel).
 */

const json = (p: string) => JSON.parse(readFileSync(root(p), 'utf8'));

describe('policy pack layout (policies/)', () => {
  it('has PulumiPolicy.yaml with the nodejs runtime and a description', () => {
    const project = parseYaml(readFileSync(root('policies/PulumiPolicy.yaml'), 'utf8'));
    assert.equal(project.runtime, 'nodejs');
    assert.ok(String(project.description).length > 20);
  });

  it('has a versioned package.json pinning the root’s SDK versions and a TypeScript ts-node can run', () => {
    const pkg = json('policies/package.json');
    const rootPkg = json('package.json');
    const rootDeps = { ...rootPkg.dependencies, ...rootPkg.devDependencies };
    assert.match(pkg.version, /^\d+\.\d+\.\d+$/);
    assert.equal(pkg.type, 'module');
    assert.equal(pkg.main, 'index.ts');
    assert.equal(pkg.dependencies['@pulumi/policy'], rootDeps['@pulumi/policy']);
    assert.equal(pkg.dependencies['@pulumi/pulumi'], rootDeps['@pulumi/pulumi']);
    assert.equal(pkg.dependencies['ts-node'], '10.9.2');
    assert.match(pkg.dependencies.typescript, /^[5-6]\.\d+\.\d+$/);
  });

  it('has a lockfile for exactly those dependencies (npm ci --prefix policies)', () => {
    const lock = json('policies/package-lock.json');
    assert.deepEqual(lock.packages[''].dependencies, json('policies/package.json').dependencies);
    for (const [name, version] of Object.entries(json('policies/package.json').dependencies))
      assert.equal(lock.packages[`node_modules/${name}`]?.version, version, name);
  });

  it('lets Node load the ESM pack itself under ts-node (tsconfig "ts-node".ignore)', () => {
    const { config, error } = ts.parseConfigFileTextToJson('tsconfig.json', readFileSync(root('policies/tsconfig.json'), 'utf8'));
    assert.equal(error, undefined);
    assert.deepEqual(config['ts-node'], { ignore: ['.'] });
    assert.equal(config.compilerOptions.module, 'NodeNext');
  });

  it('constructs the pack in index.ts and nothing else', () => {
    const src = readFileSync(root('policies/index.ts'), 'utf8');
    assert.equal(src.match(/new PolicyPack\(/g)?.length, 1);
    assert.doesNotMatch(src, /^export /m);
    for (const file of readdirSync(root('policies')).filter((f) => f.endsWith('.ts') && f !== 'index.ts'))
      assert.doesNotMatch(readFileSync(root(`policies/${file}`), 'utf8'), /new PolicyPack\(/, file);
  });

  it('has unique kebab-case policy names, descriptions, levels, and schemas the server accepts, each setting with a default', () => {
    const names = policies.map((p) => p.name);
    assert.equal(new Set(names).size, names.length);
    for (const p of policies) {
      assert.match(p.name, /^[a-z0-9]+(-[a-z0-9]+)*$/);
      assert.notEqual(p.name, 'all');
      assert.ok(p.description.length > 20, p.name);
      assert.ok(p.enforcementLevel === 'mandatory' || p.enforcementLevel === 'advisory', p.name);
      for (const [key, prop] of Object.entries(p.configSchema?.properties ?? {})) {
        assert.notEqual(key, 'enforcementLevel');
        assert.ok(typeof prop === 'object' && 'default' in prop && prop.description, `${p.name}.${key} needs a default and a description`);
      }
    }
  });

  it('is documented policy by policy in docs/policies.md, with every setting', () => {
    const doc = readFileSync(root('docs/policies.md'), 'utf8');
    for (const p of policies) {
      assert.ok(doc.includes(`\`${p.name}\``), `docs/policies.md does not mention ${p.name}`);
      for (const key of Object.keys(p.configSchema?.properties ?? {})) assert.ok(doc.includes(`\`${key}\``), `docs/policies.md does not mention ${p.name}.${key}`);
    }
  });
});
