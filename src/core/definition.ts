/**
 * The compiled form of a flow class's definitions, built while its decorators run.
 *
 * - A `Plan` belongs to one decorated method of one class: the undecorated body and, per `State`
 *   the method transitions, a `Lane` (its transitions, indexed by source). The method's wrapper
 *   closes over its plan, so a call finds its table without any lookup.
 * - A `ClassRecord` belongs to one class and one `State`: the accessor names, the hooks, the
 *   transitions declared by that class. It is stored in the class's metadata under the State's
 *   key, and prototype-chained to the parent class's record, so accessors are inherited.
 */

import type { StateSpec } from './state-spec.ts';
import { show, type StateValue } from './errors.ts';
import { METADATA, type Metadata } from './metadata.ts';
import type { StandardSchemaV1 } from './standard-schema.ts';
import { live } from './live.ts';

/** A condition: a boolean, or `{ ok, reason }` to say why it failed. */
export type ConditionResult = boolean | { readonly ok: boolean; readonly reason?: string };
export type Condition<F = any, A extends unknown[] = any[]> = (flow: F, ...args: A) => ConditionResult;
export type Permission<F = any, U = any> = (flow: F, user: U) => boolean;
/** A dynamic target: computed after the `before` hooks, from the flow and the call's arguments; one of the transition's `targets`. */
export type TargetFunction<V extends StateValue = StateValue, F = any, A extends unknown[] = any[]> = (flow: F, ...args: A) => V;

/** One transition, as `State.transitions()` reports it. */
export interface TransitionDefinition<V extends StateValue = StateValue> {
  /** The method name. */
  readonly name: string;
  readonly source: readonly V[] | typeof ANY;
  /**
   * The state it moves to before the body runs: a value, a function computing it (a dynamic
   * target, one of `targets`), or `undefined` for a transition without target (checks and runs
   * the body, keeps the state).
   */
  readonly target: V | TargetFunction<V> | undefined;
  /** Every value the transition may move to: `[target]`, a dynamic target's declared `targets`, or `[]` without target. */
  readonly targets: readonly V[];
  readonly label: string;
  readonly conditions: readonly Condition[];
  readonly permission: Permission | undefined;
  readonly onError: V | undefined;
  readonly rewind: boolean;
  readonly meta: unknown;
  readonly input: StandardSchemaV1 | undefined;
  /**
   * A timer, in ms: once a committed call leaves the entity in one of the sources, a worker calls
   * this transition (with no arguments) that long afterwards, if the entity is still there.
   */
  readonly after: number | undefined;
}

/**
 * A definition as the runtime holds it: the public fields, plus (non-enumerable, so
 * `transitions()` entries show only the documented ones) what the hot path reads.
 */
export interface CompiledDefinition extends TransitionDefinition {
  /** Some check runs between the source check and the state change: `conditions`, or a `permission` (under `actingAs`). */
  readonly guarded: boolean;
}

/** The source that matches every state. Exposed as `State.ANY`. */
export const ANY: unique symbol = Symbol('State.ANY');

/** The transitions of one method for one State, indexed for the call. */
export interface Lane {
  readonly state: StateSpec<any>;
  /** The method plan this lane belongs to. */
  readonly plan: Plan;
  readonly defs: CompiledDefinition[];
  /** Parallel arrays: `sources[i]` is handled by `bySource[i]` (a linear scan beats a Map for a few). */
  readonly sources: StateValue[];
  readonly bySource: CompiledDefinition[];
  /** The transition whose source is `State.ANY`, if any. */
  any: CompiledDefinition | undefined;
  /** The flow class of the last call and its record: a one-entry cache for the hot path. */
  seenClass: unknown;
  seenRecord: ClassRecord;
}

/** Everything a decorated method needs at call time. */
export interface Plan {
  readonly name: string;
  /** The undecorated method body; `superTransition` calls it. */
  readonly body: Function;
  /**
   * The body is declared `async`: every outcome of a call, errors and refusals included, is a
   * promise (README, Errors).
   */
  readonly declaredAsync: boolean;
  readonly lanes: Lane[];
  /** The body returns promises: run it inside the async frame that lets its chained calls in. */
  async: boolean;
  /**
   * Whether `async` is known. A body declared `async` is known at definition; any other body is
   * learned from its first call, which runs inside a frame just in case it returns a promise.
   */
  probed: boolean;
  /** One State, sync, no input, probed: the wrapper's fast path applies (hooks are checked per class). */
  fast: boolean;
  /** Validation needed before anything changes (`input` on some transition). */
  hasInput: boolean;
  /** Some transition of the method computes its target (a target function). */
  dynamicTarget: boolean;
}

