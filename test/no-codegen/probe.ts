/**
 * Run by test/no-codegen.test.ts inside the child it starts with `--disallow-code-generation-from-strings`,
 * in the same process as the suites it runs (`--test-isolation=none`): proves that code generation
 * really was disallowed there, so the wrapper used its shared `wrapperFactory` fallback.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';

test('code generation from strings is disallowed in this process', () => {
  assert.throws(() => new Function('return 1'), EvalError);
});
