// Mocha's own "N passing" line is not what CI reads: it reads a closing
// "N passed, N failed" line. This reporter is Spec plus that line, printed last.
'use strict';
const Mocha = require('mocha');
const { EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats ?? {};
      const line = `${s.passes ?? 0} passed, ${s.failures ?? 0} failed, ${s.pending ?? 0} skipped`;
      process.stdout.write(`\n${line}\n`);
    });
  }
}
module.exports = SummaryReporter;
