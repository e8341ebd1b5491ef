/**
 * `State`: the descriptor of one state field. It declares the values, hands out the decorators
 * that define a flow class, and answers questions about flows (README, Guide: States, Transitions, Introspection).
 */

import { ANY, type TransitionDefinition } from './core/definition.ts';
import { type StateValue } from './core/errors.ts';
import type { StateSpec } from './core/state-spec.ts';
import {
  accessorDecorator,
  hookDecorator,
  inheritDecorator,
  stateHookDecorator,
  transitionDecorator,
  type DualMethodDecorator,
  type TransitionOptions,
} from './define/decorators.ts';
import { registerExternalHook, type AfterCommitOptions, type HookOptions } from './runtime/hooks.ts';
import { show } from './core/errors.ts';
import { readState, recordOf } from './runtime/access.ts';
import { available, can, hasPermission, transitionsOf, type AvailableOptions } from './read/introspection.ts';
import { waitForState, type WaitOptions } from './runtime/waiting.ts';

export interface StateOptions<V extends StateValue> {
  /** The value reported when the getter returns `undefined` or `null` (and the initial value of the private slot). */
  readonly default?: V;
  /** Declaration order is a total order: enables `rewind`, `waitForAtLeast` and skipped-state detection. */
  readonly ordered?: boolean;
  /** A name for messages, diagrams and the CLI (default: `"state"`). */
  readonly name?: string;
  /** Text for people, per value (diagrams, the CLI, your UI through `s.label(value)`); a value without one is shown as it is. */
  readonly labels?: { readonly [K in V]?: string };
}

/**
 * What every hook receives. `target` equals `source` for a transition without target; for a dynamic
 * target it is the computed value once computed (`before` and `onExit` hooks, which run earlier, see
 * the source).
 */
export interface HookEvent<V extends StateValue = StateValue, F = any> {
  readonly flow: F;
  readonly state: State<V>;
  /** The transition's method name. */
  readonly transition: string;
  readonly source: V;
  readonly target: V;
  /** The call's arguments; a `before` hook may change them before the body sees them. */
  args: unknown[];
  /** The user the call acts for (`actingAs(user, ...)`); `undefined` outside `actingAs`. */
  readonly user: unknown;
  /** `onSuccess`, `after`: what the body returned (resolved, for async bodies). */
  readonly result?: unknown;
  /** `onError`, `after` (on failure): what was thrown. */
  readonly error?: unknown;
  /** Durable `afterCommit` hooks: which run this is, from 1 (a failed run is retried). */
  readonly attempt?: number;
}

/**
 * A hook decorator: the method takes the event, whose `flow` is the decorated class. `N`: the
 * transition names given as `{ transitions }`, each of which the class must have as a method.
 */
export interface HookDecorator<V extends StateValue, N extends string = never> {
  <This extends HasMethods<N>, T extends (this: This, event: HookEvent<V, This>) => unknown>(value: T, context: ClassMethodDecoratorContext<This, T>): T | void;
  <This extends HasMethods<N>, T extends (this: This, event: HookEvent<V, This>) => unknown>(target: This, propertyKey: string | symbol, descriptor: TypedPropertyDescriptor<T>): TypedPropertyDescriptor<T> | void;
}

/** A class that has a method for each of the names `N` (anything when there are none). */
type HasMethods<N extends string> = [N] extends [never] ? unknown : { readonly [K in N]: (...args: any[]) => unknown };

/** The kinds `s.hook()` accepts; `'success'` and `'error'` are the older names of `'onSuccess'` and `'onError'`. */
export type HookKindName = 'before' | 'onSuccess' | 'onError' | 'after' | 'success' | 'error';

/**
 * TypeScript's `NoInfer` (5.4+), spelled so that TypeScript 5.0–5.3 read the published `.d.ts`
 * too: inference does not look inside a conditional type that is still deferred.
 */
type Uninferred<T> = [T][T extends any ? 0 : never];

/**
 * The methods a transition with conditions `(flow: F, ...args: A)` may decorate: those taking `A`
 * as a prefix of their parameters. Written as a method signature so that parameters compare
 * bivariantly, as TypeScript compares methods: a condition may declare `note?: string` for a
 * method's `note: string`, but not `n: number`.
 */
type TransitionMethod<F, A extends unknown[]> = { method(this: F, ...args: [...A, ...any[]]): unknown }['method'];

/** Method names of a flow: what `can`, `hasPermission` accept. */
export type MethodName<F> = { [K in keyof F]-?: F[K] extends (...args: any[]) => any ? K : never }[keyof F] & string;

