/**
 * Preloaded into every test file's process (`node --import ./test/support/exit-after-tests.ts
 * --test ...`): once the file's last test and hooks are done, a process still kept alive by open
 * handles — a pool connection a timed-out test left waiting, a socket of a hung query — exits
 * after a grace period instead of stalling CI forever. The timer is unref'd: a file that leaves
 * nothing open exits at once, as usual.
 *
 * Why not `--test-force-exit`: on Node 24.21 with per-file process isolation it exits a file's
 * process before the file's later suites have run, and those tests silently vanish from the
 * counts (measured: 26-40 of 40 tests reported for 8 suites of 5 synchronous tests, exit code 0).
 */
import { after } from 'node:test';

/** How long a file's process may outlive its last test (its own `after` hooks ran before). */
const GRACE_MS = 20_000;

// Only in the processes that run test files: the runner's own process has no tests to wait for.
if (process.env.NODE_TEST_CONTEXT !== undefined) {
  after(() => {
    setTimeout(() => {
      console.error(`# ${process.argv[1] ?? 'this test file'}: handles still open ${GRACE_MS} ms after its last test (a hung query, an unclosed pool?); exiting.`);
      process.exit();
    }, GRACE_MS).unref();
  });
}
