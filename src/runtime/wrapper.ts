/**
 * The transition call: the method that replaces a decorated method, and its fast path.
 *
 * The fast path covers the common case: one State, no hooks, no input schema, a body that is not
 * `async`, a flow nobody waits on with nothing in flight. It reads the state, finds the
 * transition, checks conditions, sets the target, runs the body, and rolls back on a throw,
 * allocating nothing. Everything else goes to the general path (call.ts), which has the same
 * meaning (README, Transitions) and handles hooks, input, async, queueing, waiting and persistence.
 *
 * Why it is shaped this way (measured with bench/transition.bench.ts, Node 24):
 * - Accessors are called as `flow[name]()`, which V8 inlines; `getter.call(flow)` it does not.
 * - `arguments` is only forwarded with `.apply(this, arguments)`, which V8 passes along without
 *   allocating an arguments object; any other use materializes it.
 * - The wrapper stays under V8's 460-byte bytecode limit for inlining into its caller; every rare
 *   case is an out-of-line call with few arguments.
 * - Each method's wrapper is compiled from its own copy of the factory source (`freshFactory`),
 *   so its type feedback is its own: 5.7 ns per transition against 11 ns with one shared closure.
 */

import type { StateValue } from '../core/errors.ts';
import { live } from '../core/live.ts';
import { isThenable, refreshPlan, type ClassRecord, type CompiledDefinition, type Lane, type Plan, type TransitionDefinition } from '../core/definition.ts';
import { readState, seeClass, writeState } from './access.ts';
import { flag, flowState, journalRollback, record, type FlowState } from './flow-state.ts';
import { checkGuards, refusal } from './refusals.ts';
import { backValue, callGeneral, leave } from './call.ts';

type Flow = Record<PropertyKey, any>;

// ---------------------------------------------------------------------------------------------
// The wrapper (fast path)

/** wrapper → plan, for `superTransition`, introspection, and stacking decorators on one method. */
export const plansByWrapper = new WeakMap<Function, Plan>();

/**
 * Builds the method that replaces a decorated method. Called once per decorated method per class,
 * at definition time.
 */
export function createWrapper(plan: Plan): Function {
  refreshPlan(plan);
  const general = function (this: Flow, ...args: unknown[]): unknown {
    return callGeneral(plan, this, args);
  };
  const wrapper = freshFactory()(plan, plan.lanes[0]!, plan.body, general, live, seeClass, flowState, anyOrRefuse, pending, isThenable, adoptPromise, restore);
  // Named after the method, for stack traces.
  Object.defineProperty(wrapper, 'name', { value: plan.name });
  plansByWrapper.set(wrapper, plan);
  return wrapper;
}

/**
 * A new copy of `wrapperFactory` with its own code. V8 keeps type feedback per function literal,
 * so wrappers made by one shared factory would share it: every transition's body, getter and
 * setter would meet at the same polymorphic call sites, and stop being inlined (measured: 11 ns
 * against 6 ns per transition). Compiling the factory's source once per decorated method gives
 * each wrapper monomorphic feedback. Where `new Function` is forbidden (a CSP), the shared factory
 * still works, only slower.
 */
function freshFactory(): typeof wrapperFactory {
  try {
    return new Function(`return ${wrapperFactory.toString()}`)() as typeof wrapperFactory;
  } catch {
    return wrapperFactory;
  }
}

/**
 * Builds the fast path of one method. It may use nothing but its parameters: its source is
 * recompiled by `freshFactory`, outside this module's scope.
 */
function wrapperFactory(
  plan: Plan,
  lane: Lane,
  body: Function,
  general: Function,
  counters: typeof live,
  seeClassOf: typeof seeClass,
  flowStateOf: typeof flowState,
  anyOrRefuseFor: typeof anyOrRefuse,
  pendingChecks: typeof pending,
  thenable: typeof isThenable,
  adopt: typeof adoptPromise,
  restoreAfter: typeof restore,
): Function {
  const sources = lane.sources;
  const bySource = lane.bySource;
  const slot = lane.state.slot;
  const initial = lane.state.default;
  return function (this: Flow): unknown {
    // Keep this body small: past 460 bytes of bytecode V8 will not inline it into its caller, and
    // callers have a cumulative budget too. Everything rare (another class, a refusal, conditions,
    // a promise, a throw) is a call out of line with as few arguments as possible.
    const ctor = this.constructor;
    const rec = ctor === lane.seenClass ? lane.seenRecord : seeClassOf(lane, ctor);
    if (rec.fastVersion === counters.hookVersion && plan.fast === true && (counters.flagged === 0 || flowStateOf(this) === undefined)) {
      const g = rec.getter;
      let value = g === undefined ? this[slot] : this[g]();
      if (value == null) value = initial;
      let i = 0;
      while (i < sources.length && sources[i] !== value) i++;
      const def = i < sources.length ? bySource[i]! : anyOrRefuseFor(this, lane, value);
      if (def.guarded) pendingChecks(def, value).apply(this, arguments as never);
      const target = def.target;
      if (target !== undefined) {
        const s = rec.setter;
        if (s === undefined) this[slot] = target;
        else this[s](target);
      }
      try {
        const result = body.apply(this, arguments);
        return result === undefined || !thenable(result) ? result : adopt(this, rec, def, value, result);
      } catch (error) {
        throw restoreAfter(this, rec, def, value, error);
      }
    }
    return general.apply(this, arguments as never);
  };
}

