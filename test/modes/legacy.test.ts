/**
 * The shared behaviour suite under TypeScript's experimentalDecorators. tsx reads the tsconfig
 * named by TSX_TSCONFIG_PATH, so the suite runs in a child process with test/legacy/tsconfig.json;
 * the child asserts it really was compiled in that mode (see test/legacy/behaviour.legacy.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The child's environment: the legacy tsconfig, and no trace of the parent test runner (a child that
 * inherits NODE_TEST_CONTEXT believes it is nested and silently runs nothing). */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TSX_TSCONFIG_PATH: join(root, 'test/legacy/tsconfig.json') };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

test('flows compiled with experimentalDecorators pass the shared behaviour suite', () => {
  const child = spawnSync(
    join(root, 'node_modules/.bin/node'),
    ['--import', 'tsx', '--test', '--test-reporter=tap', 'test/legacy/behaviour.legacy.ts'],
    {
      cwd: root,
      env: childEnv(),
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  const output = `${child.stdout}\n${child.stderr}`;
  assert.equal(child.error, undefined, `could not run the legacy suite: ${String(child.error)}`);
  assert.equal(child.status, 0, `the legacy suite failed (exit ${child.status}, signal ${child.signal}):\n${output}`);
  const passed = Number(/^# pass (\d+)$/m.exec(child.stdout)?.[1] ?? 0);
  const failed = Number(/^# fail (\d+)$/m.exec(child.stdout)?.[1] ?? -1);
  assert.equal(failed, 0, output);
  assert.ok(passed >= 20, `expected the whole suite to run, ${passed} tests passed:\n${output}`);
});
