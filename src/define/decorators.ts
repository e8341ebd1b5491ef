/**
 * The decorators a `State` hands out, and the adapter that lets each of them run both as a
 * standard (TC39) decorator and as a TypeScript `experimentalDecorators` one.
 *
 * Everything here runs once, while a class is being defined: definitions are validated (a bad one
 * throws a `TypeError` before the class exists) and compiled into the method's `Plan`, which the
 * wrapper built by `createWrapper` closes over.
 */

import { ownMetadata, type Metadata } from '../core/metadata.ts';
import { show, type StateValue } from '../core/errors.ts';
import {
  addToLane,
  refreshPlan,
  ANY,
  bumpHookVersion,
  createLane,
  inheritedDefinitions,
  isAsyncFunction,
  ownRecord,
  recordIn,
  sentenceCase,
  inheritsPersistence,
  type CompiledDefinition,
  type Condition,
  type HookKind,
  type Permission,
  type Plan,
  type TargetFunction,
  type TransitionDefinition,
} from '../core/definition.ts';
import { addHook, type HookFilter, type HookOptions } from '../runtime/hooks.ts';
import type { StateSpec } from '../core/state-spec.ts';
import type { StandardSchemaV1 } from '../core/standard-schema.ts';

import { createWrapper, plansByWrapper as plans } from '../runtime/wrapper.ts';

/** Where a decorator is applied: enough to validate and to say where in an error message. */
interface Site {
  readonly meta: Metadata;
  readonly name: string;
  readonly fn: Function;
  /** `Flow.method` where the class is known (experimentalDecorators), `method()` otherwise. */
  readonly where: string;
}

/**
 * A method decorator for both decorator modes.
 * Standard: `(value, context)`. Legacy (`experimentalDecorators`): `(prototype, key, descriptor)`.
 */
export interface DualMethodDecorator<M extends (this: any, ...args: any[]) => any, F = any> {
  <This extends F, T extends M>(value: T, context: ClassMethodDecoratorContext<This, T>): T | void;
  <This extends F, T extends M>(target: This, propertyKey: string | symbol, descriptor: TypedPropertyDescriptor<T>): TypedPropertyDescriptor<T> | void;
}

function methodDecorator<M extends (this: any, ...args: any[]) => any>(label: string, apply: (site: Site) => Function | undefined): DualMethodDecorator<M> {
  return function decorator(a: any, b: any, c?: any): any {
    if (b !== null && typeof b === 'object' && 'kind' in b) {
      const context = b as ClassMethodDecoratorContext;
      const name = typeof context.name === 'string' ? context.name : String(context.name);
      const where = `${name}()`;
      if (context.kind !== 'method') throw new TypeError(`${label} decorates methods; it was applied to the ${context.kind} ${where.replace('()', '')}.`);
      if (context.static) throw new TypeError(`${label} decorates instance methods; ${where} is static.`);
      if (context.private || typeof context.name !== 'string') throw new TypeError(`${label} cannot decorate the private or symbol-named method ${name}: the runtime and introspection reach methods by name.`);
      if (!context.metadata) throw new TypeError(`${label}: decorator metadata is missing; import 'transitional' before defining flow classes, and compile with TypeScript 5.2 or later (5.0 and 5.1 emit standard decorators without metadata) or with experimentalDecorators.`);
      const out = apply({ meta: context.metadata as Metadata, name, fn: a, where });
      return out ?? a;
    }
    // experimentalDecorators: (prototype, key, descriptor)
    const target = a as object;
    const key = b as PropertyKey;
    const descriptor = c as PropertyDescriptor | undefined;
    if (typeof target === 'function') throw new TypeError(`${label} decorates instance methods; ${(target as Function).name}.${String(key)} is static.`);
    const ctor = (target as { constructor: Function }).constructor;
    const where = `${ctor.name}.${String(key)}()`;
    if (typeof key !== 'string') throw new TypeError(`${label} cannot decorate the symbol-named method ${where}.`);
    if (!descriptor || typeof descriptor.value !== 'function') throw new TypeError(`${label} decorates methods; ${where} is not a method.`);
    const out = apply({ meta: ownMetadata(ctor), name: key, fn: descriptor.value, where });
    if (out) descriptor.value = out;
    return descriptor;
  } as DualMethodDecorator<M>;
}