function anyOrRefuse(flow: Flow, lane: Lane, value: unknown): CompiledDefinition {
  if (lane.any !== undefined && lane.state.has(value)) return lane.any;
  throw refusal(flow, lane.plan.name, lane, lane.seenRecord);
}

/*
 * Checks on the fast path (a permission under `actingAs`, then conditions), for a definition that
 * has any (`guarded`): the definition and value travel in module variables so that the call's
 * arguments can be forwarded with `.apply` (no allocation). They are read before any user code
 * runs, so a condition that calls another transition cannot overwrite them too early.
 */
let pendingDef: TransitionDefinition | undefined;
let pendingValue: StateValue | undefined;
function pending(def: TransitionDefinition, value: StateValue): (this: Flow) => void {
  pendingDef = def;
  pendingValue = value;
  return checkPending;
}
function checkPending(this: Flow): void {
  const def = pendingDef!;
  const value = pendingValue!;
  pendingDef = undefined;
  pendingValue = undefined;
  checkGuards(this, def, value, arguments);
}

/** Fast path, on a throw: put the state back and hand the error back for rethrowing unchanged. */
function restore(flow: Flow, rec: ClassRecord, def: TransitionDefinition, source: StateValue, error: unknown): unknown {
  try {
    const back = backValue(def, source, () => readState(flow, rec, rec.state));
    if (back !== undefined) writeState(flow, rec, rec.state, back);
    // The flow had no bookkeeping when this call began (or it would not be on the fast path):
    // what its journal holds for this State came from inside this call.
    const fs = flowState(flow);
    if (fs !== undefined) journalRollback(fs, 0, { state: rec.state, transition: def.name, source, target: back ?? source }, def.onError !== undefined);
  } catch {
    // The body's error is the one the caller needs; a setter failing again must not hide it.
  }
  return error;
}

/**
 * A body that is not declared `async` returned a promise on the fast path: finish the call
 * asynchronously (rollback on rejection) and route later calls of this method through the
 * async-aware path, where chained calls after an `await` are recognised.
 *
 * This call's body already ran outside the async frame, so a transition called after one of its
 * `await`s cannot be told from an outside call. It must not queue behind this call (which may be
 * waiting for it): until the promise settles the flow is not busy, only its waiters are held back
 * (as in call.ts `settle`).
 */
function adoptPromise(flow: Flow, rec: ClassRecord, def: TransitionDefinition, source: StateValue, promise: PromiseLike<unknown>): Promise<unknown> {
  const plan = planOfDefinition(flow, def);
  if (plan !== undefined) {
    plan.async = true;
    plan.probed = true;
    refreshPlan(plan);
  }
  const fs = flag(flow);
  fs.depth++;
  // On the fast path a target is a value: methods with target functions take the general path.
  if (def.target !== undefined) record(fs, { state: rec.state, transition: def.name, source, target: def.target as StateValue });
  return settleAdopted(flow, fs, rec, def, source, promise);
}

async function settleAdopted(flow: Flow, fs: FlowState, rec: ClassRecord, def: TransitionDefinition, source: StateValue, promise: PromiseLike<unknown>): Promise<unknown> {
  try {
    return await promise;
  } catch (error) {
    restore(flow, rec, def, source, error);
    throw error;
  } finally {
    fs.depth--;
    leave(flow, fs);
  }
}

function planOfDefinition(flow: Flow, def: TransitionDefinition): Plan | undefined {
  const fn = flow[def.name];
  return typeof fn === 'function' ? plansByWrapper.get(fn) : undefined;
}

