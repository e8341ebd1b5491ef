/**
 * Running properties: run counts (bounded by default, multiplied by `TRANSITIONAL_DEEP`), replayable
 * seeds, and the sequential runner that executes a script of operations against the model and a
 * real flow side by side.
 *
 * Replay a failure with the `Replay:` line its message ends with:
 * `TRANSITIONAL_PROPERTY=<name> TRANSITIONAL_SEED=<seed> TRANSITIONAL_PATH=<path> node --import tsx --test <file>`.
 */
import assert from 'node:assert/strict';
import { relative } from 'node:path';
import { setImmediate as macrotask } from 'node:timers/promises';
import fc from 'fast-check';
import { ABORTED, build, errorKey, Recorder, registerWaiter, type Built, type Env, type RealWaiter } from './build.ts';
import { lanesOf, matches, Model, type FlowSpec, type Outcome } from './model.ts';
import { methodsOf, type Op } from './arbitraries.ts';
import { renderFlow, renderOps } from './render.ts';

/** `TRANSITIONAL_DEEP=1` multiplies every run count by 25; a larger number is the multiplier itself. */
export const DEEP = (() => {
  const raw = process.env.TRANSITIONAL_DEEP;
  if (!raw || raw === '0') return 1;
  const n = Number(raw);
  return Number.isFinite(n) && n > 1 ? n : 25;
})();

/** The seed of every property under CI (see `check`). */
const CI_SEED = 20261123;

/** Counts what the properties execute, for the run summary. */
export const stats = { runs: 0, calls: 0 };

/**
 * `fc.assert` with a bounded number of runs and a seed that can be replayed. On failure the
 * message keeps fast-check's report (seed, path, shrunk counterexample) and adds the command that
 * replays exactly that case: `TRANSITIONAL_SEED` and `TRANSITIONAL_PATH` apply to the property
 * `TRANSITIONAL_PROPERTY` names (to every property when it is not set).
 * `TRANSITIONAL_STATS=1` (or deep mode) prints the seed, runs, calls and time of every property.
 */
export async function check<Ts extends [unknown, ...unknown[]]>(name: string, numRuns: number, property: fc.IAsyncPropertyWithHooks<Ts>): Promise<void> {
  const env = process.env;
  const replay = env.TRANSITIONAL_PROPERTY === undefined || env.TRANSITIONAL_PROPERTY === name;
  // CI runs a fixed seed, so a red build always means the change, and reruns reproduce it; local
  // runs and `npm run test:deep` draw a new seed each time to keep exploring.
  const seed =
    replay && env.TRANSITIONAL_SEED !== undefined
      ? Number(env.TRANSITIONAL_SEED)
      : env.CI && env.CI !== 'false'
        ? CI_SEED
        : (Date.now() ^ (Math.random() * 0x100000000)) | 0;
  const params: fc.Parameters<Ts> = { seed, numRuns: numRuns * DEEP };
  if (replay && env.TRANSITIONAL_PATH !== undefined) params.path = env.TRANSITIONAL_PATH;
  const before = { ...stats };
  const started = performance.now();
  try {
    await fc.assert(property, params);
  } catch (e) {
    const path = /path: "([^"]*)"/.exec(String((e as Error).message))?.[1];
    const file = process.argv[1] ? relative(process.cwd(), process.argv[1]) : '<test file>';
    (e as Error).message +=
      `\n\nReplay: TRANSITIONAL_PROPERTY=${name} TRANSITIONAL_SEED=${seed}${path ? ` TRANSITIONAL_PATH=${path}` : ''} node --import tsx --test ${file}`;
    throw e;
  }
  if (env.TRANSITIONAL_STATS || DEEP > 1) {
    const ms = Math.round(performance.now() - started);
    const calls = stats.calls - before.calls;
    console.log(`# property ${name}: seed ${seed}, ${params.numRuns} runs${calls ? `, ${calls} generated calls` : ''}, ${ms} ms`);
  }
}

export function faultMap(calls: readonly { cid: string; faults: readonly number[] }[]): Map<string, Set<number>> {
  return new Map(calls.map((c) => [c.cid, new Set(c.faults)]));
}

/** Whether a promise settles once everything queued so far (microtasks) has run. */
export async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await macrotask();
  return done;
}

/** Runs an outside call and reports what happened, as the model would. */
export async function invoke(flow: Record<string, any>, name: string, cid: string): Promise<{ error: string | undefined; result: string | undefined; promise: boolean }> {
  let r: unknown;
  try {
    r = flow[name](cid);
  } catch (e) {
    return { error: errorKey(e), result: undefined, promise: false };
  }
  if (!(r instanceof Promise)) return { error: undefined, result: r as string, promise: false };
  if (!(await settled(r))) {
    return { error: `Deadlock(the call's promise never settled)`, result: undefined, promise: true };
  }
  try {
    return { error: undefined, result: (await r) as string, promise: true };
  } catch (e) {
    return { error: errorKey(e), result: undefined, promise: true };
  }
}

/** The real counterpart of `Model.observed()`. */
export function observed(spec: FlowSpec, built: Built): unknown[] {
  return spec.states.map((s, k) => (s.accessors ? built.flow.host[k] : built.states[k]!.get(built.flow)));
}

export function newEnv(rec: Recorder, tick: Env['tick']): Env {
  return { rec, tick, waiters: [], abort: new AbortController() };
}

/**
 * Runs a script on the model, then on a real flow built from the same spec, comparing after every
 * operation. The model runs first because it decides which setter faults land on target writes.
 */
