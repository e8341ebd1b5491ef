/**
 * Synchronous flows against the model: random classes, random scripts of calls with faults
 * injected at every step, waiters and pokes at the host field. After every call the state, the
 * error, the return value, the hooks that ran (in order) and the setter's writes must match.
 */
import { test } from 'node:test';
import fc from 'fast-check';
import { scenarioArb } from './arbitraries.ts';
import { check, runScript } from './harness.ts';

test('synchronous calls match the model, with faults injected at every step', async () => {
  await check(
    'sync',
    1000,
    fc.asyncProperty(scenarioArb({ mode: 'sync', waits: true }), async ({ flow, ops, setterFaults }) => {
      await runScript(flow, ops, setterFaults, () => Promise.resolve());
    }),
  );
});
