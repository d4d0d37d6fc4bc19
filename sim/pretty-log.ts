import { Writable } from 'node:stream';

/**
 * A pino destination that prints each JSON record as one human line on a terminal:
 * `21:40:03.120 WARN  orchestrator  GitHub secondary rate limit; pausing this endpoint  family=jit waitMs=60000`.
 * Local mode uses it on a TTY so that log records and job transitions share one format;
 * elsewhere (or with --json) the records stay JSON. The records were already redacted by
 * the logger (runtime/log.ts), so nothing here can reveal a secret.
 * pino-pretty does this too, but as a worker-thread transport with its own dependencies;
 * one line per record needs neither.
 */
export function prettyLogStream(out: { write(s: string): unknown }, color = false): Writable {
  let partial = '';
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      const text = partial + chunk.toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (line) out.write(`${formatRecord(line, color)}\n`);
      done();
    },
  });
}

const COLORS: Record<string, string> = { fatal: '35', error: '31', warn: '33', info: '36', debug: '90', trace: '90' };
const OMIT = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname']);

/** One JSON log record (or any other line, unchanged) as a human line. */
export function formatRecord(line: string, color = false): string {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof r.time === 'string' ? r.time.slice(11, 23) : new Date().toISOString().slice(11, 23);
  const level = String(r.level ?? 'info');
  const tag = level.toUpperCase().padEnd(5);
  const fields = Object.entries(r).filter(([k]) => !OMIT.has(k)).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const head = color && COLORS[level] ? `\x1b[${COLORS[level]}m${tag}\x1b[0m` : tag;
  return [time, head, String(r.service ?? ''), String(r.msg ?? ''), fields.join(' ')].filter(Boolean).join('  ');
}
