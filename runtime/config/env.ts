import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../util/errors.ts';

/** One GitHub App the orchestrator acts as: its JWT issuer, key and webhook secret(s). */
export interface GitHubAppEnv {
  /** Numeric App ID or client ID (`Iv…`): the JWT issuer. */
  appId: string;
  /** PEM; never logged. */
  privateKey: string;
  webhookSecret: string;
  previousWebhookSecret: string | undefined;
  /**
   * Installation ids of this App, when listed: installation ids are unique across GitHub,
   * so an id names its App without asking GitHub. Empty means "look them up".
   */
  installations: number[];
}

/**
 * Everything the orchestrator reads from its environment, validated once at start.
 * The cluster sets these on the orchestrator Deployment; `npm start` sets them for
 * the embedded default. docs/configuration.md documents every variable.
 */
export interface RuntimeEnv {
  port: number;
  /** Metrics, probes and status (runtime/http/private-server.ts); never behind the load balancer. */
  privatePort: number;
  /**
   * Replicas that must hold an accepted job before the webhook is answered 2xx (Valkey
   * WAIT). 0 when Valkey has no replica (the in-cluster StatefulSet).
   */
  valkeyWaitReplicas: number;
  /** How long WAIT may take before the delivery is answered 503 and redelivered (below the 3 s command timeout). */
  valkeyWaitTimeoutMs: number;
  webhookSecret: string;
  /** Accepted too, so a secret can be rotated without failing deliveries. */
  previousWebhookSecret: string | undefined;
  valkeyUrl: string;
  /** The first App's id and key (the single-App form, or the first entry of RUNS_FLEET_GITHUB_APPS_FILE). */
  githubAppId: string;
  githubPrivateKey: string;
  /**
   * Every App, in configured order: one for the single-App variables, one or more from
   * RUNS_FLEET_GITHUB_APPS_FILE. Webhooks signed with any App's secret are accepted.
   */
  githubApps: GitHubAppEnv[];
  githubApiUrl: string;
  runnerNamespace: string;
  systemNamespace: string;
  configFile: string;
  /** Path(s) of a kubeconfig; undefined means in-cluster service-account config. */
  kubeconfig: string | undefined;
  /** This replica's identity: consumer name in the stream group and Lease holder. */
  identity: string;
  logLevel: string;
  /** Jobs provisioned at once by this replica. */
  concurrency: number;
}

