/**
 * Runner releases: which actions/runner version runs-fleet starts by default and the oldest
 * GitHub accepts. GitHub refuses to register a runner older than 2.329.0 and stops giving
 * jobs to one that has not installed a new release within 30 days of its publication
 * (GitHub changelog, "self-hosted runner minimum version enforcement", 2026; reported at
 * https://devplace.net/news/1df3cdeb82db-github-actions-gets-serious-about-self-hosted-runner-versions).
 */

/** The default runner image's version: actions/runner v2.336.0, tagged 2026-07-20 (github.com/actions/runner/releases). */
export const DEFAULT_RUNNER_VERSION = '2.336.0';
export const DEFAULT_RUNNER_IMAGE = `ghcr.io/actions/actions-runner:${DEFAULT_RUNNER_VERSION}`;
/** The oldest runner GitHub registers. */
export const MIN_RUNNER_VERSION = '2.329.0';
/** GitHub's grace for installing a new runner release. */
export const RUNNER_RELEASE_GRACE_DAYS = 30;
/** Where runner releases are published. */
export const RUNNER_REPOSITORY = { owner: 'actions', repo: 'runner' } as const;

const SEMVER = /^v?(\d+)\.(\d+)\.(\d+)$/;

/** `2.336.0` from `2.336.0` or `v2.336.0`; undefined for anything else. */
export function parseVersion(text: string): [number, number, number] | undefined {
  const m = SEMVER.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (!x || !y) throw new RangeError(`not a runner version: ${x ? b : a}`);
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

/**
 * The runner version an image reference names, when its tag is one: `…/actions-runner:2.336.0`
 * (or `:2.336.0-ubuntu-24.04`, or with `@sha256:` after the tag). Undefined for a digest-only
 * reference or a tag that is not a version: then the version cannot be known from the name.
 */
export function imageRunnerVersion(image: string): string | undefined {
  const withoutDigest = image.split('@')[0]!;
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  if (colon <= slash) return undefined;
  const m = /^v?(\d+\.\d+\.\d+)(?:-[\w.-]+)?$/.exec(withoutDigest.slice(colon + 1));
  return m?.[1];
}

/** The same image reference with its tag set to `version` (any digest dropped: it pinned the old tag). */
export function imageWithVersion(image: string, version: string): string {
  const withoutDigest = image.split('@')[0]!;
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  const repository = colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
  return `${repository}:${version.replace(/^v/, '')}`;
}