type AnyClass<F> = abstract new (...args: any[]) => F;

/** What a TypeScript enum object looks like at the type level. */
export type EnumObject = { readonly [key: string]: StateValue };

/** The member values of an enum object; a numeric enum's reverse mapping (`E[0] === 'A'`) is left out. */
export type EnumValues<E extends EnumObject> = { [K in keyof E]: K extends string ? E[K] : never }[keyof E];

/** A UTF-16 surrogate that is not half of a pair (in `u` mode, pairs are one code point). */
const LONE_SURROGATE = /\p{Cs}/u;

/** The `labels` option, keyed by the declared values (object keys are strings: `1` is found under `'1'`). */
function labelsOf(values: readonly StateValue[], labels: Readonly<Record<string, unknown>> | undefined, name: string): Map<StateValue, string> {
  const out = new Map<StateValue, string>();
  if (labels === undefined) return out;
  if (labels === null || typeof labels !== 'object') throw new TypeError(`new State(): labels must be an object mapping values to text, e.g. { labels: { ${JSON.stringify(String(values[0]))}: 'Text' } }.`);
  for (const [key, text] of Object.entries(labels)) {
    const value = values.find((v) => v === key) ?? values.find((v) => String(v) === key);
    if (value === undefined) {
      throw new TypeError(`new State(): labels has ${JSON.stringify(key)}, which is not a value of State(${name}) (declared: ${values.map(show).join(', ')}).`);
    }
    if (typeof text !== 'string') throw new TypeError(`new State(): the label of ${show(value)} must be a string, got ${text === null ? 'null' : typeof text}.`);
    out.set(value, text);
  }
  return out;
}

/** Values of an enum object or of a literal array. Numeric enums' reverse mappings are left out. */
function valuesOf(values: object): StateValue[] {
  if (Array.isArray(values)) return [...values];
  const out: StateValue[] = [];
  for (const [key, value] of Object.entries(values)) {
    // A numeric enum maps both ways: E.A = 0 and E[0] = 'A'. Keep the forward entries.
    if (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(key) && (values as Record<string, unknown>)[value] === Number(key)) continue;
    out.push(value as StateValue);
  }
  return out;
}

/**
 * A state field: its values, its decorators, and questions about flows.
 *
 * @example
 * enum Stage { New = 'new', Review = 'review' }
 * const stage = new State(Stage, { default: Stage.New });
 * class ReviewFlow {
 *   constructor(readonly review: { stage?: Stage }) {}
 *   @stage.getter() getStage() { return this.review.stage; }
 *   @stage.setter() setStage(value: Stage) { this.review.stage = value; }
 *   @stage.transition({ source: Stage.New, target: Stage.Review }) submit() {}
 * }
 */
class StateDescriptor<V extends StateValue = StateValue> implements StateSpec<V> {
  /** A source that matches every state (the target included). */
  static readonly ANY: typeof ANY = ANY;

  /** The declared values, in declaration order. */
  readonly values: readonly V[];
  readonly default: V | undefined;
  readonly ordered: boolean;
  readonly name: string;
  /** Where a class's definitions for this State live in its metadata. @internal */
  readonly key: symbol;
  /** Where the value lives on a flow whose class declares no accessors. @internal */
  readonly slot: symbol;
  readonly #index: Map<StateValue, number>;
  readonly #labels: Map<StateValue, string>;

  constructor(values: readonly V[] | EnumObject, options: StateOptions<V> = {}) {
    const list = valuesOf(values);
    const name = options.name ?? 'state';
    if (list.length === 0) throw new TypeError(`new State(): no values given.`);
    for (const v of list) {
      if (typeof v !== 'string' && typeof v !== 'number') throw new TypeError(`new State(): ${String(v)} is not a string or number value.`);
      if (typeof v === 'number' && !Number.isFinite(v)) throw new TypeError(`new State(): ${v} is not a finite number.`);
      // A lone surrogate cannot be stored as text (databases and JSON replace it with U+FFFD), so
      // it would come back as another value.
      if (typeof v === 'string' && LONE_SURROGATE.test(v)) throw new TypeError(`new State(): ${JSON.stringify(v)} is not well-formed text (it holds a lone surrogate); state values must survive being stored.`);
    }
    this.#index = new Map(list.map((v, i) => [v, i]));
    if (this.#index.size !== list.length) {
      const twice = list.find((v, i) => list.indexOf(v) !== i);
      throw new TypeError(`new State(): ${JSON.stringify(twice)} is declared twice.`);
    }
    if (options.default !== undefined && !this.#index.has(options.default)) {
      throw new TypeError(`new State(): default ${JSON.stringify(options.default)} is not one of the values (${list.map((v) => JSON.stringify(v)).join(', ')}).`);
    }
    this.#labels = labelsOf(list, options.labels, name);
    this.values = Object.freeze(list) as readonly V[];
    this.default = options.default;
    this.ordered = options.ordered === true;
    this.name = name;
    this.key = Symbol(`transitional:${name}`);
    this.slot = Symbol(name);
  }

