/**
 * The transition call: what runs when `flow.publish(...)` is called.
 *
 * Two paths share one meaning (contract §4):
 *
 * - The fast path, inside the wrapper itself: one State, no hooks, no input schema, a body that
 *   is not `async`, and a flow nobody waits on with nothing in flight. It reads the state, finds the
 *   transition, checks conditions, sets the target, runs the body, rolls back on a throw. It
 *   allocates nothing, and it is small enough for V8 to inline the accessors into it: the
 *   accessors are called as `flow[name]()` (which inlines) rather than `getter.call(flow)` (which
 *   does not), and the body as `body.apply(flow, arguments)`, which V8 forwards without
 *   materializing `arguments`.
 *
 * - The general path, a generator (`steps`) driven by `drive`: every step that calls user code
 *   yields that code's result, so the same step list runs synchronously while results are plain
 *   values and continues asynchronously (`driveAsync`) from the first promise on. Rejections are
 *   thrown back into the generator at the `yield`, so rollback is one `catch` for both worlds.
 *
 * Asynchronous calls run inside an AsyncLocalStorage frame naming the flow, so a call made from
 * inside a running transition (chaining, across `await`s) is told apart from an outside call,
 * which queues behind the one in flight. Frames cost ~300 ns, so only async work pays for them.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { METADATA } from './metadata.ts';
import { InvalidTransitionInput, show, TransitionNotAllowed, type StateValue } from './errors.ts';
import { live } from './live.ts';
import {
  findDefinition,
  type ClassRecord,
  type CompiledHooks,
  type HookEntry,
  type Lane,
  type Plan,
  type TransitionDefinition,
} from './definition.ts';
import { className, readState, recordOf, writeState } from './access.ts';
import { compileRecord } from './hooks.ts';
import { flag, flowState, unflagIfIdle, type FlowState, type StateChange } from './flow-state.ts';
import { deliverJournal } from './waiting.ts';
import type { State } from './state.ts';
import type { StandardSchemaV1 } from './standard-schema.ts';
import type { TransitionStore, UnitOfWork } from './persistence.ts';

type Flow = Record<PropertyKey, any>;

/** The asynchronous context: which flows have a transition running in this async call chain. */
interface Frame {
  readonly flow: object;
  readonly parent: Frame | undefined;
}
const context = new AsyncLocalStorage<Frame>();
let contextUsed = false;

function insideOf(flow: object): boolean {
  if (!contextUsed) return false;
  for (let f = context.getStore(); f !== undefined; f = f.parent) if (f.flow === flow) return true;
  return false;
}

function runInFrame<A extends unknown[], R>(flow: object, fn: (...args: A) => R, ...args: A): R {
  contextUsed = true;
  return context.run({ flow, parent: context.getStore() }, fn, ...args);
}


// ---------------------------------------------------------------------------------------------
// Refusals

function refusal(flow: Flow, name: string, lane: Lane, rec: ClassRecord): Error {
  // Re-read through the checked reader so that an undeclared value gets its TypeError.
  let value: StateValue;
  try {
    value = readState(flow, rec, lane.state);
  } catch (e) {
    return e as Error;
  }
  const from = lane.defs.flatMap((d) => (Array.isArray(d.source) ? d.source.map(show) : ['any state']));
  return new TransitionNotAllowed(
    name,
    value,
    'source',
    `${className(flow)}.${name}() is not allowed from ${lane.state.name} ${show(value)}: it starts from ${from.join(', ')}.`,
  );
}

/** Checks a definition's conditions in order; throws `TransitionNotAllowed` for the first that fails. */
export function checkConditions(flow: Flow, def: TransitionDefinition, value: StateValue, args: ArrayLike<unknown>): void {
  const failure = failedCondition(flow, def, args);
  if (failure !== undefined) throw conditionRefusal(flow, def, value, failure);
}