export type HookKind = 'before' | 'success' | 'error' | 'after' | 'afterCommit';

export interface HookEntry {
  readonly kind: HookKind;
  /**
   * `'enter'` (`onEnter`, kind `success`): runs only when the transition has a target among
   * `values`; `'exit'` (`onExit`, kind `before`): only when it has a target and its source is
   * among `values`. `undefined`: every transition.
   */
  readonly filter: 'enter' | 'exit' | undefined;
  readonly values: ReadonlySet<StateValue> | undefined;
  /** `{ transitions: [...] }`: runs only for transitions of those method names. */
  readonly transitions: ReadonlySet<string> | undefined;
  /** Learned from the first call, like a plan's: async hooks run inside the async frame. */
  async: boolean;
  probed: boolean;
  readonly order: number;
  /** A decorated hook is called as `flow[method](event)`, an external one as `fn(event)`. */
  readonly method: PropertyKey | undefined;
  readonly fn: Function | undefined;
  readonly external: boolean;
  readonly seq: number;
  /** `afterCommit({ durable: true })`: recorded with the commit and run by a worker, not by the call. */
  readonly durable: boolean;
}

/** Hooks of one class for one State, merged with its ancestors' and sorted: compiled lazily. */
export interface CompiledHooks {
  readonly before: readonly HookEntry[];
  readonly success: readonly HookEntry[];
  readonly error: readonly HookEntry[];
  readonly after: readonly HookEntry[];
  /** Run once the outermost call is durable (in process); see `durable` for the worker's. */
  readonly afterCommit: readonly HookEntry[];
}

/**
 * One class's definitions for one State. A class instance (not `Object.create(null)`, which V8
 * keeps in slow dictionary mode) because the hot path reads `getter`, `setter`, `plain`, `version`.
 */
export class ClassRecord {
  /** Names of the accessor methods; a subclass starts with its parent's and may declare its own. */
  getter: PropertyKey | undefined;
  setter: PropertyKey | undefined;
  /** The accessors this class itself declares (a subclass may replace its parent's). */
  readonly declared: { getter?: PropertyKey; setter?: PropertyKey } = {};
  /** This class's own transitions, by method name (a redeclaration replaces the parent's). */
  readonly methods = new Map<string, CompiledDefinition[]>();
  /** This class's own hooks, decorated and external, in registration order. */
  readonly hooks: HookEntry[] = [];
  /** `hookVersion` when `compiled` was built; any registration anywhere invalidates it. */
  version = 0;
  compiled: CompiledHooks | undefined = undefined;
  /** No hooks and no persistence anywhere in the chain: calls may take the fast path. */
  plain = true;
  /** `version` when `plain`, else -1: the hot path's single check that its record is current and plain. */
  fastVersion = -1;
  /** Set on a class by a persistence adapter (`transitional/mikro-orm`); see `src/persistence.ts`. */
  ownPersistence: unknown = undefined;
  /** The persistence in force for this class (its own or an ancestor's), resolved when compiled. */
  persistence: unknown = undefined;
  /** Something only a persisted class can have: a timer (`after`) or a durable `afterCommit` hook; resolved when compiled. */
  needsStore: string | undefined = undefined;

  constructor(
    readonly state: StateSpec<any>,
    /** The record of the nearest ancestor class for the same State. */
    readonly parent: ClassRecord | undefined,
  ) {
    this.getter = parent?.getter;
    this.setter = parent?.setter;
  }
}

/** Invalidates every compiled class record (they are rebuilt on next use). */
export function bumpHookVersion(): void {
  live.hookVersion++;
}

let hookSeq = 0;
export function nextHookSeq(): number {
  return hookSeq++;
}

/** The record for `state` that `meta` sees (its own or an ancestor's). */
export function recordIn(meta: Metadata | undefined, state: StateSpec<any>): ClassRecord | undefined {
  return meta ? (meta[state.key] as ClassRecord | undefined) : undefined;
}

/** The record for `state` owned by the class of `meta`, created and chained to the inherited one. */
export function ownRecord(meta: Metadata, state: StateSpec<any>): ClassRecord {
  if (Object.prototype.hasOwnProperty.call(meta, state.key)) return meta[state.key] as ClassRecord;
  const rec = new ClassRecord(state, meta[state.key] as ClassRecord | undefined);
  meta[state.key] = rec;
  bumpHookVersion(); // a new record in a chain changes what subclasses inherit
  return rec;
}

