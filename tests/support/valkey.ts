import { randomUUID } from 'node:crypto';
import { Valkey } from 'iovalkey';
import { connectValkey, waitReady } from '../../runtime/queue/connection.ts';

/** The run's shared Valkey (started by the global fixture). */
export function testValkeyUrl(): string {
  const url = process.env.RUNS_FLEET_TEST_VALKEY_URL;
  if (!url) throw new Error('RUNS_FLEET_TEST_VALKEY_URL is not set: run tests through mocha (.mocharc.json starts Valkey)');
  return url;
}

/** A unique key prefix so tests never see each other's streams. */
export function uniquePrefix(name = 'test'): string {
  return `${name}-${randomUUID().slice(0, 8)}`;
}

/** Connections opened by a test, closed by closeAll(). */
export class Connections {
  private readonly clients: Valkey[] = [];
  command(url = testValkeyUrl()): Valkey {
    const c = connectValkey(url, 'command');
    c.on('error', () => {});
    this.clients.push(c);
    return c;
  }
  blocking(url = testValkeyUrl()): Valkey {
    const c = connectValkey(url, 'blocking');
    c.on('error', () => {});
    this.clients.push(c);
    return c;
  }
  /** Resolves when every connection opened so far is ready (command connections fail fast until then). */
  async ready(): Promise<void> {
    await Promise.all(this.clients.map((c) => waitReady(c)));
  }
  closeAll(): void {
    for (const c of this.clients.splice(0)) c.disconnect();
  }
}
