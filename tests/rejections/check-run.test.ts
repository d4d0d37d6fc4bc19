import assert from 'node:assert/strict';
import { rejectionCheckRun } from '../../runtime/controllers/rejections/check-run.ts';
import { LabelError } from '../../runtime/labels/errors.ts';
import { parseRunsOn } from '../../runtime/labels/parse.ts';
import { resolveRunner } from '../../runtime/labels/resolve.ts';
import { sampleDocument } from '../support/config.ts';

function labelError(labels: string[]): LabelError {
  try {
    resolveRunner(parseRunsOn(labels)!, sampleDocument());
  } catch (err) {
    if (err instanceof LabelError) return err;
    throw err;
  }
  throw new Error('expected a LabelError');
}

describe('rejection check run text (pure)', () => {
  it('gives the label, the reason, the fix and every known class', () => {
    const err = labelError(['runs-fleet/runner=2cpu-linux-x64']);
    const text = rejectionCheckRun({ jobName: 'docs', labels: ['runs-fleet/runner=2cpu-linux-x64'] }, err, sampleDocument());
    assert.equal(text.name, 'runs-fleet: docs');
    assert.equal(text.title, 'No runner for docs: unknown_class');
    assert.match(text.summary, /\*\*Label:\*\* `runs-fleet\/runner=2cpu-linux-x64`/);
    assert.match(text.summary, /\*\*Reason:\*\* `unknown_class` — runner=2cpu-linux-x64 names no runner class/);
    assert.match(text.summary, /\*\*Fix:\*\* Use one of the classes below in `runner=`/);
    for (const c of sampleDocument().classes) assert.match(text.summary, new RegExp(`\\| \`${c.name}\` \\| ${c.cpu} \\|`));
  });

  it('stays small whatever the job carries', () => {
    const huge = ['x'.repeat(1_000_000), ...Array.from({ length: 200 }, (_, i) => `label-${i}-${'y'.repeat(5_000)}`)];
    const err = labelError(['runs-fleet/cpu=500']);
    const text = rejectionCheckRun({ jobName: 'n'.repeat(100_000), labels: huge }, err, sampleDocument());
    assert.ok(text.summary.length < 8_200, `summary ${text.summary.length}`);
    assert.ok(text.name.length <= 140 && text.title.length <= 160);
    assert.match(text.summary, /… 191 more labels/);
  });
});