/** The index and reason of the first failing condition, or `undefined` when all pass. */
export function failedCondition(flow: Flow, def: TransitionDefinition, args: ArrayLike<unknown>): { index: number; reason: string | undefined } | undefined {
  const conditions = def.conditions;
  for (let i = 0; i < conditions.length; i++) {
    const c = conditions[i]!;
    const r = args.length === 0 ? c(flow) : c(flow, ...Array.prototype.slice.call(args));
    if (r === true) continue;
    if (r === false) return { index: i, reason: undefined };
    if (r !== null && typeof r === 'object' && typeof r.ok === 'boolean') {
      if (r.ok) continue;
      return { index: i, reason: r.reason };
    }
    throw new TypeError(
      `${className(flow)}.${def.name}(): condition ${describeCondition(c, i)} returned ${typeof (r as any)?.then === 'function' ? 'a promise' : show(r)}; conditions must synchronously return a boolean or { ok, reason }.`,
    );
  }
  return undefined;
}

function describeCondition(c: Function, i: number): string {
  return c.name ? `#${i + 1} (${c.name})` : `#${i + 1}`;
}

function conditionRefusal(flow: Flow, def: TransitionDefinition, value: StateValue, failure: { index: number; reason: string | undefined }): TransitionNotAllowed {
  const c = def.conditions[failure.index]!;
  return new TransitionNotAllowed(
    def.name,
    value,
    'condition',
    `${className(flow)}.${def.name}() is not allowed from ${show(value)}: condition ${describeCondition(c, failure.index)} failed${
      failure.reason ? `: ${failure.reason}.` : c.name ? '.' : ' (a named function, or { ok: false, reason }, would say why).'
    }`,
    failure.reason,
  );
}

// ---------------------------------------------------------------------------------------------
// The wrapper (fast path)

/** Whether a plan may use the fast path at all; the class-level part (`rec.plain`) is checked per call. */
export function refreshPlan(plan: Plan & { fast?: boolean }): void {
  plan.fast = plan.lanes.length === 1 && !plan.async && !plan.hasInput;
}

/**
 * Builds the method that replaces a decorated method. Called once per decorated method per class,
 * at definition time.
 */
/** wrapper → plan, for `superTransition`, introspection, and stacking decorators on one method. */
export const plansByWrapper = new WeakMap<Function, Plan & { fast?: boolean }>();

