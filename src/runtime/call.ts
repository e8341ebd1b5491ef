/**
 * The general path of a transition call: everything the fast path in wrapper.ts leaves out
 * (hooks, input schemas, several States on one method, async bodies, queueing behind an in-flight
 * call, waiters, persistence).
 *
 * The steps of a call (README, Transitions) are written once, as an interpreter over a `Call` object: `advance`
 * runs them until user code returns a promise, then returns `PENDING`; the async driver awaits
 * that promise and feeds the outcome back into `advance`. So a call stays synchronous while
 * everything it runs is, and the rollback logic is the same in both worlds. (A generator did the
 * same with half the code and measured 4-5x slower: its resumptions and arrays dominated.)
 */

import { InvalidTransitionInput, show, type StateValue } from '../core/errors.ts';
import { findDefinition, isThenable, learn, refreshPlan, type ClassRecord, type CompiledHooks, type HookEntry, type Lane, type Plan, type TransitionDefinition } from '../core/definition.ts';
import { className, readState, recordFor, recordOf, writeState } from './access.ts';
import { checkConditions, checkPermission, refusal } from './refusals.ts';
import { insideOf, runInFrame } from './async-context.ts';
import { actingScope, actingUser, inScope } from './acting.ts';
import { flag, flowState, journalRollback, record, unflagIfIdle, type FlowState, type StateChange } from './flow-state.ts';
import { deliverSoon } from './waiting.ts';
import { durableHooks, runAfterCommit, type Committed } from './after-commit.ts';
import type { StateSpec } from '../core/state-spec.ts';
import type { StandardSchemaV1 } from '../core/standard-schema.ts';

type Flow = Record<PropertyKey, any>;

/**
 * What the general path needs of a persistence store: the public `TransitionStore` and
 * `UnitOfWork` (src/persistence.ts), whose changes name the facade's `State`, as seen from below it.
 */
interface Store {
  run(unit: Unit, call: () => Promise<unknown>): Promise<unknown>;
  rolledBack?(unit: Unit): void | Promise<void>;
}
interface Unit {
  readonly flow: object;
  readonly transition: string;
  readonly user: unknown;
  readonly changes: readonly StateChange[];
  readonly undoAll: boolean;
  readonly durableHooks: ReadonlyArray<{ change: StateChange; hook: string }>;
  restore(): void;
  nestIn(outer: Unit | PromiseLike<boolean>): void;
}

/** Per unit: the afterCommit work it waits to run, its own and that of units committed inside it. */
interface UnitEffects {
  readonly committed: Committed[];
  /**
   * The unit this one committed inside of (a savepoint of its transaction), which runs our effects,
   * or the outcome of a transaction of the caller's own that ours was a savepoint of.
   */
  outer: UnitEffects | PromiseLike<boolean> | undefined;
}
const effectsOf = new WeakMap<Unit, UnitEffects>();

/** A unit of work in progress, as its outermost call sees it. */
interface UnitRun {
  readonly store: Store;
  readonly unit: Unit;
  /** Nothing of the call may be kept: an `after` hook of the outermost call threw, or its store's undo did. */
  discard: boolean;
}

/** The event object hooks receive (one per State the method transitions). */
export interface HookEventRecord {
  flow: object;
  state: StateSpec<any>;
  transition: string;
  source: StateValue;
  target: StateValue;
  args: unknown[];
  /** The user the call acts for (`actingAs`); `undefined` outside. */
  user: unknown;
  result?: unknown;
  error?: unknown;
}

/**
 * The value to write back after a failure: `onError`'s, else the source. A transition without
 * target writes only if its body moved the state (a chained call), so the chain is undone.
 */
export function backValue(def: TransitionDefinition, source: StateValue, current: () => StateValue): StateValue | undefined {
  if (def.onError !== undefined) return def.onError;
  if (def.target !== undefined) return source;
  let now: StateValue;
  try {
    now = current();
  } catch {
    return source;
  }
  return now === source ? undefined : source;
}

// ---------------------------------------------------------------------------------------------
// Entry, queueing, units of work

