export { AppJwtSource, createAppJwt, loadAppPrivateKey } from './app-jwt.ts';
export {
  GitHubClient, nextCursor, type CallOptions, type GitHubClientOptions, type HookDelivery, type JitConfig, type JitConfigRequest,
  type RepoTarget, type Runner, type RunnerScope, type RunnerTarget, type WorkflowJob,
} from './client.ts';
export { githubSettingsFromEnv, type GitHubAppSettings } from './config.ts';
export { errorReason, GitHubRateLimitedError, GitHubTransientError, RunnerNameConflictError } from './errors.ts';
export { DEFAULT_GITHUB_API_URL, parseApiUrl } from './http.ts';
export { InstallationTokenCache } from './installation-tokens.ts';
export { createGitHubMetrics, type GitHubMetrics } from './metrics.ts';
export { GitHubRateLimiter, requestCost, type GitHubRateLimiterOptions, type LimitKey, type SecondaryLimitSettings } from './rate-limiter.ts';
export { MAX_RUNNER_NAME_LENGTH, runnerName, runnerNameNonce } from './runner-name.ts';
