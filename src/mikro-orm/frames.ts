/**
 * Bookkeeping around units of work: which unit a call runs inside (so a persisted transition
 * called from a body joins it), one unit at a time per entity manager, and the entities a unit's
 * flushes insert.
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { resolve } from 'node:path';
import { ChangeSetType, type EntityManager } from '@mikro-orm/core';
import { SqlitePlatform } from '@mikro-orm/sql';

/** An open unit of work of this module, seen from the calls made inside its body. */
export interface Frame {
  readonly em: EntityManager;
  open: boolean;
  /** Undo the in-memory effects of nested units that committed into this one, should it fail. */
  readonly undo: Array<() => void>;
  /** Entities inserted by flushes inside this unit: not in the database if it fails. */
  readonly created: object[];
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

/** Event managers we listen to. */
const watched = new WeakSet<object>();

/**
 * Notes the entities a flush inside a unit inserts, so that a unit that fails can forget them
 * (its transaction is rolled back, they are not in the database). One subscriber per event manager,
 * idle outside units.
 */
export function watchFlushes(em: EntityManager): void {
  const events = em.getEventManager();
  if (watched.has(events)) return;
  watched.add(events);
  events.registerSubscriber({
    afterFlush({ uow }) {
      const frame = frames.getStore();
      if (frame?.open !== true) return;
      for (const cs of uow.getChangeSets()) if (cs.type === ChangeSetType.CREATE) frame.created.push(cs.entity);
    },
  });
}

/** Whether two entity managers write to the same SQLite database (one connection, or one file). */
export function sameSqliteDatabase(a: EntityManager, b: EntityManager): boolean {
  if (!(a.getPlatform() instanceof SqlitePlatform) || !(b.getPlatform() instanceof SqlitePlatform)) return false;
  if (a.getConnection('write') === b.getConnection('write')) return true;
  const fa = a.config.get('dbName');
  const fb = b.config.get('dbName');
  return typeof fa === 'string' && typeof fb === 'string' && fa !== ':memory:' && resolve(fa) === resolve(fb);
}