type Env = Record<string, string | undefined>;
type ReadFile = (path: string) => string;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads and validates the environment; throws ConfigError naming every bad variable and its fix. */
export function loadEnv(env: Env = process.env, readFile: ReadFile = (p) => readFileSync(p, 'utf8')): RuntimeEnv {
  const problems: string[] = [];
  const str = (name: string) => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const required = (name: string, fix: string) => {
    const v = str(name);
    if (v === undefined) problems.push(`${name} is not set: ${fix}`);
    return v ?? '';
  };
  const int = (name: string, dflt: number, min: number, max: number) => {
    const raw = str(name);
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}="${raw}" is not an integer in ${min}..${max}: set it to a number such as ${dflt}`);
      return dflt;
    }
    return n;
  };

  const port = int('RUNS_FLEET_PORT', 8080, 0, 65535);
  const privatePort = int('RUNS_FLEET_PRIVATE_PORT', 9090, 0, 65535);
  if (privatePort !== 0 && privatePort === port)
    problems.push(`RUNS_FLEET_PRIVATE_PORT must differ from RUNS_FLEET_PORT (both ${port}): metrics must not share the webhook listener`);
  const valkeyWaitReplicas = int('RUNS_FLEET_VALKEY_WAIT_REPLICAS', 0, 0, 5);
  const valkeyWaitTimeoutMs = int('RUNS_FLEET_VALKEY_WAIT_TIMEOUT_MS', 1_000, 10, 2_500);
  const valkeyUrl = parseValkeyUrl(
    required('RUNS_FLEET_VALKEY_URL', 'set it to the Valkey address, e.g. redis://valkey.runs-fleet-system.svc:6379'),
    str('RUNS_FLEET_VALKEY_PASSWORD'),
    problems,
  );
  const appsFile = str('RUNS_FLEET_GITHUB_APPS_FILE');
  let githubApps: GitHubAppEnv[];
  if (appsFile) {
    const single = ['RUNS_FLEET_GITHUB_APP_ID', 'RUNS_FLEET_GITHUB_CLIENT_ID', 'RUNS_FLEET_GITHUB_PRIVATE_KEY', 'RUNS_FLEET_GITHUB_PRIVATE_KEY_FILE', 'RUNS_FLEET_WEBHOOK_SECRET', 'RUNS_FLEET_WEBHOOK_SECRET_PREVIOUS'].filter((n) => str(n));
    if (single.length) problems.push(`RUNS_FLEET_GITHUB_APPS_FILE is set, so ${single.join(', ')} must not be: put every App, the first one too, in the file`);
    githubApps = readAppsFile(appsFile, readFile, problems);
  } else {
    const webhookSecret = required('RUNS_FLEET_WEBHOOK_SECRET', 'set it to the webhook secret of your GitHub App');
    const previousWebhookSecret = str('RUNS_FLEET_WEBHOOK_SECRET_PREVIOUS');
    const appId = required('RUNS_FLEET_GITHUB_APP_ID', 'set it to the App ID (or client ID) shown on your GitHub App page (or list several Apps in RUNS_FLEET_GITHUB_APPS_FILE)');
    if (appId && !APP_ID.test(appId)) problems.push('RUNS_FLEET_GITHUB_APP_ID must be the numeric App ID or the client ID (Iv…) of your GitHub App');
    const privateKey = readPrivateKey(env, readFile, problems);
    githubApps = [{ appId, privateKey, webhookSecret, previousWebhookSecret, installations: [] }];
  }
  const first = githubApps[0] ?? { appId: '', privateKey: '', webhookSecret: '', previousWebhookSecret: undefined, installations: [] };
  const githubAppId = first.appId;
  const githubPrivateKey = first.privateKey;
  const webhookSecret = first.webhookSecret;
  const previousWebhookSecret = first.previousWebhookSecret;
  const githubApiUrl = parseUrl('RUNS_FLEET_GITHUB_API_URL', str('RUNS_FLEET_GITHUB_API_URL') ?? 'https://api.github.com', problems);
  const runnerNamespace = namespace('RUNS_FLEET_RUNNER_NAMESPACE', str('RUNS_FLEET_RUNNER_NAMESPACE') ?? 'runs-fleet-runners', problems);
  const systemNamespace = namespace('RUNS_FLEET_SYSTEM_NAMESPACE', str('RUNS_FLEET_SYSTEM_NAMESPACE') ?? 'runs-fleet-system', problems);
  const configFile = required('RUNS_FLEET_CONFIG_FILE', 'set it to the config document (runner classes, pools, aliases), e.g. /etc/runs-fleet/config.json');
  const logLevel = str('RUNS_FLEET_LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`RUNS_FLEET_LOG_LEVEL="${logLevel}" must be one of ${LOG_LEVELS.join(', ')}`);
  const concurrency = int('RUNS_FLEET_CONCURRENCY', 16, 1, 256);

  if (problems.length) throw new ConfigError(problems);
  return {
    port, privatePort, valkeyWaitReplicas, valkeyWaitTimeoutMs, webhookSecret, previousWebhookSecret, valkeyUrl, githubAppId, githubPrivateKey, githubApps, githubApiUrl,
    runnerNamespace, systemNamespace, configFile, kubeconfig: str('KUBECONFIG'),
    identity: str('RUNS_FLEET_POD_NAME') ?? str('HOSTNAME') ?? hostname(), logLevel, concurrency,
  };
}

const APP_ID = /^(\d+|Iv[0-9A-Za-z.]+)$/;
const PEM = /-----BEGIN (RSA )?PRIVATE KEY-----/;

/**
 * RUNS_FLEET_GITHUB_APPS_FILE: a JSON or YAML list (YAML is a superset of JSON) of
 * `{ appId, privateKey | privateKeyFile, webhookSecret, previousWebhookSecret?, installations? }`.
 * Problems name the entry by position and field, never by value: the file holds secrets.
 */
function readAppsFile(path: string, readFile: ReadFile, problems: string[]): GitHubAppEnv[] {
  const where = `RUNS_FLEET_GITHUB_APPS_FILE=${path}`;
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    problems.push(`${where} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): mount the Apps list there`);
    return [];
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch {
    // A YAML error message quotes the offending line, which may be a key: name only the kind.
    problems.push(`${where} is not valid JSON or YAML`);
    return [];
  }
  const list = Array.isArray(raw) ? raw : raw && typeof raw === 'object' && Array.isArray((raw as { apps?: unknown }).apps) ? (raw as { apps: unknown[] }).apps : undefined;
  if (!list || list.length === 0) {
    problems.push(`${where} must hold a non-empty list of Apps: [{ appId, privateKey (or privateKeyFile), webhookSecret }, …]`);
    return [];
  }
  const apps: GitHubAppEnv[] = [];
  const seenIds = new Set<string>();
  const seenInstallations = new Map<number, number>();
  list.forEach((entry, i) => {
    const at = `${where} entry ${i + 1}`;
    if (!entry || typeof entry !== 'object') return void problems.push(`${at} is not an object`);
    const e = entry as Record<string, unknown>;
    const text = (k: string) => (typeof e[k] === 'string' || typeof e[k] === 'number' ? String(e[k]).trim() : undefined) || undefined;
    const appId = text('appId') ?? text('clientId') ?? '';
    if (!APP_ID.test(appId)) problems.push(`${at}: appId must be the numeric App ID or the client ID (Iv…) of the GitHub App`);
    else if (seenIds.has(appId)) problems.push(`${at}: appId ${appId} is listed twice`);
    seenIds.add(appId);
    let privateKey = typeof e.privateKey === 'string' ? e.privateKey.replace(/\\n/g, '\n') : '';
    const keyFile = text('privateKeyFile');
    if (privateKey && keyFile) problems.push(`${at}: set only one of privateKey and privateKeyFile`);
    else if (keyFile) {
      try {
        privateKey = readFile(keyFile);
      } catch (err) {
        problems.push(`${at}: privateKeyFile ${keyFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): mount the App's .pem there`);
      }
    } else if (!privateKey) problems.push(`${at}: privateKey (PEM) or privateKeyFile (path to the .pem) must be set`);
    if (privateKey && !PEM.test(privateKey)) problems.push(`${at}: ${keyFile ? 'privateKeyFile' : 'privateKey'} does not hold a PEM private key (expected "-----BEGIN RSA PRIVATE KEY-----")`);
    const webhookSecret = typeof e.webhookSecret === 'string' ? e.webhookSecret.trim() : '';
    if (!webhookSecret) problems.push(`${at}: webhookSecret must be set to the App's webhook secret`);
    const previousWebhookSecret = typeof e.previousWebhookSecret === 'string' && e.previousWebhookSecret.trim() ? e.previousWebhookSecret.trim() : undefined;
    const installations: number[] = [];
    if (e.installations !== undefined) {
      if (!Array.isArray(e.installations) || !e.installations.every((n) => Number.isInteger(n) && (n as number) > 0))
        problems.push(`${at}: installations must be a list of installation ids (positive integers)`);
      else
        for (const n of e.installations as number[]) {
          const other = seenInstallations.get(n);
          // An installation belongs to exactly one App.
          if (other !== undefined && other !== i) problems.push(`${at}: installation ${n} is also listed under entry ${other + 1}; an installation belongs to one App`);
          seenInstallations.set(n, i);
          installations.push(n);
        }
    }
    apps.push({ appId, privateKey, webhookSecret, previousWebhookSecret, installations });
  });
  return apps;
}

