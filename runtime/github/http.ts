import { Pool, type Dispatcher } from 'undici';
import { ConfigError } from '../util/errors.ts';
import type { HeaderBag } from './rate-limit-signals.ts';

/**
 * The one HTTP client for GitHub: an undici Pool per API base URL with keep-alive,
 * or an injected dispatcher (a shared Agent, a MockAgent in unit tests).
 */

export const DEFAULT_GITHUB_API_URL = 'https://api.github.com';

export interface ApiBase {
  origin: string;
  /** `/api/v3` on GitHub Enterprise Server, empty on github.com. */
  pathPrefix: string;
}

/** Splits an API base URL into origin and path prefix; `source` names the setting for errors. */
export function parseApiUrl(value: string, source = 'RUNS_FLEET_GITHUB_API_URL'): ApiBase {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError([`${source} is not a URL ("${value}"); use https://api.github.com or https://<ghes-host>/api/v3`]);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError([`${source} must be an http(s) URL, got ${url.protocol}`]);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new ConfigError([`${source} must not carry a query, fragment or credentials`]);
  }
  return { origin: url.origin, pathPrefix: url.pathname.replace(/\/+$/, '') };
}

export type HttpMethod = 'GET' | 'POST' | 'DELETE' | 'PATCH' | 'PUT';

export interface HttpRequest {
  method: HttpMethod;
  /** Path below the API base, e.g. `/orgs/acme/installation` (segments already encoded). */
  path: string;
  query?: Record<string, string | number | undefined>;
  headers: Record<string, string>;
  body?: unknown;
}

export interface HttpResponse {
  status: number;
  headers: HeaderBag;
  text: string;
}

export interface GitHubHttpOptions {
  apiUrl: string;
  dispatcher?: Dispatcher;
  /** Pool connections, which also bound this replica's concurrent GitHub requests (20). */
  connections?: number;
}

/** Response bodies larger than this are cut off (a runner page of 100 is ~60 KiB). */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export class GitHubHttp {
  readonly base: ApiBase;
  readonly #dispatcher: Dispatcher;
  readonly #owned: boolean;

  constructor(options: GitHubHttpOptions) {
    this.base = parseApiUrl(options.apiUrl);
    this.#owned = options.dispatcher === undefined;
    this.#dispatcher =
      options.dispatcher ??
      new Pool(this.base.origin, {
        connections: options.connections ?? 20,
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 600_000,
        connect: { timeout: 5_000 },
      });
  }

  /** Sends one request; rejects on network errors and when `signal` aborts. Never throws on a status. */
  async send(request: HttpRequest, signal: AbortSignal): Promise<HttpResponse> {
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(request.query ?? {})) if (v !== undefined) search.set(k, String(v));
    const qs = search.size ? `?${search}` : '';
    const hasBody = request.body !== undefined;
    const res = await this.#dispatcher.request({
      origin: this.base.origin,
      path: `${this.base.pathPrefix}${request.path}${qs}`,
      method: request.method,
      headers: hasBody ? { ...request.headers, 'content-type': 'application/json' } : request.headers,
      body: hasBody ? JSON.stringify(request.body) : undefined,
      signal,
    });
    return { status: res.statusCode, headers: res.headers, text: await readCapped(res.body) };
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#dispatcher.close();
  }
}

async function readCapped(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      body.destroy();
      throw new Error(`GitHub response body larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
