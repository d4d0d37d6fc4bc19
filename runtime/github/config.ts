import { readFileSync } from 'node:fs';
import { ConfigError } from '../util/errors.ts';
import { DEFAULT_GITHUB_API_URL, parseApiUrl } from './http.ts';

/** The GitHub App settings the orchestrator reads from its environment. */
export interface GitHubAppSettings {
  /** API base; GitHub Enterprise Server: `https://<host>/api/v3`. */
  apiUrl: string;
  /** JWT issuer: the App's client id or numeric app id. */
  appId: string;
  /** PEM; never logged. */
  privateKey: string;
}

/**
 * Reads RUNS_FLEET_GITHUB_API_URL (optional), RUNS_FLEET_GITHUB_APP_ID (or
 * RUNS_FLEET_GITHUB_CLIENT_ID) and RUNS_FLEET_GITHUB_PRIVATE_KEY (PEM) or
 * RUNS_FLEET_GITHUB_PRIVATE_KEY_FILE (path). Reports every problem at once.
 */
export function githubSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): GitHubAppSettings {
  const problems: string[] = [];
  const apiUrl = env.RUNS_FLEET_GITHUB_API_URL?.trim() || DEFAULT_GITHUB_API_URL;
  try {
    parseApiUrl(apiUrl);
  } catch (err) {
    problems.push(...(err as ConfigError).problems);
  }
  const appId = (env.RUNS_FLEET_GITHUB_CLIENT_ID ?? env.RUNS_FLEET_GITHUB_APP_ID ?? '').trim();
  if (!appId) problems.push('RUNS_FLEET_GITHUB_APP_ID (or RUNS_FLEET_GITHUB_CLIENT_ID) is not set: use the App id or client id from the App settings page');
  let privateKey = env.RUNS_FLEET_GITHUB_PRIVATE_KEY ?? '';
  const keyFile = env.RUNS_FLEET_GITHUB_PRIVATE_KEY_FILE;
  if (!privateKey && keyFile) {
    try {
      privateKey = readFileSync(keyFile, 'utf8');
    } catch {
      problems.push(`RUNS_FLEET_GITHUB_PRIVATE_KEY_FILE (${keyFile}) cannot be read: mount the App's .pem there`);
    }
  }
  if (!privateKey && !keyFile) {
    problems.push('RUNS_FLEET_GITHUB_PRIVATE_KEY (PEM) or RUNS_FLEET_GITHUB_PRIVATE_KEY_FILE (path to the .pem) must be set');
  }
  if (problems.length) throw new ConfigError(problems);
  return { apiUrl, appId, privateKey };
}
