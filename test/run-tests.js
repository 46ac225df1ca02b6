#!/usr/bin/env node
// `npm test`: every jest group in one run, then one closing line that CI can read.
// A skipped, focused or todo test fails the run: a suite that silently skips because PostgreSQL,
// MariaDB or the Secret Manager emulator was missing proves nothing.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, '.tmp', 'jest-results.json');
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.rmSync(out, { force: true });

const args = ['--ci', '--json', `--outputFile=${out}`, ...process.argv.slice(2)];
const jest = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), ...args], {
  cwd: root,
  stdio: 'inherit',
});

if (!fs.existsSync(out)) {
  console.error('jest wrote no results');
  process.exit(jest.status || 1);
}
const r = JSON.parse(fs.readFileSync(out, 'utf8'));
const skipped = r.numPendingTests + r.numTodoTests;
const failedSuites = r.numFailedTestSuites + r.numRuntimeErrorTestSuites;
console.log(
  `\nsuites: ${r.numTotalTestSuites} total, ${failedSuites} failed` +
    (r.numTotalTests === 0 ? '\nno test ran' : ''),
);
if (skipped > 0) {
  for (const suite of r.testResults) {
    for (const t of suite.assertionResults) {
      if (t.status === 'pending' || t.status === 'todo') {
        console.log(`skipped: ${path.relative(root, suite.name)} › ${t.fullName}`);
      }
    }
  }
}
console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
const ok =
  jest.status === 0 && r.success && skipped === 0 && failedSuites === 0 && r.numTotalTests > 0;
process.exit(ok ? 0 : 1);