/**
 * The records for `state` of `ctor` and its ancestors, root first. Walks the class chain itself:
 * a class that got its record after its subclasses were defined (a hook registered on an
 * intermediate class) is missing from their metadata chains but not from this.
 */
export function recordChain(ctor: Function | undefined, state: StateSpec<any>): ClassRecord[] {
  const chain: ClassRecord[] = [];
  for (let c = ctor; typeof c === 'function' && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
    if (!Object.prototype.hasOwnProperty.call(c, METADATA)) continue;
    const meta = (c as unknown as Record<symbol, Metadata | undefined>)[METADATA];
    if (meta && Object.prototype.hasOwnProperty.call(meta, state.key)) chain.unshift(meta[state.key] as ClassRecord);
  }
  return chain;
}

/** The definition of `name` that a record inherits (its nearest ancestor that declares it). */
export function inheritedDefinitions(rec: ClassRecord | undefined, name: string): CompiledDefinition[] | undefined {
  for (let r = rec; r; r = r.parent) {
    const defs = r.methods.get(name);
    if (defs) return defs;
  }
  return undefined;
}

/** `fastTrack` → `Fast track`, `send_to_review` → `Send to review`. */
export function sentenceCase(name: string): string {
  const words = name
    .replace(/[_\-\s]+/g, ' ')
    .replace(/([a-z\d])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A record that never takes the fast path: what a lane has seen for a class without definitions. */
export const NO_RECORD = { fastVersion: -1 } as ClassRecord;

export function createLane(state: StateSpec<any>, plan: Plan): Lane {
  return { state, plan, defs: [], sources: [], bySource: [], any: undefined, seenClass: undefined, seenRecord: NO_RECORD };
}

export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as PromiseLike<unknown>).then === 'function';
}

/** Whether `fn` is declared `async` (known at definition time, unlike a plain function returning a promise). */
export function isAsyncFunction(fn: Function): boolean {
  return Object.prototype.toString.call(fn) === '[object AsyncFunction]';
}

/**
 * Adds a definition to a method's lane, rejecting a source that another transition of the same
 * method already handles (the call could not choose between them).
 */
export function addToLane(lane: Lane, def: CompiledDefinition, where: string): void {
  if (def.source === ANY) {
    if (lane.any) throw new TypeError(`${where}: two transitions of this method start from State.ANY; stack transitions with distinct sources.`);
    if (lane.sources.length) {
      throw new TypeError(`${where}: a State.ANY transition cannot be stacked with one from ${show(lane.sources[0])} on the same method (both would match ${show(lane.sources[0])}).`);
    }
    lane.any = def;
  } else {
    if (lane.any) throw new TypeError(`${where}: a transition from ${show(def.source[0])} cannot be stacked with a State.ANY transition on the same method.`);
    for (const s of def.source) {
      if (lane.sources.includes(s)) throw new TypeError(`${where}: two transitions of this method start from ${show(s)}; each source may appear once per method.`);
      lane.sources.push(s);
      lane.bySource.push(def);
    }
  }
  lane.defs.push(def);
}

/** The transition of `lane` that starts from `value`, if any. */
export function findDefinition(lane: Lane, value: StateValue): CompiledDefinition | undefined {
  const sources = lane.sources;
  for (let i = 0; i < sources.length; i++) if (sources[i] === value) return lane.bySource[i];
  return lane.any;
}

/** Recomputes whether a plan may use the fast path (after stacking, or learning that it is async). */
export function refreshPlan(plan: Plan): void {
  plan.fast = plan.lanes.length === 1 && plan.probed && !plan.async && !plan.hasInput && !plan.dynamicTarget;
}

/** A body returned `value` on a call: if the plan did not know whether it is async, now it does. */
export function learn(plan: Plan, value: unknown): void {
  if (plan.probed) return;
  plan.probed = true;
  plan.async = isThenable(value);
  refreshPlan(plan);
}

/** Whether `rec`'s class, or an ancestor it is chained to, is persisted (`persistWith`). */
export function inheritsPersistence(rec: ClassRecord | undefined): boolean {
  for (let r = rec; r; r = r.parent) if (r.ownPersistence !== undefined) return true;
  return false;
}
