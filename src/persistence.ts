/**
 * The seam between transitions and storage (README, Persisting with MikroORM, its last paragraph).
 *
 * A `TransitionStore` wraps every outermost call on a flow class in a unit of work: it starts
 * whatever its storage calls a transaction, lets the call run, then makes the result durable with
 * a compare-and-set of the state and one history record per kept change, or fails and undoes.
 * `transitional/mikro-orm` is one implementation; another ORM needs one file like it.
 *
 * While a unit of work runs, the flow is busy (outside calls queue behind it) and waiters are
 * held back, so nobody sees a state the store might still refuse.
 */

import type { State } from './state.ts';
import { ownMetadata } from './core/metadata.ts';
import { bumpHookVersion, ownRecord, recordChain } from './core/definition.ts';
import type { StateValue } from './core/errors.ts';
import { planOf, transitionsOf } from './read/introspection.ts';

/**
 * One state change kept by a call: what a store persists. (The runtime journals the same record,
 * `runtime/flow-state.ts`, naming the State by its internal type.)
 */
export interface StateChange {
  readonly state: State<any>;
  /** The method name of the transition that made it. */
  readonly transition: string;
  readonly source: StateValue;
  readonly target: StateValue;
}

/** One outermost transition call, as a store sees it. */
export interface UnitOfWork {
  readonly flow: object;
  /** The method name of the outermost transition. */
  readonly transition: string;
  /**
   * The user the call acts for: the `user` of the `actingAs` it was made in, `undefined` outside
   * one (`persistTransitions`' `actor(flow, user)` receives it).
   */
  readonly user: unknown;
  /**
   * The state changes the call made and kept so far, in order: one per transition of a chain
   * (rolled-back ones are gone; an `onError` move is there, and so are the transitions that
   * `onError` hooks called). Complete once `call()` has settled.
   */
  readonly changes: readonly StateChange[];
  /**
   * Set once the call has settled, when it failed in a way that must leave no trace at all: an
   * `after` hook threw (its error replaced the outcome), or a rollback could not write a state
   * back (a setter threw). The store then writes nothing, not even an `onError` move, and puts
   * everything back as it was before the call (`restore()` for the states).
   */
  readonly undoAll: boolean;
  /**
   * Writes back, through the setters, the value each changed State had before this unit, and
   * forgets the unit's changes. Best effort: a setter that throws is skipped (the store restores
   * its own copy of the storage). For a store whose commit failed, or for `undoAll`.
   */
  restore(): void;
  /**
   * The durable `afterCommit` hooks the unit's kept changes call for, by method name, once per
   * (change, hook): what a store records in the committing transaction for a worker to run.
   */
  readonly durableHooks: ReadonlyArray<{ readonly change: StateChange; readonly hook: string }>;
  /**
   * Called by a store when this unit commits inside another one (a savepoint of its
   * transaction): its afterCommit hooks then run once `outer` commits, and never if it fails.
   * Or with the outcome of a transaction of the caller's own (`true`: committed).
   */
  nestIn(outer: UnitOfWork | PromiseLike<boolean>): void;
}

export interface TransitionStore {
  /**
   * Runs `call` (the transition: checks, state changes, body, hooks, chained calls) inside a unit
   * of work and commits what it kept. Resolve with `call`'s result, or reject: with `call`'s error
   * (after persisting what stands of a failed call: its `onError` move and the transitions its
   * `onError` hooks called), or with the store's own error after putting the flow's in-memory
   * state back (`unit.restore()`).
   */
  run(unit: UnitOfWork, call: () => Promise<unknown>): Promise<unknown>;
  /**
   * Optional. The outermost call failed and has just rolled its state back in memory (to its
   * source, or to its `onError` value); its `onError` hooks run next, and the transitions they
   * call stand. Undo everything else the call did (its body's writes, in the database and in
   * memory) so that only what stands from here on is committed. The call waits for the returned
   * promise. Must not throw: a store that cannot undo marks its unit failed and reports at the end.
   */
  rolledBack?(unit: UnitOfWork): void | Promise<void>;
}

/**
 * Routes every outermost call of `flowClass` (and its subclasses) that changes `state` through
 * `store`. From then on such calls always return a promise, so every transition method of the
 * class for `state` (inherited ones included) must be declared `async`: a `TypeError` names those
 * that are not. A subclass defined later that adds a method not declared `async` fails the same
 * way when it is defined.
 *
 * @example
 * persistWith(stage, TicketFlow, myStore);
 */
export function persistWith<V extends StateValue>(state: State<V>, flowClass: abstract new (...args: any[]) => object, store: TransitionStore): void {
  if (typeof flowClass !== 'function') throw new TypeError(`persistWith(${state}, ...): the second argument must be a flow class.`);
  if (!store || typeof store.run !== 'function') throw new TypeError(`persistWith(${state}, ${flowClass.name}, ...): the store must have a run(unit, call) method.`);
  const notAsync = [...new Set(transitionsOf(state, flowClass).map((t) => t.name))].filter((name) => planOf(flowClass.prototype, name)?.declaredAsync === false);
  if (notAsync.length !== 0) {
    const list = notAsync.map((name) => `${name}()`).join(', ');
    throw new TypeError(
      `${flowClass.name} cannot be persisted for ${state}: a persisted transition always returns a promise, but ${list} ${notAsync.length === 1 ? 'is' : 'are'} not declared async. Declare ${notAsync.length === 1 ? 'it' : 'them'} async (async ${notAsync[0]}(...) { ... }) so that TypeScript types the calls as promises.`,
    );
  }
  const rec = ownRecord(ownMetadata(flowClass), state);
  if (rec.ownPersistence !== undefined && rec.ownPersistence !== store) {
    throw new TypeError(`persistWith(${state}, ${flowClass.name}, ...): ${flowClass.name} is already persisted for ${state}.`);
  }
  rec.ownPersistence = store;
  bumpHookVersion();
}

/**
 * The store that persists `flowClass`'s transitions on `state` (its own, or the nearest
 * ancestor's), or `undefined` for an in-memory flow class.
 *
 * @example
 * const store = persistenceOf(stage, TicketFlow);   // the MikroOrmTransitionStore persistTransitions made
 */
export function persistenceOf<V extends StateValue>(state: State<V>, flowClass: abstract new (...args: any[]) => object): TransitionStore | undefined {
  const chain = recordChain(flowClass, state);
  for (let i = chain.length - 1; i >= 0; i--) {
    const store = chain[i]!.ownPersistence;
    if (store !== undefined) return store as TransitionStore;
  }
  return undefined;
}