/**
 * Entry of the general path: queue behind an in-flight call, or run now. A method declared `async`
 * reports every error as a rejection, refusals included (README, Errors); any other call throws
 * what it throws.
 */
export function callGeneral(plan: Plan, flow: Flow, args: unknown[]): unknown {
  if (!plan.declaredAsync) return enter(plan, flow, args);
  try {
    return enter(plan, flow, args);
  } catch (error) {
    return Promise.reject(error);
  }
}

function enter(plan: Plan, flow: Flow, args: unknown[]): unknown {
  const fs = flowState(flow);
  if (fs !== undefined && (fs.active !== 0 || fs.queue.length !== 0) && !insideOf(flow)) {
    // The call runs later, from whatever context ends the call in flight: it keeps the user it
    // was made for.
    const scope = actingScope();
    return new Promise((resolve, reject) => {
      fs.queue.push(() => {
        try {
          resolve(inScope(scope, () => start(plan, flow, args)));
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
  if (store !== undefined) {
    if (!plan.declaredAsync) throw notAsync(plan, flow);
    if (!insideOf(flow)) return runUnitOfWork(store, plan, flow, args);
  }
  // An async body runs inside a frame so that its chained calls after an `await` are recognised;
  // so does a body's first call, until we know whether it returns promises.
  if ((plan.async || !plan.probed) && !insideOf(flow)) return runInFrame(flow, run, plan, flow, args);
  return run(plan, flow, args);
}

/**
 * A persisted call always returns a promise, so its method must be declared `async` (TypeScript
 * then types it as one). `persistWith` and the decorators refuse such methods when they can; this
 * catches a subclass defined before its parent was persisted.
 */
function notAsync(plan: Plan, flow: Flow): TypeError {
  return new TypeError(
    `${className(flow)}.${plan.name}() is a persisted transition, so it always returns a promise, but it is not declared async: declare it async ${plan.name}(...) { ... } so that TypeScript types its calls as promises.`,
  );
}

function storeOf(plan: Plan, flow: Flow): Store | undefined {
  for (const lane of plan.lanes) {
    const rec = recordFor(lane, flow);
    if (rec.persistence !== undefined) return rec.persistence as Store;
    if (rec.needsStore !== undefined) {
      throw new TypeError(
        `${className(flow)}: ${rec.needsStore} needs a persisted flow (a worker runs it after the commit): persist the class with persistTransitions(${lane.state.name}, ${className(flow)}, { ..., flow: (entity, em) => ... }) from transitional/mikro-orm, or drop it.`,
      );
    }
  }
  return undefined;
}

/**
 * The outermost call on a persisted flow, as one unit of work of its store. The flow counts as
 * busy (outside calls queue) and inside a call (waiters wait) until the store has committed or
 * failed, so nobody observes a state the database might still refuse.
 */
async function runUnitOfWork(store: Store, plan: Plan, flow: Flow, args: unknown[]): Promise<unknown> {
  const fs = flag(flow);
  fs.depth++;
  fs.active++;
  const mark = fs.journal.length;
  const failedWrites = fs.failedWrites;
  const unit: Unit = {
    flow,
    transition: plan.name,
    user: actingUser(),
    get changes(): StateChange[] {
      return fs.journal.slice(mark).filter((c) => !c.seen);
    },
    get undoAll(): boolean {
      return running.discard || fs.failedWrites !== failedWrites;
    },
    get durableHooks() {
      return durableHooks(flow, fs.journal.slice(mark).filter((c) => !c.seen));
    },
    nestIn(outer: Unit | PromiseLike<boolean>) {
      effects.outer = 'then' in outer ? outer : effectsOf.get(outer as Unit);
    },
    restore() {
      // Put every State this unit changed back to the value it had before the unit, last first.
      const first = new Map<StateSpec<any>, StateChange>();
      for (const c of fs.journal.slice(mark)) if (!c.seen && !first.has(c.state)) first.set(c.state, c);
      for (const c of [...first.values()].reverse()) {
        try {
          writeState(flow, recordOf(flow, c.state), c.state, c.source);
        } catch {
          // Best effort: the store puts its own copy of the storage back.
        }
      }
      fs.journal.length = mark;
    },
  };
  const running: UnitRun = { store, unit, discard: false };
  const effects: UnitEffects = { committed: [], outer: undefined };
  effectsOf.set(unit, effects);
  let callFailed = false;
  let callError: unknown;
  const call = () =>
    runInFrame(flow, runAsync, plan, flow, args, running).catch((error: unknown) => {
      callFailed = true;
      callError = error;
      throw error;
    });
  let result: unknown;
  try {
    result = await store.run(unit, call);
    // Committed (or, nested, released into the enclosing unit's transaction).
    for (const change of fs.journal.slice(mark)) if (!change.seen) effects.committed.push({ flow, change });
  } catch (error) {
    // The call's own error, passed on: the journal holds exactly what the call kept (an onError
    // move, which the store persisted). Any other error is the store's: the unit did not happen.
    if (!(callFailed && error === callError)) fs.journal.length = mark;
    throw error;
  } finally {
    fs.active--;
    fs.depth--;
    leave(flow, fs);
  }
  const outer = effects.outer;
  if (outer !== undefined && 'committed' in outer) {
    // Durable only once the enclosing unit commits: its afterCommit hooks run then, or never.
    outer.committed.push(...effects.committed);
  } else if (outer !== undefined) {
    // Inside a transaction of the caller's own: once it commits, or never. The call does not wait.
    if (effects.committed.length !== 0) {
      const user = unit.user;
      void Promise.resolve(outer).then((committed) => (committed ? runAfterCommit(effects.committed, user) : undefined), () => undefined);
    }
  } else if (effects.committed.length !== 0) {
    // The flow is free again: afterCommit hooks may call its transitions (as new calls). In the
    // order the changes happened, across the flows whose units committed inside this one.
    effects.committed.sort((a, b) => a.change.seq - b.change.seq);
    await runAfterCommit(effects.committed, unit.user);
  }
  return result;
}

async function runAsync(plan: Plan, flow: Flow, args: unknown[], unit: UnitRun): Promise<unknown> {
  return run(plan, flow, args, unit);
}

/** After a call (or an in-flight async call) ends: deliver waiters, then let the next queued call run. */
export function leave(flow: Flow, fs: FlowState): void {
  while (fs.depth === 0 && fs.active === 0) {
    if (fs.journal.length !== 0 || fs.waiters.length !== 0) deliverSoon(flow, fs);
    const next = fs.queue.shift();
    if (next === undefined) break;
    // Runs the queued call; one that goes async takes the turn until it settles, one that ends
    // (or is refused) synchronously hands it to the next.
    next();
  }
  unflagIfIdle(flow, fs);
}

// ---------------------------------------------------------------------------------------------
// The call

/** Where a call is among its steps (README, Transitions). */
const enum Step {
  Input,
  Before,
  /** Dynamic targets are computed (and checked against `targets`) before anything is set. */
  Target,
  Set,
  Body,
  Success,
  /** A persisted call failed and rolled back: its store undoes the rest before the onError hooks. */
  Undo,
  ErrorHooks,
  After,
  Done,
}

/** A call's work for one State of its method. */
class Part {
  /** Created only when the class has hooks for this State. */
  event: HookEventRecord | undefined = undefined;
  /** The value to set: the static target, a dynamic one once computed (Step.Target), or `undefined` without target. */
  target: StateValue | undefined;
  constructor(
    readonly state: StateSpec<any>,
    readonly rec: ClassRecord,
    readonly def: TransitionDefinition,
    readonly source: StateValue,
    /** `undefined` when the class has no hooks for this State. */
    readonly hooks: CompiledHooks | undefined,
  ) {
    this.target = typeof def.target === 'function' ? undefined : def.target;
  }
}

const PENDING: unique symbol = Symbol('pending');

/** One call on the general path, and where it is. */
class Call {
  step = Step.Input;
  /** Position inside the step: which part, and which hook of that part's list. */
  part = 0;
  hook = 0;
  /** How many parts had their target written (these are rolled back on failure). */
  set = 0;
  failed = false;
  error: unknown = undefined;
  result: unknown = undefined;
  /** The promise user code returned, while the call waits for it. */
  pending: PromiseLike<unknown> | undefined = undefined;
  /** That promise came from user code that ran outside the flow's async frame (see `settle`). */
  frameless = false;
  /** The flow's bookkeeping, if it had any when the call began changing things. */
  fs: FlowState | undefined = undefined;
  /** The journal length when the call began: a rollback undoes its States' entries from there. */
  mark = 0;
  constructor(
    readonly plan: Plan,
    readonly flow: Flow,
    readonly args: unknown[],
    readonly parts: Part[],
    /** The unit of work this call is the outermost call of, on a persisted flow. */
    readonly unit: UnitRun | undefined,
  ) {}
  /** The outermost in-memory call succeeded with these changes: its afterCommit hooks run next. */
  committed: Committed[] | undefined = undefined;
}

/** Steps 1 and 2 (nothing changes if they throw), then the rest, synchronously as far as possible. */
function run(plan: Plan, flow: Flow, args: unknown[], unit?: UnitRun): unknown {
  const lanes = plan.lanes;
  const parts: Part[] = [];
  for (let i = 0; i < lanes.length; i++) {
    const lane: Lane = lanes[i]!;
    const rec = recordFor(lane, flow);
    const value = readState(flow, rec, lane.state);
    const def = findDefinition(lane, value);
    if (def === undefined) throw refusal(flow, plan.name, lane, rec);
    parts.push(new Part(lane.state, rec, def, value, rec.plain ? undefined : rec.compiled));
  }
  for (let i = 0; i < parts.length; i++) checkPermission(flow, parts[i]!.def, parts[i]!.source);
  for (let i = 0; i < parts.length; i++) checkConditions(flow, parts[i]!.def, parts[i]!.source, args);
  const call = new Call(plan, flow, args, parts, unit);
  const out = advance(call);
  if (out !== PENDING) {
    // A synchronous call returns once its afterCommit hooks ran (those returning promises are
    // not waited for; their errors are reported all the same).
    if (call.committed !== undefined) void runAfterCommit(call.committed, actingUser());
    return out;
  }
  return insideOf(flow) ? settle(call) : runInFrame(flow, settle, call);
}

/**
 * Waits for each promise the call's user code returns and resumes the call with its outcome.
 *
 * While it waits, the flow is busy: outside calls queue, and chained calls are told apart by the
 * async frame the user code ran in. A promise returned by code that ran outside any frame (a body
 * or hook not declared `async` that had returned synchronously before, so it ran unframed) cannot
 * be told apart from outside calls: the code after its `await`s might chain a transition, which
 * must not queue behind the very call waiting for it. Until such a promise settles the flow is not
 * busy (calls made meanwhile run at once) but waiters are still held back.
 */
async function settle(call: Call): Promise<unknown> {
  const fs = flag(call.flow);
  let busy = !call.frameless;
  if (busy) fs.active++;
  else fs.depth++;
  let out: unknown;
  try {
    for (;;) {
      try {
        accept(call, await call.pending);
      } catch (error) {
        fail(call, error);
      }
      if (!busy) {
        // From here on the call's user code runs inside this frame.
        busy = true;
        fs.depth--;
        fs.active++;
      }
      call.frameless = false;
      out = advance(call);
      if (out !== PENDING) break;
    }
  } finally {
    if (busy) fs.active--;
    else fs.depth--;
    leave(call.flow, fs);
  }
  // The flow is free again: afterCommit hooks may call its transitions (as new calls).
  if (call.committed !== undefined) await runAfterCommit(call.committed, actingUser());
  return out;
}

/** Runs a hook; `call.frameless` tells whether a promise it returns came from code outside the async frame. */
function callHook(call: Call, hook: HookEntry, event: HookEventRecord): unknown {
  const flow = call.flow;
  if (hook.probed && !hook.async) {
    const out = invokeHook(flow, hook, event);
    if (isThenable(out)) {
      call.frameless = !insideOf(flow);
      hook.async = true;
    }
    return out;
  }
  // A hook that returns promises (or may: not called yet) runs inside the async frame, so that a
  // transition it calls after an `await` counts as chained, not as an outside call.
  const result = insideOf(flow) ? invokeHook(flow, hook, event) : runInFrame(flow, invokeHook, flow, hook, event);
  hook.probed = true;
  hook.async = isThenable(result);
  return result;
}

function invokeHook(flow: Flow, hook: HookEntry, event: HookEventRecord): unknown {
  return hook.method !== undefined ? flow[hook.method](event) : hook.fn!(event);
}

/** The hook list of `kind` for part `i`, or `undefined` when it has none. */
function hooksOf(call: Call, i: number, kind: keyof CompiledHooks): readonly HookEntry[] | undefined {
  const hooks = call.parts[i]!.hooks;
  return hooks === undefined || hooks[kind].length === 0 ? undefined : hooks[kind];
}

const NO_HOOK: unique symbol = Symbol('no hook left');

/**
 * Runs the next hook of `kind` (parts in order, hooks in order) and returns what it returned, or
 * `NO_HOOK` when none is left. The position moves before the hook runs, so a throw never runs it twice.
 */
function nextHook(call: Call, kind: keyof CompiledHooks): unknown {
  while (call.part < call.parts.length) {
    const list = hooksOf(call, call.part, kind);
    if (list !== undefined && call.hook < list.length) {
      const hook = list[call.hook++]!;
      const part = call.parts[call.part]!;
      if (hook.transitions !== undefined || hook.filter !== undefined) {
        if (!applies(hook, call.plan.name, part)) continue;
      }
      return callHook(call, hook, part.event!);
    }
    call.part++;
    call.hook = 0;
  }
  return NO_HOOK;
}

/**
 * Whether a filtered hook runs for this part: `{ transitions }` names the method; `onExit` needs a
 * transition with a target whose source is among its values, `onEnter` one whose target is.
 */
function applies(hook: HookEntry, name: string, part: Part): boolean {
  if (hook.transitions !== undefined && !hook.transitions.has(name)) return false;
  if (hook.filter === undefined) return true;
  if (part.def.target === undefined) return false;
  return hook.values!.has(hook.filter === 'exit' ? part.source : part.target!);
}

/** Which hooks each hook step runs. */
const HOOKS_OF = {
  [Step.Before]: 'before',
  [Step.Success]: 'success',
  [Step.ErrorHooks]: 'error',
  [Step.After]: 'after',
} as Record<Step, keyof CompiledHooks>;

/** The hooks of the current step have all run: where the call goes next. */
function hooksDone(call: Call): void {
  switch (call.step) {
    case Step.Before:
      adoptArgs(call);
      moveTo(call, call.plan.dynamicTarget ? Step.Target : Step.Set);
      return;
    case Step.After:
      call.step = Step.Done;
      return;
    default:
      // After onSuccess hooks, or after onError hooks: the after hooks.
      moveTo(call, Step.After);
  }
}

function moveTo(call: Call, step: Step): void {
  call.step = step;
  call.part = 0;
  call.hook = 0;
}

/** Runs steps until the call is done (returns its result or throws) or waits for a promise (`PENDING`). */
function advance(call: Call): unknown {
  for (;;) {
    let value: unknown;
    try {
      switch (call.step) {
        case Step.Input: {
          const part = call.parts[call.part];
          if (part === undefined) {
            begin(call);
            moveTo(call, Step.Before);
            continue;
          }
          const schema = part.def.input;
          if (schema === undefined) {
            call.part++;
            continue;
          }
          value = schema['~standard'].validate(call.args[0]);
          if (!isThenable(value)) {
            accept(call, value);
            continue;
          }
          break;
        }
        case Step.Before:
        case Step.Success:
        case Step.ErrorHooks:
        case Step.After:
          value = nextHook(call, HOOKS_OF[call.step]);
          if (value === NO_HOOK) {
            hooksDone(call);
            continue;
          }
          break;
        case Step.Target:
          computeTargets(call);
          call.step = Step.Set;
          continue;
        case Step.Set: {
          // The state changes before the body runs.
          while (call.set < call.parts.length) {
            const part = call.parts[call.set]!;
            const target = part.target;
            if (target !== undefined) {
              writeState(call.flow, part.rec, part.state, target);
              const fs = call.fs ?? flowState(call.flow);
              if (fs !== undefined) record(fs, { state: part.state, transition: call.plan.name, source: part.source, target, origin: call });
            }
            call.set++;
          }
          call.step = Step.Body;
          continue;
        }
        case Step.Body:
          value = call.plan.body.apply(call.flow, call.args);
          learn(call.plan, value);
          if (!isThenable(value)) {
            accept(call, value);
            continue;
          }
          if (!call.plan.async) {
            // Probed synchronous before, so the body ran outside the async frame (see `settle`);
            // its later calls run inside one.
            call.frameless = !insideOf(call.flow);
            call.plan.async = true;
            refreshPlan(call.plan);
          }
          break;
        case Step.Undo: {
          const { store, unit } = call.unit!;
          value = store.rolledBack!(unit);
          if (!isThenable(value)) {
            accept(call, value);
            continue;
          }
          break;
        }
        case Step.Done:
          return finish(call);
      }
    } catch (error) {
      if (call.step === Step.Done) throw error;
      fail(call, error);
      continue;
    }
    if (isThenable(value)) {
      call.pending = value;
      return PENDING;
    }
  }
}

/** The user code the call ran (or waited for) returned `value`: move on. */
function accept(call: Call, value: unknown): void {
  call.pending = undefined;
  if (call.step === Step.Input) {
    const outcome = value as StandardSchemaV1.Result<unknown>;
    if (outcome.issues) throw invalidInput(call, outcome.issues);
    call.args[0] = outcome.value;
    call.part++;
  } else if (call.step === Step.Body) {
    call.result = value;
    for (const part of call.parts) if (part.event !== undefined) part.event.result = value;
    moveTo(call, Step.Success);
  } else if (call.step === Step.Undo) {
    moveTo(call, Step.ErrorHooks);
  }
  // A hook's return value means nothing; its position already moved on.
}

/** Something threw (or rejected) during `call.step`: route the call as its steps say (README, Transitions and Hooks). */
function fail(call: Call, error: unknown): void {
  call.pending = undefined;
  switch (call.step) {
    case Step.Input:
      // Nothing has changed and no hook has run: the error is the call's outcome.
      call.failed = true;
      call.error = error;
      call.step = Step.Done;
      return;
    case Step.Before:
    case Step.Target:
    case Step.Set:
    case Step.Body:
    case Step.Success:
      call.failed = true;
      call.error = error;
      call.result = undefined;
      rollback(call);
      for (const part of call.parts) if (part.event !== undefined) part.event.error = error;
      // A persisted call's store undoes the body's other effects before the onError hooks run.
      moveTo(call, call.unit?.store.rolledBack !== undefined ? Step.Undo : Step.ErrorHooks);
      return;
    case Step.Undo:
      // A store must not throw here; if it does, the unit keeps nothing.
      call.unit!.discard = true;
      moveTo(call, Step.ErrorHooks);
      return;
    case Step.ErrorHooks:
      // Like a `catch` block that throws: this error replaces the original; after hooks still run.
      call.error = error;
      moveTo(call, Step.After);
      return;
    default:
      // Like a `finally` block that throws: this error is the outcome; the state stays in memory,
      // but a persisted call keeps nothing (all or nothing).
      if (call.unit !== undefined) call.unit.discard = true;
      call.failed = true;
      call.error = error;
      call.step = Step.Done;
  }
}

/** Puts back what the call set, last first: each source, or the transition's `onError` value. */
function rollback(call: Call): void {
  for (let i = call.set - 1; i >= 0; i--) {
    const part = call.parts[i]!;
    const back = backValue(part.def, part.source, () => readState(call.flow, part.rec, part.state));
    if (back !== undefined) {
      try {
        writeState(call.flow, part.rec, part.state, back);
      } catch {
        // The original error matters more than a failed rollback write. The state stays where it
        // is, and so do the journal entries that say how it got there; a unit of work around the
        // call learns that it cannot keep anything.
        const fs = call.fs ?? flowState(call.flow);
        if (fs !== undefined) fs.failedWrites++;
        continue;
      }
    }
    // A flow flagged only during the call journaled nothing from before it.
    const fs = call.fs ?? flowState(call.flow);
    if (fs !== undefined) {
      const now = { state: part.state, transition: call.plan.name, source: part.source, target: back ?? part.source };
      journalRollback(fs, call.fs !== undefined ? call.mark : 0, now, part.def.onError !== undefined);
    }
  }
  call.set = 0;
}

/**
 * Computes every dynamic target, each checked against its `targets`, before any is set: a value
 * outside them is a `TypeError` and nothing changes. From here on hook events carry the value.
 */
function computeTargets(call: Call): void {
  for (const part of call.parts) {
    const fn = part.def.target;
    if (typeof fn !== 'function') continue;
    const value: unknown = fn(call.flow, ...call.args);
    if (!part.def.targets.includes(value as StateValue)) {
      const what = isThenable(value) ? 'a promise (target functions must be synchronous)' : show(value);
      throw new TypeError(
        `${className(call.flow)}.${call.plan.name}(): its target function returned ${what}, which is not one of its targets (${part.def.targets.map(show).join(', ')}); return one of them, or add it to targets.`,
      );
    }
    part.target = value as StateValue;
    if (part.event !== undefined) part.event.target = part.target;
  }
}

/** A `before` hook may have replaced `event.args` with a new array: the body gets that one. */
function adoptArgs(call: Call): void {
  for (const part of call.parts) {
    const args = part.event?.args;
    if (args !== undefined && args !== call.args) {
      if (!Array.isArray(args)) throw new TypeError(`${className(call.flow)}.${call.plan.name}(): a before hook set event.args to a non-array.`);
      (call as { args: unknown[] }).args = args;
      break;
    }
  }
  for (const part of call.parts) if (part.event !== undefined) part.event.args = call.args;
}

/** Past the checks and the input: the call starts changing things. */
function begin(call: Call): void {
  for (const part of call.parts) {
    if (part.hooks !== undefined) {
      // A dynamic target is not known yet: `before` and `onExit` hooks see the source.
      const target = part.target;
      part.event = { flow: call.flow, state: part.state, transition: call.plan.name, source: part.source, target: target !== undefined ? target : part.source, args: call.args, user: actingUser() };
    }
  }
  let fs = flowState(call.flow);
  // An outermost call of a class with afterCommit hooks keeps a journal of what it changes.
  if (fs === undefined && hasAfterCommit(call.parts)) fs = flag(call.flow);
  if (fs !== undefined) {
    fs.depth++;
    call.fs = fs;
    call.mark = fs.journal.length;
  }
}

function hasAfterCommit(parts: readonly Part[]): boolean {
  for (let i = 0; i < parts.length; i++) {
    const hooks = parts[i]!.hooks;
    if (hooks !== undefined && hooks.afterCommit.length !== 0) return true;
  }
  return false;
}

function finish(call: Call): unknown {
  const fs = call.fs;
  if (fs !== undefined) {
    call.fs = undefined;
    fs.depth--;
    // The outermost call of an in-memory flow succeeded: its kept changes are "committed". (A
    // persisted call's unit of work holds a depth of its own and commits them itself.)
    if (fs.depth === 0 && !call.failed && fs.journal.length > call.mark) {
      const kept = fs.journal.slice(call.mark).filter((c) => !c.seen);
      if (kept.length !== 0) call.committed = kept.map((change) => ({ flow: call.flow, change }));
    }
    leave(call.flow, fs);
  }
  if (call.failed) throw call.error;
  return call.result;
}

function invalidInput(call: Call, issues: ReadonlyArray<StandardSchemaV1.Issue>): InvalidTransitionInput {
  const first = issues[0];
  const path = first?.path?.length ? ` at ${first.path.map((p) => String(typeof p === 'object' ? p.key : p)).join('.')}` : '';
  return new InvalidTransitionInput(call.plan.name, issues, `${className(call.flow)}.${call.plan.name}(): invalid input${first ? `: ${first.message}${path}` : ''}.`);
}