// ---------------------------------------------------------------------------------------------
// Accessors

export function accessorDecorator(state: StateSpec<any>, kind: 'getter' | 'setter'): DualMethodDecorator<any> {
  const label = `@${state.name}.${kind}()`;
  return methodDecorator(label, (site) => {
    const rec = ownRecord(site.meta, state);
    const declared = rec.declared[kind];
    if (declared !== undefined && declared !== site.name) {
      throw new TypeError(`${label} on ${site.where}: this class already has ${label} on ${String(declared)}(); a State has one ${kind} per class.`);
    }
    rec.declared[kind] = site.name;
    rec[kind] = site.name;
    bumpHookVersion();
    return undefined;
  });
}

// ---------------------------------------------------------------------------------------------
// Transitions

export interface TransitionOptions<V extends StateValue, F = any, A extends unknown[] = any[]> {
  /** The state(s) the transition starts from, or `State.ANY`. */
  readonly source: V | readonly V[] | typeof ANY;
  /**
   * The state it moves to before the body runs; left out, the state stays as it is. A function
   * `(flow, ...args) => value` computes it after the `before` hooks (a dynamic target): it must
   * return one of `targets`.
   */
  readonly target?: V | TargetFunction<V, F, A>;
  /** With a target function: every value it may return (checked at each call, drawn in diagrams). */
  readonly targets?: readonly V[];
  /** For people and diagrams; default: the method name in sentence case. */
  readonly label?: string;
  /** Checked in order before anything changes; the first false one refuses the call. */
  readonly conditions?: readonly Condition<F, A>[];
  /** Who may trigger it (`available({ user })`, `hasPermission`); absent means everyone. */
  readonly permission?: Permission<F>;
  /** On a throw, move here instead of back to the source. */
  readonly onError?: V;
  /** Ordered States: allow a target before the source. */
  readonly rewind?: boolean;
  /** Validates the first argument, and replaces it by the parsed value, before anything changes. */
  readonly input?: StandardSchemaV1;
  /** Free data for user interfaces. */
  readonly meta?: unknown;
  /**
   * A timer, in milliseconds (persisted flows only, `transitional/mikro-orm`): once a committed call
   * leaves the entity in one of `source`, a worker calls this transition, with no arguments, that
   * long afterwards, if the entity is still there.
   *
   * @example
   * @stage.transition({ source: 'awaitingPayment', target: 'expired', after: 30 * 60_000 })
   * async expire() {}
   */
  readonly after?: number;
}

function checkValue(state: StateSpec<any>, where: string, what: string, value: unknown): void {
  if (!state.has(value)) {
    throw new TypeError(`${where}: ${what} ${show(value)} is not a value of ${state} (declared: ${state.values.map(show).join(', ')}).`);
  }
}

const NO_TARGETS: readonly StateValue[] = Object.freeze([]);

