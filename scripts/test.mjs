#!/usr/bin/env node
// `npm test`: every suite (unit, integration, hostile input, end-to-end), then the fault suite
// (docs/reliability.md) in a vitest run of its own, after the others: its cases kill processes and
// time recoveries, which the other suites' load would distort. Then one closing line with the
// totals of both runs: "N passed, N failed". Extra arguments go to one vitest run instead
// (e.g. --project unit).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';

mkdirSync('test-results', { recursive: true });
const extra = process.argv.slice(2);
const runs =
  extra.length > 0
    ? [{ out: 'test-results/vitest.json', args: extra }]
    : [
        { out: 'test-results/vitest.json', args: ['--project', '!faults'] },
        { out: 'test-results/vitest-faults.json', args: ['--project', 'faults'] },
      ];

let passed = 0;
let failed = 0;
let skipped = 0;
let ok = true;
for (const run of runs) {
  rmSync(run.out, { force: true });
  const args = ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${run.out}`, ...run.args];
  const r = spawnSync('npx', args, { stdio: 'inherit', env: process.env });
  if (r.status !== 0) ok = false;
  try {
    const report = JSON.parse(readFileSync(run.out, 'utf8'));
    passed += report.numPassedTests;
    failed += report.numFailedTests + (report.numFailedTestSuites > 0 && report.numFailedTests === 0 ? report.numFailedTestSuites : 0);
    skipped += report.numPendingTests + report.numTodoTests;
  } catch (e) {
    console.error(`could not read ${run.out}: ${e.message}`);
    failed = Math.max(failed, 1);
  }
}
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(ok && failed === 0 ? 0 : 1);
