/**
 * Waiting for a state (README, Ordered states and waiting): `waitFor`, `waitForAtLeast`, and waking waiters.
 *
 * A flow with waiters is "flagged" (see flow-state.ts), which routes its calls through the
 * general path; that path journals the states it enters, and a rollback removes the entries of
 * the States it writes back. A wait records the value it finds as an entry too. Once the
 * synchronous stack has unwound and nothing is in flight, `deliverJournal` replays the kept
 * entries, in order, to the waiters; then waiters new since the last delivery judge the state the
 * flow is in. Flows nobody waits on never get an entry: waiting costs them nothing.
 */

import { show, StateSkipped, type StateValue } from '../core/errors.ts';
import { flag, nextSeq, record, unflagIfIdle, type FlowState, type Waiter } from './flow-state.ts';
import { className, readState, recordOf } from './access.ts';
import type { StateSpec } from '../core/state-spec.ts';

export interface WaitOptions {
  /** Aborting rejects the wait with `signal.reason` and removes its listener. */
  readonly signal?: AbortSignal;
}

export function waitForState<V extends StateValue>(state: StateSpec<V>, flow: object, value: V, atLeast: boolean, options?: WaitOptions): Promise<V> {
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
  let seen: StateValue;
  try {
    seen = readState(flow as never, rec, state);
  } catch (e) {
    return Promise.reject(e);
  }
  // Decided once the synchronous stack has unwound (or the call in flight has ended): the value
  // seen now counts as entered, unless a rollback of its State, still to come, undoes it.
  const fs = flag(flow);
  const promise = new Promise<V>((resolve, reject) => {
    const onAbort = () => settle(flow, fs, waiter, () => reject(signal!.reason));
    const waiter: Waiter = {
      state,
      value,
      atLeast,
      from: nextSeq(),
      resolve: resolve as (v: StateValue) => void,
      reject,
      dispose: () => signal?.removeEventListener('abort', onAbort),
    };
    fs.waiters.push(waiter);
    signal?.addEventListener('abort', onAbort, { once: true });
    record(fs, { state, transition: '', source: seen, target: seen }, true, waiter);
  });
  if (fs.depth === 0 && fs.active === 0) deliverSoon(flow, fs);
  return promise;
}

/** What a waiter should do now that `current` was entered: resolve, reject as skipped, or keep waiting. */
function judge(state: StateSpec<any>, value: StateValue, atLeast: boolean, current: StateValue): 'resolve' | 'skip' | 'wait' {
  if (current === value) return 'resolve';
  if (!state.ordered) return 'wait';
  const past = state.indexOf(current) > state.indexOf(value);
  if (atLeast) return past ? 'resolve' : 'wait';
  return past ? 'skip' : 'wait';
}

function skipped(state: StateSpec<any>, flow: object, value: StateValue, current: StateValue): StateSkipped {
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

/** Wakes waiters for the journal's kept entries, in order; each waiter counts those recorded from its registration on. */
export function deliverJournal(flow: object, fs: FlowState): void {
  const entries = fs.journal;
  fs.journal = [];
  for (const { state, target: value, seq, owner } of entries) {
    for (const w of fs.waiters.slice()) {
      if (w.state !== state || seq < w.from || (owner !== undefined && owner !== w)) continue;
      const verdict = judge(state, w.value, w.atLeast, value);
      if (verdict === 'resolve') settle(flow, fs, w, () => w.resolve(w.value));
      else if (verdict === 'skip') settle(flow, fs, w, () => w.reject(skipped(state, flow, w.value, value)));
    }
  }
}

/**
 * Delivers the flow's journal to its waiters in a microtask. A call that began before the flow
 * had bookkeeping (the fast path records nothing) may still be on the stack and roll back; once
 * the stack has unwound, every rollback has removed what it undid from the journal.
 */
export function deliverSoon(flow: object, fs: FlowState): void {
  if (fs.deliverySoon) return;
  fs.deliverySoon = true;
  queueMicrotask(() => {
    fs.deliverySoon = false;
    if (fs.depth === 0 && fs.active === 0) deliverJournal(flow, fs);
    unflagIfIdle(flow, fs);
  });
}
