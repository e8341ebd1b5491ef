/**
 * Bookkeeping around units of work: which unit a call runs inside (so a persisted transition
 * called from a body joins it), one unit at a time per entity manager, and when a commit has been
 * sent to the database (after which a lost connection leaves the outcome unknown).
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { resolve } from 'node:path';
import type { EntityManager, Transaction } from '@mikro-orm/core';
import type { UnitOfWork } from '../persistence.ts';
import { SqlitePlatform } from '@mikro-orm/sql';

/** An open unit of work of this module, seen from the calls made inside it. */
export interface Frame {
  readonly em: EntityManager;
  /** The unit of work (the runtime's) this frame runs. */
  readonly unit: UnitOfWork;
  /** Makes sure the unit's transaction is open (it is closed between a failed body and its onError hooks). */
  ensureOpen(): Promise<void>;
}

export const frames = new AsyncLocalStorage<Frame>();

/** Per entity manager: the tail of the units queued on it (an entity manager holds one transaction at a time). */
const tails = new WeakMap<EntityManager, Promise<unknown>>();

export function exclusive<T>(em: EntityManager, fn: () => Promise<T>): Promise<T> {
  const previous = tails.get(em);
  const run = previous === undefined ? fn() : previous.then(fn, fn);
  const tail = run.then(noop, noop);
  tails.set(em, tail);
  void tail.then(() => {
    if (tails.get(em) === tail) tails.delete(em);
  });
  return run;
}

function noop(): void {}

/** Transactions whose COMMIT is being sent, and whether it was. */
const committing = new WeakMap<Transaction, { sent: boolean }>();

/** Transactions of callers' own that units committed inside of: who to tell how they ended. */
const outcomes = new WeakMap<Transaction, Array<(committed: boolean) => void>>();

/** Resolves `true` once the transaction `trx` (of the caller's own) commits, `false` if it rolls back. */
export function outcomeOf(trx: Transaction): Promise<boolean> {
  return new Promise((resolve) => {
    const list = outcomes.get(trx) ?? [];
    list.push(resolve);
    outcomes.set(trx, list);
  });
}

function settleOutcome(trx: unknown, committed: boolean): void {
  if (trx === undefined || trx === null) return;
  const list = outcomes.get(trx as Transaction);
  if (list === undefined) return;
  outcomes.delete(trx as Transaction);
  for (const resolve of list) resolve(committed);
}

/** Event managers we listen to. */
const watched = new WeakSet<object>();

/**
 * Listens, once per event manager, for the moment MikroORM sends COMMIT (after its final flush):
 * an error before it means nothing was committed; after it, the outcome may be unknown. And for
 * the end of callers' own transactions that units committed inside of.
 */
export function watchCommits(em: EntityManager): void {
  const events = em.getEventManager();
  if (watched.has(events)) return;
  watched.add(events);
  events.registerSubscriber({
    beforeTransactionCommit({ transaction }) {
      const watch = transaction === undefined ? undefined : committing.get(transaction as Transaction);
      if (watch !== undefined) watch.sent = true;
    },
    afterTransactionCommit({ transaction }) {
      settleOutcome(transaction, true);
    },
    afterTransactionRollback({ transaction }) {
      settleOutcome(transaction, false);
    },
  });
}

/** Starts watching `trx` for its COMMIT being sent; returns the flag to read afterwards. */
export function watchCommit(trx: Transaction): { sent: boolean } {
  const watch = { sent: false };
  committing.set(trx, watch);
  return watch;
}

/** Whether two entity managers write to the same SQLite database (one connection, or one file). */
export function sameSqliteDatabase(a: EntityManager, b: EntityManager): boolean {
  if (!(a.getPlatform() instanceof SqlitePlatform) || !(b.getPlatform() instanceof SqlitePlatform)) return false;
  if (a.getConnection('write') === b.getConnection('write')) return true;
  const fa = a.config.get('dbName');
  const fb = b.config.get('dbName');
  return typeof fa === 'string' && typeof fb === 'string' && fa !== ':memory:' && resolve(fa) === resolve(fb);
}