  /** Whether `value` is one of the declared values. */
  has(value: unknown): value is V {
    return this.#index.has(value as StateValue);
  }

  /** The position of `value` in the declaration order (-1 if not declared). */
  indexOf(value: V): number {
    return this.#index.get(value) ?? -1;
  }

  toString(): string {
    return `State(${this.name})`;
  }

  /**
   * The label of `value` (`labels` option), or the value as text when it has none.
   *
   * @example
   * const status = new State(['in_progress', 'done'] as const, { labels: { in_progress: 'In progress' } });
   * status.label('in_progress'); // 'In progress'
   * status.label('done');        // 'done'
   */
  label(value: V): string {
    if (!this.#index.has(value)) throw new TypeError(`${this}.label(${show(value)}): ${show(value)} is not a declared value.`);
    return this.#labels.get(value) ?? String(value);
  }

  // -------------------------------------------------------------------------------------------
  // Decorators

  /** Marks the method that reads the state from the host object. */
  getter(): DualMethodDecorator<(this: any) => V | null | undefined> {
    return accessorDecorator(this, 'getter');
  }

  /** Marks the method that writes the state to the host object. */
  setter(): DualMethodDecorator<(this: any, value: V) => unknown> {
    return accessorDecorator(this, 'setter');
  }

  /**
   * Makes the method a transition: the state moves from `source` to `target` before the body runs,
   * and back if it throws. Stack several on one method for several sources.
   *
   * @example
   * @stage.transition({ source: Stage.New, target: Stage.Review, label: 'Send to review' })
   * submit() {}
   */
  transition<F = any, A extends unknown[] = any[]>(options: TransitionOptions<V, F, A>): DualMethodDecorator<TransitionMethod<Uninferred<F>, A>, Uninferred<F>> {
    return transitionDecorator(this, options as TransitionOptions<V>);
  }

  /** On an overriding method: keep the inherited transition's definition unchanged. */
  inherit(): DualMethodDecorator<(this: any, ...args: any[]) => unknown> {
    return inheritDecorator(this);
  }

  /**
   * Runs before the state changes; may change `event.args`, or throw to abort with nothing changed.
   * `{ transitions: [...] }`: only for those transitions.
   */
  before<const N extends string = never>(options?: HookOptions<N>): HookDecorator<V, N> {
    return hookDecorator(this, 'before', options);
  }

  /** Runs after the body succeeded; a throw here rolls the transition back. */
  onSuccess<const N extends string = never>(options?: HookOptions<N>): HookDecorator<V, N> {
    return hookDecorator(this, 'success', options);
  }

  /** Runs after a failure was rolled back; a transition it calls starts from the rolled-back state. */
  onError<const N extends string = never>(options?: HookOptions<N>): HookDecorator<V, N> {
    return hookDecorator(this, 'error', options);
  }

  /** Runs last, whatever happened (like `finally`). */
  after<const N extends string = never>(options?: HookOptions<N>): HookDecorator<V, N> {
    return hookDecorator(this, 'after', options);
  }

  /**
   * Runs once the outermost call's work is durable: after the database commit for a persisted flow,
   * after the outermost call succeeded for an in-memory one; once per state change of the committed
   * chain, in their order; never for a call that failed. The call settles after these hooks ran; a
   * hook's error changes nothing (it is reported as an `AfterCommitError` process warning).
   * `{ durable: true }` (persisted flows): recorded in the committing transaction and run by a
   * worker instead, with retries (`event.attempt`).
   *
   * @example
   * @order.afterCommit({ transitions: ['pay'], durable: true })
   * async sendReceipt(event: HookEvent<OrderStage>) { await mailer.send(event.flow.order.email); }
   */
  afterCommit<const N extends string = never>(options?: AfterCommitOptions<N>): HookDecorator<V, N> {
    return hookDecorator(this, 'afterCommit', options);
  }

  /**
   * Runs after a call that entered one of `values` succeeded: an `onSuccess` hook (same place,
   * same order) for transitions whose target is among them, even when it equals the source. A
   * transition without target enters nothing.
   *
   * @example
   * @status.onEnter('resolved') notify(event: HookEvent<Status>) { this.mailer.send(this.ticket, event.transition); }
   */
  onEnter<const N extends string = never>(values: V | readonly V[], options?: HookOptions<N>): HookDecorator<V, N> {
    return stateHookDecorator(this, 'enter', values, options);
  }

  /**
   * Runs before the state leaves one of `values`: a `before` hook (same place, same order) for
   * transitions with a target whose source is among them. A transition without target leaves nothing.
   *
   * @example
   * @status.onExit('waiting') clearQuestion() { this.ticket.question = null; }
   */
  onExit<const N extends string = never>(values: V | readonly V[], options?: HookOptions<N>): HookDecorator<V, N> {
    return stateHookDecorator(this, 'exit', values, options);
  }

  /**
   * Registers a hook from outside the class; it applies to `flowClass` and its subclasses. Returns
   * a function that removes it.
   *
   * @example
   * const stop = stage.hook(ReviewFlow, 'onSuccess', (e) => metrics.count(e.transition), { transitions: ['publish'] });
   * stop();
   */
  hook<F extends object>(flowClass: AnyClass<F>, kind: HookKindName, fn: (event: HookEvent<V, F>) => unknown, options?: HookOptions<MethodName<F>>): () => void {
    return registerExternalHook(this, flowClass, kind, fn, options);
  }

  // -------------------------------------------------------------------------------------------
  // Questions

  /** The flow's current value (`default` when the getter gives `undefined`/`null`). */
  get(flow: object): V {
    return readState(flow as never, recordOf(flow, this), this) as V;
  }

  /** Every transition of the class for this State, inherited ones included. */
  transitions(flowClass: AnyClass<object>): TransitionDefinition<V>[] {
    return transitionsOf(this, flowClass) as TransitionDefinition<V>[];
  }

  /**
   * Whether `flow[name](...args)` would pass the source and condition checks now (the conditions
   * get `args`). Never throws because of user code: a condition that throws counts as failing.
   *
   * @example
   * stage.can(order, 'pay', { amount: 10 });
   */
  can<F extends object>(flow: F, name: MethodName<F>, ...args: unknown[]): boolean {
    return can(this, flow, name, args);
  }

  /**
   * The transitions that `can` run now, their conditions called with `args` (none by default).
   * With a `user` key (even `user: undefined`, an anonymous user), only those whose `permission`
   * allows that user; without one, permissions are not consulted. A condition or permission that
   * throws counts as refusing.
   *
   * @example
   * stage.available(order, { user, args: [payment] }).map((t) => t.label);
   */
  available<F extends object>(flow: F, options?: AvailableOptions): TransitionDefinition<V>[] {
    return available(this, flow, options) as TransitionDefinition<V>[];
  }

  /** Whether `user` may trigger `name` (a transition without `permission` allows everyone; one that throws refuses). */
  hasPermission<F extends object>(flow: F, name: MethodName<F>, user: unknown): boolean {
    return hasPermission(this, flow, name, user);
  }

  /**
   * Resolves when the flow enters `value` (at once if it is there). On an ordered State, rejects
   * with `StateSkipped` once a later value is entered.
   */
  waitFor(flow: object, value: V, options?: WaitOptions): Promise<V> {
    return waitForState(this, flow, value, false, options);
  }

  /** Ordered States: resolves once the state is `value` or later. */
  waitForAtLeast(flow: object, value: V, options?: WaitOptions): Promise<V> {
    return waitForState(this, flow, value, true, options);
  }
}

/** How `new State(...)` infers the value type, from a literal array or from an enum object. */
export interface StateConstructor {
  /** Values from literals: `new State(['draft', 'done'] as const)`, value type `'draft' | 'done'`. */
  new <const V extends StateValue>(values: readonly V[], options?: StateOptions<Uninferred<V>>): State<V>;
  /** Values from an enum: `new State(Stage)`, value type `Stage`. */
  new <const E extends EnumObject>(values: E, options?: StateOptions<Uninferred<EnumValues<E>>>): State<EnumValues<E>>;
  /** A source that matches every state (the target included). */
  readonly ANY: typeof ANY;
  readonly prototype: State<any>;
}

/**
 * A state field: its values, its decorators, and questions about flows.
 *
 * @example
 * enum Stage { New = 'new', Review = 'review' }
 * const stage = new State(Stage, { default: Stage.New });
 */
export type State<V extends StateValue = StateValue> = StateDescriptor<V>;
export const State = StateDescriptor as unknown as StateConstructor;
