/**
 * Waiting for a state (contract §7): `waitFor`, `waitForAtLeast`, and waking waiters.
 *
 * A flow with waiters is "flagged" (see flow-state.ts), which routes its calls through the
 * general path; that path journals the states it enters and truncates the journal on rollback.
 * When the outermost call ends, `deliverJournal` replays the kept states, in order, to the waiters.
 * Flows nobody waits on never get an entry: waiting costs them nothing.
 */

import { show, StateSkipped, type StateValue } from './errors.ts';
import { flag, flowState, nextSeq, record, unflagIfIdle, type FlowState, type Waiter } from './flow-state.ts';
import { className, readState, recordOf } from './access.ts';
import type { State } from './state.ts';
import { live } from './live.ts';

export interface WaitOptions {
  /** Aborting rejects the wait with `signal.reason` and removes its listener. */
  readonly signal?: AbortSignal;
}

export function waitForState<V extends StateValue>(state: State<V>, flow: object, value: V, atLeast: boolean, options?: WaitOptions): Promise<V> {
  const fn = atLeast ? 'waitForAtLeast' : 'waitFor';
  if (!state.has(value)) {
    return Promise.reject(new TypeError(`${state}.${fn}(${className(flow)}, ${show(value)}): ${show(value)} is not a declared value.`));
  }
  if (atLeast && !state.ordered) {
    return Promise.reject(new TypeError(`${state}.waitForAtLeast needs an ordered State (new State(values, { ordered: true })).`));
  }
  const signal = options?.signal;
  if (signal?.aborted) return Promise.reject(signal.reason);
  let rec;
  try {
    rec = recordOf(flow, state);
  } catch (e) {
    return Promise.reject(e);
  }
  const existing = flowState(flow);
  const busy = existing !== undefined && (existing.depth !== 0 || existing.active !== 0);
  // Inside a running transition body (of this flow or another) the current state may still be
  // rolled back: decide once the synchronous calls have unwound.
  const running = live.running !== 0;
  if (!busy && !running) {
    // Nothing in progress: the current state is committed, so judge it now.
    let current: StateValue;
    try {
      current = readState(flow as never, rec, state);
    } catch (e) {
      return Promise.reject(e);
    }
    const verdict = judge(state, value, atLeast, current);
    if (verdict === 'resolve') return Promise.resolve(value);
    if (verdict === 'skip') return Promise.reject(skipped(state, flow, value, current));
  }
  const fs = flag(flow);
  return new Promise<V>((resolve, reject) => {
    const onAbort = () => settle(flow, fs, waiter, () => reject(signal!.reason));
    const waiter: Waiter = {
      state,
      value,
      atLeast,
      deferred: busy || running,
      from: nextSeq(),
      resolve: resolve as (v: StateValue) => void,
      reject,
      dispose: () => signal?.removeEventListener('abort', onAbort),
    };
    fs.waiters.push(waiter);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (waiter.deferred) {
      // Inside a call: the value seen now counts as entered, unless a rollback of its State undoes it.
      try {
        const seen = readState(flow as never, rec, state);
        record(fs, { state, transition: '', source: seen, target: seen }, true);
      } catch {
        // An undeclared value: the final check will report it.
      }
    }
    if (!busy && running) {
      queueMicrotask(() => {
        if (fs.depth === 0 && fs.active === 0) deliverJournal(flow, fs);
      });
    }
  });
}

/** What a waiter should do now that `current` was entered: resolve, reject as skipped, or keep waiting. */
function judge(state: State<any>, value: StateValue, atLeast: boolean, current: StateValue): 'resolve' | 'skip' | 'wait' {
  if (current === value) return 'resolve';
  if (!state.ordered) return 'wait';
  const past = state.indexOf(current) > state.indexOf(value);
  if (atLeast) return past ? 'resolve' : 'wait';
  return past ? 'skip' : 'wait';
}

function skipped(state: State<any>, flow: object, value: StateValue, current: StateValue): StateSkipped {
  return new StateSkipped(value, current, `${className(flow)}: the ${state.name} ${show(value)} was skipped; the flow is in ${show(current)}, later in the order.`);
}

function settle(flow: object, fs: FlowState, waiter: Waiter, action: () => void): void {
  const i = fs.waiters.indexOf(waiter);
  if (i < 0) return;
  fs.waiters.splice(i, 1);
  waiter.dispose();
  action();
  unflagIfIdle(flow, fs);
}

/** Wakes waiters for the states the finished outermost call entered and kept, in order. */
export function deliverJournal(flow: object, fs: FlowState): void {
  const entries = fs.journal;
  fs.journal = [];
  for (const { state, target: value, seq } of entries) {
    for (const w of fs.waiters.slice()) {
      if (w.state !== state || seq < w.from) continue;
      const verdict = judge(state, w.value, w.atLeast, value);
      if (verdict === 'resolve') settle(flow, fs, w, () => w.resolve(w.value));
      else if (verdict === 'skip') settle(flow, fs, w, () => w.reject(skipped(state, flow, w.value, value)));
    }
  }
  // Waiters registered while that call was running judge the state it left.
  for (const w of fs.waiters.slice()) {
    if (!w.deferred) continue;
    w.deferred = false;
    let current: StateValue;
    try {
      current = readState(flow as never, recordOf(flow, w.state), w.state);
    } catch (e) {
      settle(flow, fs, w, () => w.reject(e));
      continue;
    }
    const verdict = judge(w.state, w.value, w.atLeast, current);
    if (verdict === 'resolve') settle(flow, fs, w, () => w.resolve(w.value));
    else if (verdict === 'skip') settle(flow, fs, w, () => w.reject(skipped(w.state, flow, w.value, current)));
  }
}
