/**
 * transitional/mikro-orm: persisted flows over MikroORM entities (README, Persisting with MikroORM).
 *
 * Every outermost transition call on a persisted flow is one database transaction: the body's
 * entity changes, a compare-and-set of the state column, and one history row per state change.
 * Built on the `TransitionStore` seam that `transitional` exports (`persistWith`).
 */

import { persistWith, persistenceOf } from '../persistence.ts';
import type { State } from '../state.ts';
import type { StateValue } from '../core/errors.ts';
import { MikroOrmTransitionStore, type PersistOptions } from './store.ts';
import { declareOptions } from './declared.ts';

export { MikroOrmTransitionStore, type PersistOptions, type LogOptions } from './store.ts';
export { ConcurrentTransition, TransitionNotPersisted, type NotPersistedReason } from './errors.ts';
export { TransitionLog, history, type TransitionRecord } from './transition-log.ts';
export { WalSqliteDialect, sqliteOptions, type SqliteFileOptions } from './sqlite.ts';

/**
 * Persists every outermost call of `flowClass`'s transitions on `state` (subclasses included):
 * one database transaction each, concurrency-safe, with history. From then on those calls always
 * return a promise; every error, `TransitionNotAllowed` included, arrives as a rejection.
 *
 * @example
 * persistTransitions(stage, TicketFlow, {
 *   em: (flow) => flow.em,
 *   entity: (flow) => flow.ticket,
 *   actor: (flow) => flow.user?.name,
 * });
 * await new TicketFlow(ticket, em).assign('ann');
 */
export function persistTransitions<V extends StateValue, F extends object>(
  state: State<V>,
  flowClass: abstract new (...args: any[]) => F,
  options: PersistOptions<F>,
): MikroOrmTransitionStore<F> {
  const store = new MikroOrmTransitionStore(state, flowClass, options);
  persistWith(state, flowClass, store);
  declareOptions(store, options);
  return store;
}

/**
 * The store `persistTransitions` made for `flowClass` (or the nearest ancestor) and `state`, or
 * `undefined` when that class is not persisted with MikroORM.
 *
 * @example
 * const ticket = await em.findOneOrFail(Ticket, 42);
 * const flow = persistedWith(stage, TicketFlow)!.wrap(ticket, em);
 */
export function persistedWith<V extends StateValue, F extends object>(state: State<V>, flowClass: abstract new (...args: any[]) => F): MikroOrmTransitionStore<F> | undefined {
  const store = persistenceOf(state, flowClass);
  return store instanceof MikroOrmTransitionStore ? (store as MikroOrmTransitionStore<F>) : undefined;
}
