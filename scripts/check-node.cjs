// Runs before every npm script a newcomer types (pre-hooks in package.json), on whatever Node is
// on PATH, so it is plain ES5 CommonJS: an old Node must reach the one line below, not a syntax error.
'use strict';
var pkg = require('../package.json');
var wanted = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(pkg.engines.node);
var have = process.versions.node.split('.').map(Number);
var need = [Number(wanted[1]), Number(wanted[2]), Number(wanted[3])];
var ok = have[0] !== need[0] ? have[0] > need[0] : have[1] !== need[1] ? have[1] > need[1] : have[2] >= need[2];
if (!ok) {
  process.stderr.write('runs-fleet needs Node ' + pkg.engines.node + ' but ' + process.execPath + ' is v' + process.versions.node +
    ': run `bash bootstrap.sh start` (it installs Node ' + require('fs').readFileSync(require('path').join(__dirname, '..', '.nvmrc'), 'utf8').trim() +
    ' into ~/.cache/runs-fleet and Valkey), or `nvm install` (reads .nvmrc)\n');
  process.exit(1);
}