export async function runScript(spec: FlowSpec, ops: readonly Op[], setterFaults: readonly number[], tick: Env['tick']): Promise<void> {
  try {
    await runScriptUnexplained(spec, ops, setterFaults, tick);
  } catch (e) {
    throw explain(e, spec, ops, setterFaults);
  }
}

/** Wraps an assertion failure with the flow and script rendered as source. */
export function explain(e: unknown, spec: FlowSpec, ops: readonly Op[], setterFaults: readonly number[]): Error {
  return explainText(e, `${renderFlow(spec)}\n${renderOps(ops)}${setterFaults.length ? `\nsetter faults at writes #${setterFaults.join(', #')}` : ''}`);
}

export function explainText(e: unknown, text: string): Error {
  return new Error(`${String((e as Error)?.message ?? e).split('\n')[0]}\n\n${text}\n`, { cause: e });
}

async function runScriptUnexplained(spec: FlowSpec, ops: readonly Op[], setterFaults: readonly number[], tick: Env['tick']): Promise<void> {
  const calls = ops.flatMap((op, i) => (op.op === 'call' ? [{ cid: `c${i}`, faults: op.faults }] : []));
  const faults = faultMap(calls);
  stats.runs++;
  stats.calls += calls.length;

  const model = new Model(spec, faults, new Set(setterFaults));
  const expected: (Outcome | { available: Available } | undefined)[] = ops.map((op, i) => {
    if (op.op === 'call') return model.call(`c${i}`, op.method);
    if (op.op === 'wait') model.wait(op.state, op.value, op.atLeast);
    else if (op.op === 'poke') model.poke(op.state, op.raw);
    else return { available: availableInModel(model) };
    return undefined;
  });

  const rec = new Recorder(faults, model.appliedSetterFaults);
  const env = newEnv(rec, tick);
  const built = build(spec, env);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const want = expected[i];
    const at = `operation #${i} ${JSON.stringify(op)}`;
    if (op.op === 'call') {
      const start = rec.trace.length;
      const got = await invoke(built.flow, op.method, `c${i}`);
      const w = want as Outcome;
      assert.deepEqual(
        { ...got, trace: rec.trace.slice(start), state: observed(spec, built) },
        { error: w.error, result: w.result, promise: w.promise, trace: w.trace, state: w.state },
        at,
      );
    } else if (op.op === 'wait') {
      registerWaiter(built.states[op.state]!, built.flow, env, op.value, op.atLeast);
    } else if (op.op === 'poke') {
      built.flow.host[op.state] = op.raw;
    } else {
      assert.deepEqual({ available: availableInReal(spec, built) }, want, at);
    }
  }
  await finishWaiters(model, env);
}

type Available = (string[] | 'TypeError')[];

/** Per State, what `available()` must list now (conditions pass when asked outside a call). */
export function availableInModel(model: Model): Available {
  const spec = model.spec;
  return spec.states.map((_, k) => {
    const names: string[] = [];
    for (const m of methodsOf(spec)) {
      const lanes = lanesOf(spec, spec.level, m)!;
      if (!lanes.some((l) => l.state === k)) continue;
      // Like the call's step 1: lane by lane, the first State that cannot be read throws, the first refusal answers no.
      let all = true;
      for (const lane of lanes) {
        const current = model.current(lane.state);
        if (current === undefined) return 'TypeError';
        if (!lane.defs.some((d) => matches(d, current))) {
          all = false;
          break;
        }
      }
      if (all) names.push(m);
    }
    return names.sort();
  });
}

/** Per State, `available()` and `can()` on the real flow: they must agree with each other. */
export function availableInReal(spec: FlowSpec, built: Built): Available {
  return built.states.map((state, k) => {
    let names: string[];
    try {
      names = state.available(built.flow).map((d) => d.name);
    } catch (e) {
      return errorKey(e) === 'TypeError' ? 'TypeError' : [errorKey(e)];
    }
    for (const m of methodsOf(spec)) {
      if (!lanesOf(spec, spec.level, m)!.some((l) => l.state === k)) continue;
      assert.equal(state.can(built.flow, m as never), names.includes(m), `s${k}.can(flow, ${m}) disagrees with s${k}.available()`);
    }
    return names.sort();
  });
}

/** Compares waiters with the model, then aborts the pending ones (they must reject with the reason). */
export async function finishWaiters(model: Model, env: Env): Promise<void> {
  await macrotask();
  const real = env.waiters.map((w: RealWaiter) => w.outcome);
  assert.equal(real.length, model.waiters.length, 'number of waiters registered');
  model.waiters.forEach((w, i) => {
    const r = real[i]!;
    const want = w.outcome;
    assert.equal(r.status, want.status, `waiter #${i} (s${w.state}, for ${JSON.stringify(w.value)}${w.atLeast ? ', at least' : ''}): ${JSON.stringify(r)} but the model says ${JSON.stringify(want)}`);
    if (r.status !== 'pending' && want.status !== 'pending') {
      assert.equal(r.how, want.how, `waiter #${i}: settled with`);
      assert.ok(r.after >= want.after, `waiter #${i} settled after ${r.after} trace entries, before the call that decides it ended (${want.after})`);
    }
  });
  env.abort.abort(ABORTED);
  await macrotask();
  env.waiters.forEach((w, i) => {
    if (model.waiters[i]!.outcome.status === 'pending') assert.equal(w.outcome.status === 'rejected' && w.outcome.how, 'Aborted', `waiter #${i} after abort`);
  });
}