/** Validates options and builds the definition; every error names the method and the offending value. */
function defineTransition(state: StateSpec<any>, site: Site, options: TransitionOptions<StateValue>): CompiledDefinition {
  const where = `@${state.name}.transition() on ${site.where}`;
  if (options === null || typeof options !== 'object') throw new TypeError(`${where}: options are required ({ source, target? }).`);
  const { source, target, targets, label, conditions = [], permission, onError, rewind = false, input, meta, after } = options;
  let sources: readonly StateValue[] | typeof ANY;
  if (source === ANY) sources = ANY;
  else if (Array.isArray(source)) {
    if (source.length === 0) throw new TypeError(`${where}: source is an empty array; give at least one value, or State.ANY.`);
    sources = Object.freeze([...source]);
  } else if (source === undefined) throw new TypeError(`${where}: source is missing; give a value, an array of values, or State.ANY.`);
  else sources = Object.freeze([source as StateValue]);
  if (sources !== ANY) {
    for (const s of sources) checkValue(state, where, 'source', s);
    if (new Set(sources).size !== sources.length) throw new TypeError(`${where}: source lists a value twice.`);
  }
  let reachable: readonly StateValue[];
  if (typeof target === 'function') {
    if (!Array.isArray(targets) || targets.length === 0) {
      throw new TypeError(`${where}: a target function needs targets, the values it may return: { target: (flow, ...args) => ..., targets: [${state.values.slice(0, 2).map(show).join(', ')}] }.`);
    }
    for (const t of targets) checkValue(state, where, 'targets value', t);
    if (new Set(targets).size !== targets.length) throw new TypeError(`${where}: targets lists a value twice.`);
    reachable = Object.freeze([...targets]);
  } else {
    if (targets !== undefined) {
      throw new TypeError(`${where}: targets goes with a target function ({ target: (flow, ...args) => value, targets: [...] }); a fixed target is given as target alone.`);
    }
    if (target !== undefined) checkValue(state, where, 'target', target);
    reachable = target === undefined ? NO_TARGETS : Object.freeze([target]);
  }
  if (onError !== undefined) checkValue(state, where, 'onError', onError);
  if (!Array.isArray(conditions) || conditions.some((c) => typeof c !== 'function')) throw new TypeError(`${where}: conditions must be an array of functions.`);
  if (permission !== undefined && typeof permission !== 'function') throw new TypeError(`${where}: permission must be a function (flow, user) => boolean.`);
  if (label !== undefined && typeof label !== 'string') throw new TypeError(`${where}: label must be a string.`);
  if (input !== undefined && (input === null || typeof input !== 'object' || typeof (input as StandardSchemaV1)['~standard']?.validate !== 'function')) {
    throw new TypeError(`${where}: input must be a Standard Schema (zod, valibot, arktype, ...).`);
  }
  if (after !== undefined && !(typeof after === 'number' && Number.isFinite(after) && after > 0)) {
    throw new TypeError(`${where}: after must be a positive, finite number of milliseconds (a timer), got ${typeof after === 'number' ? String(after) : show(after)}.`);
  }
  if (after !== undefined && sources !== ANY && target !== undefined && typeof target !== 'function' && sources.length === 1 && sources[0] === target) {
    throw new TypeError(`${where}: a timer (after) from ${show(target)} to itself would fire again and again; give it another target.`);
  }
  if (rewind && !state.ordered) throw new TypeError(`${where}: rewind only applies to an ordered State (new State(values, { ordered: true })).`);
  if (state.ordered && !rewind) {
    const from = sources === ANY ? state.values : sources;
    for (const to of reachable) {
      const later = from.find((s) => state.indexOf(s) > state.indexOf(to));
      if (later !== undefined) {
        throw new TypeError(`${where}: ${state} is ordered and target ${show(to)} comes before source ${show(later)}; add rewind: true if going back is intended.`);
      }
    }
  }
  const def: TransitionDefinition = {
    name: site.name,
    source: sources,
    target: target as StateValue | TargetFunction | undefined,
    targets: reachable,
    label: label ?? sentenceCase(site.name),
    conditions: Object.freeze([...conditions]) as readonly Condition[],
    permission: permission as Permission | undefined,
    onError,
    rewind,
    meta,
    input,
    after,
  };
  // Read by the hot path; not enumerable, so `transitions()` entries show the documented fields only.
  Object.defineProperty(def, 'guarded', { value: conditions.length !== 0 || permission !== undefined });
  return Object.freeze(def) as CompiledDefinition;
}