export function createWrapper(plan: Plan & { fast?: boolean }): Function {
  refreshPlan(plan);
  // `arguments` is only ever forwarded with `.apply(this, arguments)`: V8 then passes the caller's
  // arguments along without allocating an arguments object. Any other use materializes it.
  const general = function (this: Flow): unknown {
    return callGeneral(plan, this, Array.prototype.slice.call(arguments));
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
  plan: Plan & { fast?: boolean },
  lane: Lane,
  body: Function,
  general: Function,
  counters: typeof live,
  seeClassOf: typeof seeClass,
  flowStateOf: typeof flowState,
  anyOrRefuseFor: typeof anyOrRefuse,
  pendingConditions: typeof pending,
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
      if (def.conditions.length !== 0) pendingConditions(def, value).apply(this, arguments as never);
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

/** A record that never takes the fast path: classes without definitions for the State. */
const NO_RECORD = { fastVersion: -1 } as ClassRecord;

/** The record of a flow class not seen last time on this lane; remembered for the next call. */
function seeClass(lane: Lane, ctor: unknown): ClassRecord {
  const rec = ((ctor as any)?.[METADATA]?.[lane.state.key] as ClassRecord | undefined) ?? NO_RECORD;
  if (rec.version !== live.hookVersion && rec !== NO_RECORD) compileRecord(rec);
  lane.seenClass = ctor;
  lane.seenRecord = rec;
  return rec;
}

function anyOrRefuse(flow: Flow, lane: Lane, value: unknown): TransitionDefinition {
  if (lane.any !== undefined && lane.state.has(value)) return lane.any;
  throw refusal(flow, lane.plan.name, lane, lane.seenRecord);
}

/*
 * Conditions on the fast path: the definition and value travel in module variables so that the
 * call's arguments can be forwarded with `.apply` (no allocation). They are read before any user
 * code runs, so a condition that calls another transition cannot overwrite them too early.
 */
let pendingDef: TransitionDefinition | undefined;
let pendingValue: StateValue | undefined;
function pending(def: TransitionDefinition, value: StateValue): (this: Flow) => void {
  pendingDef = def;
  pendingValue = value;
  return checkPendingConditions;
}
function checkPendingConditions(this: Flow): void {
  const def = pendingDef!;
  const value = pendingValue!;
  pendingDef = undefined;
  pendingValue = undefined;
  checkConditions(this, def, value, arguments);
}

/** The value to put back after a failure: `onError`'s, else the source if the target was set. */
function backValue(def: TransitionDefinition, source: StateValue): StateValue | undefined {
  return def.onError !== undefined ? def.onError : def.target !== undefined ? source : undefined;
}

/** Fast path, on a throw: put the state back and hand the error back for rethrowing unchanged. */
function restore(flow: Flow, rec: ClassRecord, def: TransitionDefinition, source: StateValue, error: unknown): unknown {
  const back = backValue(def, source);
  if (back !== undefined) writeState(flow, rec, rec.state, back);
  return error;
}

/**
 * A body that is not declared `async` returned a promise on the fast path: finish the call
 * asynchronously (rollback on rejection) and route later calls of this method through the
 * async-aware path, where chained calls after an `await` are recognised.
 */
function adoptPromise(flow: Flow, rec: ClassRecord, def: TransitionDefinition, source: StateValue, promise: PromiseLike<unknown>): Promise<unknown> {
  const plan = planOfDefinition(flow, rec, def);
  if (plan !== undefined) {
    plan.async = true;
    refreshPlan(plan);
  }
  const state = rec.state;
  const fs = flag(flow);
  fs.depth++;
  fs.active++;
  const mark = fs.journal.length;
  if (def.target !== undefined) fs.journal.push({ state, transition: def.name, source, target: def.target });
  return runInFrame(flow, async () => {
    try {
      return await promise;
    } catch (error) {
      fs.journal.length = mark;
      restore(flow, rec, def, source, error);
      const back = backValue(def, source);
      if (back !== undefined && def.onError !== undefined) fs.journal.push({ state, transition: def.name, source, target: back });
      throw error;
    } finally {
      fs.depth--;
      fs.active--;
      leave(flow, fs);
    }
  });
}

function planOfDefinition(flow: Flow, rec: ClassRecord, def: TransitionDefinition): (Plan & { fast?: boolean }) | undefined {
  void rec;
  const fn = flow[def.name];
  return typeof fn === 'function' ? plansByWrapper.get(fn) : undefined;
}

// ---------------------------------------------------------------------------------------------
// The general path

/** Entry of the general path: queue behind an in-flight call, or run now. */
export function callGeneral(plan: Plan, flow: Flow, args: unknown[]): unknown {
  const fs = flowState(flow);
  if (fs !== undefined && (fs.active !== 0 || fs.queue.length !== 0) && !insideOf(flow)) {
    return new Promise((resolve, reject) => {
      fs.queue.push(() => {
        try {
          resolve(start(plan, flow, args));
        } catch (error) {
          reject(error);
        }
      });
    });
  }
  return start(plan, flow, args);
}

function start(plan: Plan, flow: Flow, args: unknown[]): unknown {
  const store = storeOf(plan, flow);
  if (store !== undefined && !insideOf(flow)) return runUnitOfWork(store, plan, flow, args);
  if (plan.async) return runInFrame(flow, drive, steps(plan, flow, args), flow);
  return drive(steps(plan, flow, args), flow);
}

function storeOf(plan: Plan, flow: Flow): TransitionStore | undefined {
  for (const lane of plan.lanes) {
    const rec = recordOf(flow, lane.state);
    if (rec.persistence !== undefined) return rec.persistence as TransitionStore;
  }
  return undefined;
}

/**
 * The outermost call on a persisted flow, as one unit of work of its store. The flow counts as
 * busy (outside calls queue) and inside a call (waiters wait) until the store has committed or
 * failed, so nobody observes a state the database might still refuse.
 */
async function runUnitOfWork(store: TransitionStore, plan: Plan, flow: Flow, args: unknown[]): Promise<unknown> {
  const fs = flag(flow);
  fs.depth++;
  fs.active++;
  const mark = fs.journal.length;
  const unit: UnitOfWork = {
    flow,
    transition: plan.name,
    get changes() {
      return fs.journal.slice(mark);
    },
    restore() {
      // Put every State this unit changed back to the value it had before the unit, last first.
      const changes = fs.journal.slice(mark);
      const first = new Map<State<any>, StateChange>();
      for (const c of changes) if (!first.has(c.state)) first.set(c.state, c);
      for (const c of [...first.values()].reverse()) writeState(flow, recordOf(flow, c.state), c.state, c.source);
      fs.journal.length = mark;
    },
  };
  try {
    return await store.run(unit, () => runInFrame(flow, driveAsync, steps(plan, flow, args), undefined, flow));
  } catch (error) {
    fs.journal.length = mark;
    throw error;
  } finally {
    fs.active--;
    fs.depth--;
    leave(flow, fs);
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as PromiseLike<unknown>).then === 'function';
}

/** Runs the step generator synchronously until user code returns a promise. */
function drive(gen: Generator<unknown, unknown, unknown>, flow: Flow): unknown {
  let step = gen.next();
  while (step.done !== true) {
    const value = step.value;
    if (isThenable(value)) {
      return insideOf(flow) ? driveAsync(gen, value, flow) : runInFrame(flow, driveAsync, gen, value, flow);
    }
    step = gen.next(value);
  }
  return step.value;
}

/** Continues the step generator from a pending promise, feeding back values and rejections. */
async function driveAsync(gen: Generator<unknown, unknown, unknown>, pending: unknown, flow: Flow): Promise<unknown> {
  const fs = flag(flow);
  fs.active++;
  try {
    let input = pending;
    let step: IteratorResult<unknown, unknown> | undefined = pending === undefined ? gen.next() : undefined;
    for (;;) {
      if (step !== undefined) {
        if (step.done === true) return step.value;
        input = step.value;
      }
      let value: unknown;
      let failed = false;
      try {
        value = isThenable(input) ? await input : input;
      } catch (error) {
        failed = true;
        value = error;
      }
      step = failed ? gen.throw(value) : gen.next(value);
    }
  } finally {
    fs.active--;
    leave(flow, fs);
  }
}

/** After a call (or an in-flight async call) ends: deliver waiters, then let the next queued call run. */
function leave(flow: Flow, fs: FlowState): void {
  if (fs.depth === 0 && fs.active === 0) {
    if (fs.journal.length !== 0 || fs.waiters.length !== 0) deliverJournal(flow, fs);
    const next = fs.queue.shift();
    if (next !== undefined) {
      next();
      // A queued call that finished synchronously leaves the turn to the next one.
      if (fs.active === 0 && fs.depth === 0 && fs.queue.length !== 0) leave(flow, fs);
      return;
    }
  }
  unflagIfIdle(flow, fs);
}

/** The event object hooks receive. */
export interface HookEventRecord {
  flow: object;
  state: State<any>;
  transition: string;
  source: StateValue;
  target: StateValue;
  args: unknown[];
  result?: unknown;
  error?: unknown;
}

function callHook(flow: Flow, hook: HookEntry, event: HookEventRecord): unknown {
  return hook.method !== undefined ? flow[hook.method](event) : hook.fn!(event);
}

/**
 * The steps of one call, contract §4. Every `yield` hands the result of user code to the driver,
 * which resumes with its settled value (or throws its rejection back in here).
 */
function* steps(plan: Plan, flow: Flow, args: unknown[]): Generator<unknown, unknown, unknown> {
  const lanes = plan.lanes;
  const n = lanes.length;
  const recs: ClassRecord[] = [];
  const defs: TransitionDefinition[] = [];
  const sources: StateValue[] = [];

  // 1. Where are we, and does a transition of this name start here?
  for (let i = 0; i < n; i++) {
    const lane = lanes[i]!;
    const rec = recordOf(flow, lane.state);
    const value = readState(flow, rec, lane.state);
    const def = findDefinition(lane, value);
    if (def === undefined) throw refusal(flow, plan.name, lane, rec);
    recs.push(rec);
    defs.push(def);
    sources.push(value);
  }
  // 2. Conditions, in order.
  for (let i = 0; i < n; i++) checkConditions(flow, defs[i]!, sources[i]!, args);
  // 3a. Input: validate and replace the first argument before anything changes.
  if (plan.hasInput) {
    for (let i = 0; i < n; i++) {
      const schema = defs[i]!.input;
      if (schema === undefined) continue;
      let result = schema['~standard'].validate(args[0]) as StandardSchemaV1.Result<unknown> | Promise<StandardSchemaV1.Result<unknown>>;
      if (isThenable(result)) result = (yield result) as StandardSchemaV1.Result<unknown>;
      if (result.issues) {
        const first = result.issues[0];
        throw new InvalidTransitionInput(
          plan.name,
          result.issues,
          `${className(flow)}.${plan.name}(): invalid input${first ? `: ${first.message}${first.path?.length ? ` at ${first.path.map((p) => String(typeof p === 'object' ? p.key : p)).join('.')}` : ''}` : ''}.`,
        );
      }
      args[0] = result.value;
    }
  }

  const hooks: (CompiledHooks | undefined)[] = [];
  const events: (HookEventRecord | undefined)[] = [];
  for (let i = 0; i < n; i++) {
    const rec = recs[i]!;
    const h = rec.plain ? undefined : rec.compiled;
    hooks.push(h);
    const def = defs[i]!;
    events.push(
      h === undefined
        ? undefined
        : { flow, state: lanes[i]!.state, transition: plan.name, source: sources[i]!, target: def.target !== undefined ? def.target : sources[i]!, args },
    );
  }

  const fs = flowState(flow);
  if (fs !== undefined) fs.depth++;
  const mark = fs !== undefined ? fs.journal.length : 0;
  let set = 0;
  let failed = false;
  let error: unknown;
  let result: unknown;
  try {
    try {
      // 3b. before hooks: may enrich `args`, or throw to abort with nothing changed.
      for (let i = 0; i < n; i++) {
        const h = hooks[i];
        if (h !== undefined) for (const hook of h.before) yield callHook(flow, hook, events[i]!);
      }
      // 4. The state changes before the body runs.
      for (; set < n; set++) {
        const target = defs[set]!.target;
        if (target !== undefined) {
          writeState(flow, recs[set]!, lanes[set]!.state, target);
          const journal = (fs ?? flowState(flow))?.journal;
          if (journal !== undefined) journal.push({ state: lanes[set]!.state, transition: plan.name, source: sources[set]!, target });
        }
      }
      // 5. The body.
      result = yield plan.body.apply(flow, args);
      // 6. onSuccess hooks: a throw here undoes the transition like a throwing body.
      for (let i = 0; i < n; i++) {
        const h = hooks[i];
        if (h === undefined) continue;
        events[i]!.result = result;
        for (const hook of h.success) yield callHook(flow, hook, events[i]!);
      }
    } catch (e) {
      failed = true;
      error = e;
      // 5'. Roll back what was set, last first: the source, or the transition's onError value.
      // Forget what this call (and calls inside it) journaled. A flow flagged only during this call
      // (it went async, or someone started waiting) has journaled nothing from before it.
      const now = fs ?? flowState(flow);
      if (now !== undefined) now.journal.length = fs !== undefined ? mark : 0;
      // `set` counts the lanes whose target was written; a setter that threw did not write its own.
      for (let i = set - 1; i >= 0; i--) {
        const def = defs[i]!;
        try {
          const back = backValue(def, sources[i]!);
          if (back !== undefined) writeState(flow, recs[i]!, lanes[i]!.state, back);
          if (now !== undefined && back !== undefined && def.onError !== undefined) {
            now.journal.push({ state: lanes[i]!.state, transition: plan.name, source: sources[i]!, target: back });
          }
        } catch {
          // The original error matters more than a failed rollback write; keep going.
        }
      }
      // onError hooks run after the rollback, so a transition they call starts from the rolled-back state.
      for (let i = 0; i < n; i++) {
        const h = hooks[i];
        if (h === undefined) continue;
        events[i]!.error = error;
        for (const hook of h.error) yield callHook(flow, hook, events[i]!);
      }
    }
  } catch (e) {
    // An onError hook threw: like a `catch` block that throws, its error replaces the original.
    failed = true;
    error = e;
  }
  try {
    // 7. after hooks run whatever happened, like a `finally` block.
    for (let i = 0; i < n; i++) {
      const h = hooks[i];
      if (h !== undefined) for (const hook of h.after) yield callHook(flow, hook, events[i]!);
    }
  } catch (e) {
    failed = true;
    error = e;
  } finally {
    if (fs !== undefined) {
      fs.depth--;
      leave(flow, fs);
    }
  }
  if (failed) throw error;
  return result;
}
