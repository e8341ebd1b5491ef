/** The errors a persisted transition rejects with, besides the transition's own. */

import { show } from '../core/errors.ts';

/**
 * Another entity manager or process changed the state first: the state column no longer holds the
 * value this entity manager last read or wrote. Nothing of the transition was written and the
 * in-memory state is back to `expected`. Reload the entity (`em.refresh(entity)`) and decide again.
 *
 * @example
 * try { await flow.assign('ann'); } catch (e) { if (e instanceof ConcurrentTransition) await em.refresh(ticket); }
 */
export class ConcurrentTransition extends Error {
  override name = 'ConcurrentTransition';
  constructor(
    /** The entity name (`Ticket`). */
    readonly entity: string,
    /** The entity's primary key (an array for a composite key). */
    readonly id: unknown,
    /** The property that holds the state. */
    readonly field: string,
    /** The method name of the outermost transition. */
    readonly transition: string,
    /** The value this entity manager last read or wrote (`null` for a NULL column). */
    readonly expected: unknown,
    /** The value the database holds now. */
    readonly actual: unknown,
    options?: { cause?: unknown },
    /**
     * Set when the state matched but the entity's version property did not: the row was changed
     * (and maybe changed back, A → B → A) since this entity manager last read or wrote it.
     */
    readonly version?: { readonly property: string; readonly expected: unknown; readonly actual: unknown },
  ) {
    const what = version === undefined
      ? `expected ${field} ${show(expected)} but the database has ${show(actual)}`
      : `expected ${version.property} ${show(version.expected)} but the database has ${show(version.actual)} (${field} is ${show(actual)} in both)`;
    super(
      `${entity} ${show(id)}: ${transition}() ${what}: ` +
        `another entity manager or process changed it first. Nothing was written and the in-memory state is back to ${show(expected)}; ` +
        `reload the entity (em.refresh) and try again.`,
      options,
    );
  }
}

/**
 * Why a persisted transition could not be written:
 * - `'unmanaged'`: the entity is not in the flow's entity manager (never flushed, loaded by another
 *   entity manager, detached by `em.clear()`, or deleted and flushed);
 * - `'removed'`: the entity is scheduled for removal (`em.remove`) in that entity manager;
 * - `'missing'`: its row no longer exists in the database (deleted by someone else);
 * - `'database'`: the database refused or failed (a constraint, a lost connection, a lock that could
 *   not be had in time...): see `cause`. Nothing was written.
 * - `'unknown-outcome'`: the connection was lost after COMMIT was sent: the transition may have
 *   been committed. The entity is back to what it was in memory and is re-read from the database
 *   by its next transition.
 */
export type NotPersistedReason = 'unmanaged' | 'removed' | 'missing' | 'database' | 'unknown-outcome';

/**
 * A persisted transition could not be written. Nothing was written (the database transaction was
 * rolled back) and the entity's in-memory state and the properties the body changed are back to
 * what they were before the call, which is what the database holds.
 */
export class TransitionNotPersisted extends Error {
  override name = 'TransitionNotPersisted';
  constructor(
    /** The entity name (`Ticket`), or the flow class name when there is no entity to name. */
    readonly entity: string,
    /** The entity's primary key, when it has one. */
    readonly id: unknown,
    /** The method name of the outermost transition. */
    readonly transition: string,
    readonly reason: NotPersistedReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