/** Adds definitions to the plan of `site.fn` (stacked decorators) or builds a new plan and wrapper. */
function attach(state: StateSpec<any>, site: Site, defs: readonly CompiledDefinition[], where: string): Function | undefined {
  const existing = plans.get(site.fn);
  const declaredAsync = isAsyncFunction(site.fn);
  const plan: Plan = existing ?? {
    name: site.name,
    body: site.fn,
    declaredAsync,
    lanes: [],
    async: declaredAsync,
    probed: declaredAsync,
    fast: false,
    hasInput: false,
    dynamicTarget: false,
  };
  const rec = ownRecord(site.meta, state);
  if (!plan.declaredAsync && inheritsPersistence(rec)) {
    // A class defined after its parent was persisted: its calls would return promises typed `void`.
    throw new TypeError(
      `${where}: ${state} transitions of this class are persisted (its parent class was given to persistTransitions/persistWith), so they always return a promise; declare the method async: async ${site.name}(...) { ... }.`,
    );
  }
  let lane = plan.lanes.find((l) => l.state === state);
  if (!lane) {
    lane = createLane(state, plan);
    plan.lanes.push(lane);
  }
  for (const def of defs) {
    addToLane(lane, def, where);
    if (def.input) plan.hasInput = true;
    if (typeof def.target === 'function') plan.dynamicTarget = true;
  }
  rec.methods.set(site.name, lane.defs);
  if (existing) {
    refreshPlan(existing);
    return undefined;
  }
  return createWrapper(plan);
}

export function transitionDecorator<V extends StateValue>(state: StateSpec<V>, options: TransitionOptions<V>): DualMethodDecorator<any> {
  return methodDecorator(`@${state.name}.transition()`, (site) => {
    const def = defineTransition(state, site, options as TransitionOptions<StateValue>);
    return attach(state, site, [def], `@${state.name}.transition() on ${site.where}`);
  });
}

export function inheritDecorator(state: StateSpec<any>): DualMethodDecorator<any> {
  const label = `@${state.name}.inherit()`;
  return methodDecorator(label, (site) => {
    const parentMeta = Object.getPrototypeOf(site.meta) as Metadata | null;
    const defs = inheritedDefinitions(recordIn(parentMeta ?? undefined, state), site.name);
    if (!defs) {
      throw new TypeError(`${label} on ${site.where}: no parent class declares a ${state.name} transition named ${site.name}; use @${state.name}.transition({ ... }) to declare one.`);
    }
    return attach(state, site, defs, `${label} on ${site.where}`);
  });
}

// ---------------------------------------------------------------------------------------------
// Hooks

/** `D`: the decorator's public type, `HookDecorator<V>` (src/state.ts: it names the facade's `HookEvent`). */
export function hookDecorator<D>(state: StateSpec<any>, kind: HookKind, options: HookOptions | undefined): D {
  const name = kind === 'success' ? 'onSuccess' : kind === 'error' ? 'onError' : kind;
  const label = `@${state.name}.${name}()`;
  return methodDecorator(label, (site) => {
    addHook(ownRecord(site.meta, state), kind, { method: site.name }, options, false, `${label} on ${site.where}`);
    return undefined;
  }) as D;
}

/**
 * `@s.onEnter(values, options?)` (an `onSuccess` hook for transitions whose target is among
 * `values`) and `@s.onExit(values, options?)` (a `before` hook for transitions with a target whose
 * source is among them). The values are checked when the class is defined.
 */
export function stateHookDecorator<D>(state: StateSpec<any>, filter: 'enter' | 'exit', values: unknown, options: HookOptions | undefined): D {
  const label = `@${state.name}.${filter === 'enter' ? 'onEnter' : 'onExit'}()`;
  const list = Array.isArray(values) ? values : [values];
  return methodDecorator(label, (site) => {
    const where = `${label} on ${site.where}`;
    if (list.length === 0) throw new TypeError(`${where}: give a value or a non-empty array of values of ${state}.`);
    for (const v of list) checkValue(state, where, 'value', v);
    const hookFilter: HookFilter = { filter, values: list as StateValue[] };
    addHook(ownRecord(site.meta, state), filter === 'enter' ? 'success' : 'before', { method: site.name }, options, false, where, hookFilter);
    return undefined;
  }) as D;
}
