/**
 * Asynchronous flows against the model: async bodies (and plain bodies returning promises) and a
 * mix of sync and async hooks, called one after another with faults at every step; then several
 * outside callers on one flow, interleaved by fast-check's scheduler.
 */
import { test } from 'node:test';
import fc from 'fast-check';
import { roundsArb, scenarioArb } from './arbitraries.ts';
import { check, runScript } from './harness.ts';
import { runRounds } from './scheduled.ts';

test('asynchronous calls match the model, with faults injected at every step', async () => {
  await check(
    'async',
    600,
    fc.asyncProperty(scenarioArb({ mode: 'async', waits: true }), async ({ flow, ops, setterFaults }) => {
      await runScript(flow, ops, setterFaults, () => Promise.resolve());
    }),
  );
});

test('concurrent outside calls never interleave: the scheduler explores the orders', async () => {
  await check(
    'scheduled',
    400,
    fc.asyncProperty(roundsArb({ mode: 'async', waits: true }), fc.scheduler(), async (scenario, s) => {
      await runRounds(scenario, s);
    }),
  );
});
