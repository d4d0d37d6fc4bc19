import assert from 'node:assert/strict';
import { createLogger } from '../../runtime/log.ts';
import { formatRecord, prettyLogStream } from '../../sim/pretty-log.ts';

describe('local mode on a terminal: one human line per log record (sim/pretty-log.ts)', () => {
  it('prints time, level, service, message and the other fields, with secrets already redacted by the logger', async () => {
    let out = '';
    const log = createLogger({ level: 'info', name: 'orchestrator', destination: prettyLogStream({ write: (s: string) => (out += s) }) });
    log.warn({ family: 'jit', waitMs: 60000, webhookSecret: 'hunter2' }, 'GitHub secondary rate limit; pausing this endpoint');
    log.debug('not shown at info');
    await new Promise((r) => setImmediate(r));
    assert.match(out, /^\d\d:\d\d:\d\d\.\d{3}  WARN   orchestrator  GitHub secondary rate limit; pausing this endpoint  family=jit waitMs=60000 webhookSecret=\[redacted\]\n$/);
    assert.ok(!out.includes('hunter2'));
  });

  it('passes a line that is not JSON through unchanged and joins records split across writes', () => {
    assert.equal(formatRecord('plain text'), 'plain text');
    let out = '';
    const stream = prettyLogStream({ write: (s: string) => (out += s) });
    stream.write('{"level":"info","time":"2026-12-06T21:00:00.000Z","service":"local","msg":"he');
    stream.write('llo"}\n');
    assert.equal(out, '21:00:00.000  INFO   local  hello\n');
  });
});