function readPrivateKey(env: Env, readFile: ReadFile, problems: string[]): string {
  const inline = env.RUNS_FLEET_GITHUB_PRIVATE_KEY?.trim();
  const file = env.RUNS_FLEET_GITHUB_PRIVATE_KEY_FILE?.trim();
  if (inline && file) {
    problems.push('set only one of RUNS_FLEET_GITHUB_PRIVATE_KEY and RUNS_FLEET_GITHUB_PRIVATE_KEY_FILE');
    return '';
  }
  let pem = inline?.replace(/\\n/g, '\n');
  if (file) {
    try {
      pem = readFile(file);
    } catch (err) {
      problems.push(`RUNS_FLEET_GITHUB_PRIVATE_KEY_FILE=${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): mount the App's private key there`);
      return '';
    }
  }
  if (!pem) {
    problems.push('RUNS_FLEET_GITHUB_PRIVATE_KEY or RUNS_FLEET_GITHUB_PRIVATE_KEY_FILE must be set: use the .pem private key generated on your GitHub App page');
    return '';
  }
  // Never echo the value: name the variable and what a key looks like.
  if (!PEM.test(pem))
    problems.push(`${file ? 'RUNS_FLEET_GITHUB_PRIVATE_KEY_FILE' : 'RUNS_FLEET_GITHUB_PRIVATE_KEY'} does not hold a PEM private key (expected "-----BEGIN RSA PRIVATE KEY-----")`);
  return pem;
}

/**
 * Only the Valkey address, for commands that read the queue beside a running orchestrator
 * (`npm run jobs`): the same variables and checks as loadEnv. Throws ConfigError.
 */
export function loadValkeyUrl(env: Env = process.env): string {
  const problems: string[] = [];
  const raw = env.RUNS_FLEET_VALKEY_URL?.trim();
  if (!raw) throw new ConfigError(['RUNS_FLEET_VALKEY_URL is not set: set it to the Valkey address, e.g. redis://valkey.runs-fleet-system.svc:6379 (in the orchestrator pod it is set already)']);
  const url = parseValkeyUrl(raw, env.RUNS_FLEET_VALKEY_PASSWORD?.trim() || undefined, problems);
  if (problems.length) throw new ConfigError(problems);
  return url;
}

function parseValkeyUrl(raw: string, password: string | undefined, problems: string[]): string {
  if (!raw) return '';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push('RUNS_FLEET_VALKEY_URL is not a URL: use redis://host:6379 (or rediss:// for TLS)');
    return '';
  }
  if (!['redis:', 'rediss:', 'valkey:', 'valkeys:'].includes(url.protocol)) {
    problems.push(`RUNS_FLEET_VALKEY_URL has scheme "${url.protocol}": use redis://, rediss://, valkey:// or valkeys://`);
    return '';
  }
  if (password) url.password = encodeURIComponent(password);
  return url.toString();
}

function parseUrl(name: string, raw: string, problems: string[]): string {
  try {
    const url = new URL(raw);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error();
    return raw.replace(/\/+$/, '');
  } catch {
    problems.push(`${name}="${raw}" is not an http(s) URL: use https://api.github.com or https://<ghes-host>/api/v3`);
    return raw;
  }
}

function namespace(name: string, value: string, problems: string[]): string {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value) || value.length > 63)
    problems.push(`${name}="${value}" is not a Kubernetes namespace name (lowercase letters, digits, "-")`);
  return value;
}
