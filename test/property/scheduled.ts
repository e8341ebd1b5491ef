/**
 * Several outside callers on one flow, started and resumed in an order fast-check's scheduler
 * picks. The model runs the calls one after another in the order they were started: the real
 * trace must be exactly that (calls never interleave, each sees the state the previous one left),
 * and waiters must settle as the model says.
 */
import assert from 'node:assert/strict';
import { setImmediate as macrotask } from 'node:timers/promises';
import type fc from 'fast-check';
import { build, errorKey, Recorder, registerWaiter } from './build.ts';
import { Model } from './model.ts';
import type { Op, RoundsScenario } from './arbitraries.ts';
import { explainText, faultMap, finishWaiters, newEnv, observed, stats } from './harness.ts';
import { renderFlow, renderRounds } from './render.ts';

type Logged = { kind: 'wait'; op: Op & { op: 'wait' } } | { kind: 'call'; cid: string; method: string };

export async function runRounds(scenario: RoundsScenario, s: fc.Scheduler): Promise<void> {
  const { flow: spec, rounds } = scenario;
  const calls = rounds.flatMap((round, r) => round.calls.map((c, i) => ({ cid: `r${r}c${i}`, ...c })));
  const faults = faultMap(calls);
  stats.runs++;
  stats.calls += calls.length;
  const rec = new Recorder(faults, new Set());
  const env = newEnv(rec, (label) => s.schedule(Promise.resolve(label), label));
  const built = build(spec, env);
  const log: Logged[] = [];
  const outcomes = new Map<string, { error: string | undefined; result: string | undefined }>();
  try {
    for (let r = 0; r < rounds.length; r++) {
      const round = rounds[r]!;
      for (const op of round.waits) {
        log.push({ kind: 'wait', op });
        registerWaiter(built.states[op.state]!, built.flow, env, op.value, op.atLeast);
      }
      const running = round.calls.map((c, i) => {
        const cid = `r${r}c${i}`;
        return s.schedule(Promise.resolve(), `start ${cid}`).then(async () => {
          log.push({ kind: 'call', cid, method: c.method });
          let result: unknown;
          try {
            result = await built.flow[c.method](cid);
          } catch (e) {
            outcomes.set(cid, { error: errorKey(e), result: undefined });
            return;
          }
          outcomes.set(cid, { error: undefined, result: result as string });
        });
      });
      await s.waitIdle();
      await macrotask();
      // Every call has settled once the scheduler has nothing left to release: else it waits forever.
      round.calls.forEach((_, i) => assert.ok(outcomes.has(`r${r}c${i}`), `call r${r}c${i} never settled (deadlock)`));
      void running;
    }
    // The model, in the order the calls started.
    const model = new Model(spec, faults, new Set());
    const expected = new Map<string, { error: string | undefined; result: string | undefined }>();
    for (const entry of log) {
      if (entry.kind === 'wait') model.wait(entry.op.state, entry.op.value, entry.op.atLeast);
      else {
        const o = model.call(entry.cid, entry.method);
        expected.set(entry.cid, { error: o.error, result: o.result });
      }
    }
    assert.deepEqual(rec.trace, model.trace, `trace, calls started in the order ${log.filter((l) => l.kind === 'call').map((l) => (l as { cid: string }).cid).join(', ')}`);
    assert.deepEqual(Object.fromEntries(outcomes), Object.fromEntries(expected), 'outcomes of the calls');
    assert.deepEqual(observed(spec, built), model.observed(), 'final state');
    await finishWaiters(model, env);
  } catch (e) {
    throw explainText(e, `${renderFlow(spec)}\n${renderRounds(rounds)}`);
  }
}
