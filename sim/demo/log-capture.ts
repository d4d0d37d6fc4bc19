import { Writable } from 'node:stream';
import { pino } from 'pino';
import { REDACT_PATHS, type Logger } from '../../runtime/log.ts';

/** One orchestrator log line, parsed. */
export interface LogLine {
  level: number;
  time: number;
  msg: string;
  [key: string]: unknown;
}

/**
 * A logger for the orchestrator that keeps its lines (secrets redacted as in production)
 * so the demo can quote the orchestrator's own explanation of what it did and why.
 */
export function capturingLogger(level = 'info', keep = 5_000): { log: Logger; lines: () => LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const text of String(chunk).split('\n')) {
        if (!text) continue;
        try {
          lines.push(JSON.parse(text) as LogLine);
          if (lines.length > keep) lines.shift();
        } catch {
          // not JSON: ignore
        }
      }
      cb();
    },
  });
  const log = pino({ level, base: { service: 'orchestrator' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, stream);
  return { log, lines: () => [...lines] };
}
