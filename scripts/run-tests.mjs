// `npm test`: run every compiled *.test.js under dist/test with node's test runner, one file at a time
// (the 2-core machine is shared by tests that spawn servers and training processes). Helper modules
// beside the tests (fixtures, child-process scripts) are not test files and are not run.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  return readdirSync(dir).flatMap((n) => {
    const f = join(dir, n);
    return statSync(f).isDirectory() ? find(f) : n.endsWith('.test.js') ? [f] : [];
  });
}

const files = find('dist/test').sort();
// a hung test (a GPU driver that never answers, say) must fail the run, not stall CI: the suite takes about 2 min
const LIMIT_MS = 20 * 60_000;
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...process.argv.slice(2), ...files], {
  stdio: 'inherit', timeout: LIMIT_MS, killSignal: 'SIGKILL',
});
if (r.error?.code === 'ETIMEDOUT' || r.signal === 'SIGKILL') console.error(`npm test: stopped after ${LIMIT_MS / 60_000} minutes`);
process.exit(r.status ?? 1);
