/**
 * The MikroORM implementation of the `TransitionStore` seam: one database transaction per
 * outermost call, a compare-and-set of the state column, one history row per kept change.
 *
 * The order inside the transaction is chosen for concurrency:
 * 1. `UPDATE t SET state = :expected WHERE id = :id AND state = :expected` first. It checks that
 *    the row still holds the state this entity manager last read or wrote and, as a write, takes
 *    the row lock (PostgreSQL) or the write lock (SQLite) before the body runs: a concurrent
 *    transition on the same row waits here, then finds 0 rows and fails with `ConcurrentTransition`
 *    without running its body. Locking the state row first also gives every transition the same
 *    lock order, which keeps bodies that touch other rows from deadlocking on it.
 * 2. The call itself (checks, state change, body, hooks, chained calls). The body's queries and
 *    flushes use the flow's entity manager, which is bound to this transaction.
 * 3. The history rows (native inserts: they never enter the identity map), then `em.commit()`,
 *    which flushes the body's changes and the new state and commits.
 * Any failure rolls the transaction back and puts the entity (and the in-memory state) back as
 * they were; a transition with `onError` then commits just its error state and history row.
 */

import type { EntityManager, EntityName, Transaction } from '@mikro-orm/core';
import type { State } from '../state.ts';
import type { StateChange, TransitionStore, UnitOfWork } from '../persistence.ts';
import { show } from '../core/errors.ts';
import { ConcurrentTransition, TransitionNotPersisted } from './errors.ts';
import { fieldAfter, loaded, markLoaded, restore, snapshot, target, toDatabase, type Snapshot, type Target } from './entity.ts';
import { TransitionLog, type TransitionRecord } from './transition-log.ts';
import { exclusive, frames, sameSqliteDatabase, watchFlushes, type Frame } from './frames.ts';
import { compareAndSet, readState } from './compare-and-set.ts';

/** Where history rows go when they do not go to `TransitionLog`. */
export interface LogOptions<F, L extends object = any> {
  /** Your log entity. */
  readonly entity: EntityName<L>;
  /** Maps a record to the row to insert; without it the record is inserted as it is (the entity needs the `TransitionLog` properties). */
  readonly row?: (record: TransitionRecord, flow: F) => object;
}

export interface PersistOptions<F> {
  /** The entity manager the flow works in (a fork per request or job, not the global one). */
  readonly em: (flow: F) => EntityManager;
  /** The managed entity that holds the state. */
  readonly entity: (flow: F) => object;
  /** Who makes the change, stored in each history row (numbers are stored as text). */
  readonly actor?: (flow: F) => string | number | bigint | null | undefined;
  /**
   * The entity property that holds the state. Left out, it is the property the first state change
   * writes: the one scalar property that went from the change's source to its target (from NULL
   * when the source is the State's default), remembered per flow class and entity class. Until
   * then a call checks the state column after its body rather than before (the same
   * compare-and-set, taken later). When no single property changed that way, the call rejects
   * with a `TypeError` asking for `field`.
   */
  readonly field?: string;
  /** `false`: no history. An entity (or `{ entity, row }`): history rows go there instead of `TransitionLog`. */
  readonly log?: false | EntityName<any> | LogOptions<F>;
}

/** Errors to pass on unchanged from the write phase: ours, and those of user callbacks (`log.row`). */
const passOn = new WeakSet<object>();

function noop(): void {}

function mark<E>(error: E): E {
  if (typeof error === 'object' && error !== null) passOn.add(error);
  return error;
}

/** Errors a store phase rethrows as they are; any other is wrapped in `TransitionNotPersisted` ('database'). */
function ownError(error: unknown): boolean {
  return error instanceof ConcurrentTransition || error instanceof TransitionNotPersisted || (typeof error === 'object' && error !== null && passOn.has(error));
}

function isLogOptions<F>(log: unknown): log is LogOptions<F> {
  return typeof log === 'object' && log !== null && Object.getPrototypeOf(log) === Object.prototype && 'entity' in log;
}

function text(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** The persistence and undo state of one unit, shared by its phases. */
interface Run {
  readonly em: EntityManager;
  readonly unit: UnitOfWork;
  readonly t: Target;
  readonly snap: Snapshot;
  /** The transaction the flow's entity manager was in before (a user's own): ours nests in it as a savepoint. */
  readonly outer: Transaction | undefined;
  readonly persisting: ReadonlySet<object>;
  readonly removing: ReadonlySet<object>;
  readonly frame: Frame;
  readonly actor: string | null;
  field: string | undefined;
  /** The state value the row must hold (what this entity manager last read or wrote). */
  expected: unknown;
}

export class MikroOrmTransitionStore<F extends object> implements TransitionStore {
  readonly #state: State<any>;
  readonly #flowName: string;
  readonly #options: PersistOptions<F>;
  readonly #log: LogOptions<F> | undefined;
  /** The state property per entity class, once known. */
  readonly #fields = new Map<unknown, string>();

  constructor(state: State<any>, flowClass: abstract new (...args: any[]) => F, options: PersistOptions<F>) {
    if (options === null || typeof options !== 'object') throw new TypeError(`persistTransitions(${state}, ${flowClass.name}, options): options { em, entity } are required.`);
    if (typeof options.em !== 'function') throw new TypeError(`persistTransitions(${state}, ${flowClass.name}, ...): options.em must be a function (flow) => EntityManager.`);
    if (typeof options.entity !== 'function') throw new TypeError(`persistTransitions(${state}, ${flowClass.name}, ...): options.entity must be a function (flow) => the managed entity.`);
    if (options.actor !== undefined && typeof options.actor !== 'function') throw new TypeError(`persistTransitions(${state}, ${flowClass.name}, ...): options.actor must be a function (flow) => who.`);
    if (options.field !== undefined && (typeof options.field !== 'string' || options.field === '')) throw new TypeError(`persistTransitions(${state}, ${flowClass.name}, ...): options.field must be a property name.`);
    this.#state = state;
    this.#flowName = flowClass.name;
    this.#options = options;
    const log = options.log;
    this.#log = log === false ? undefined : log === undefined ? { entity: TransitionLog } : isLogOptions<F>(log) ? log : { entity: log };
  }

  async run(unit: UnitOfWork, call: () => Promise<unknown>): Promise<unknown> {
    const flow = unit.flow as F;
    const given = this.#options.em(flow) as EntityManager | undefined;
    if (given === null || typeof given !== 'object' || typeof given.getContext !== 'function') {
      throw new TypeError(`${this.#flowName}.${unit.transition}(): options.em returned ${String(given)}, not a MikroORM EntityManager.`);
    }
    const em = given.getContext(false);
    if (em.global && !em.config.get('allowGlobalContext')) {
      throw new TypeError(`${this.#flowName}.${unit.transition}(): options.em returned MikroORM's global EntityManager; give each flow a fork (orm.em.fork()) or use RequestContext.`);
    }
    const parent = frames.getStore();
    if (parent?.open === true) {
      // Called from inside another persisted transition's body.
      if (parent.em === em) return this.#unit(em, unit, call, parent);
      if (sameSqliteDatabase(em, parent.em)) {
        throw new TransitionNotPersisted(this.#flowName, undefined, unit.transition, 'database',
          `${this.#flowName}.${unit.transition}() was called inside another persisted transition, on another entity manager of the same SQLite database: ` +
            `SQLite lets one transaction write at a time and the outer one holds it, so this would wait forever. Use the outer flow's entity manager for the inner flow.`);
      }
    }
    return exclusive(em, () => this.#unit(em, unit, call, undefined));
  }

  async #unit(em: EntityManager, unit: UnitOfWork, call: () => Promise<unknown>, parent: Frame | undefined): Promise<unknown> {
    const flow = unit.flow as F;
    const t = target(em, this.#options.entity(flow), this.#flowName, unit.transition);
    const uow = em.getUnitOfWork();
    watchFlushes(em);
    const actor = this.#options.actor === undefined ? null : text(this.#options.actor(flow));
    const field = this.#knownField(t);
    const run: Run = {
      em,
      unit,
      t,
      snap: snapshot(t),
      outer: em.getTransactionContext(),
      persisting: new Set(uow.getPersistStack()),
      removing: new Set(uow.getRemoveStack()),
      frame: { em, open: true, undo: [], created: [] },
      actor,
      field,
      expected: field === undefined ? undefined : loaded(t, field),
    };

    try {
      await em.begin(run.outer === undefined ? {} : { ctx: run.outer });
    } catch (error) {
      this.#release(run);
      throw this.#databaseError(run, error, 'could not start a transaction');
    }

    // 1. Compare-and-lock, before anything changes.
    if (run.field !== undefined) {
      try {
        await this.#compareAndLock(run, run.field, run.expected);
      } catch (error) {
        await this.#rollback(run);
        throw error;
      }
    }

    // 2. The call.
    let result: unknown;
    try {
      result = await frames.run(run.frame, call);
    } catch (error) {
      run.frame.open = false;
      await this.#rollback(run);
      return this.#failed(run, flow, error);
    }
    run.frame.open = false;

    // 3. Write and commit.
    try {
      const changes = this.#changes(unit);
      if (run.field === undefined) {
        run.field = this.#fieldAfter(run, changes);
        run.expected = run.snap.original?.[run.field] ?? null;
        await this.#compareAndLock(run, run.field, run.expected);
      }
      if (changes.length !== 0) await this.#appendLog(run, run.field, changes, flow);
      await em.commit();
      if (run.outer !== undefined) em.setTransactionContext(run.outer);
    } catch (error) {
      await this.#rollback(run);
      unit.restore();
      this.#undo(run);
      throw ownError(error) ? error : this.#databaseError(run, error, 'could not write the changes');
    }
    if (parent !== undefined) {
      parent.undo.push(() => restore(t, run.snap));
      parent.created.push(...run.frame.created);
    }
    return result;
  }

  /** The call failed: nothing is written, except the error state of a transition with `onError`. */
  async #failed(run: Run, flow: F, error: unknown): Promise<never> {
    const changes = this.#changes(run.unit);
    if (changes.length === 0) {
      this.#undo(run);
      throw error;
    }
    // `onError`: the runtime left the state at the error value; keep it, undo the rest of the body.
    let field: string;
    try {
      field = run.field ?? this.#fieldAfter(run, changes);
    } catch (inference) {
      run.unit.restore();
      this.#undo(run);
      throw inference;
    }
    this.#undo(run, field);
    const expected = run.snap.original?.[field] ?? null;
    const final = changes[changes.length - 1]!.target;
    const connection = run.em.getConnection('write');
    let trx: Transaction | undefined;
    try {
      trx = await connection.begin(run.outer === undefined ? {} : { ctx: run.outer });
      const stored = toDatabase(run.em, run.t, field, final);
      const rows = await compareAndSet(run.em, run.t, field, expected, stored, trx);
      if (rows !== 1) await this.#conflict(run, field, expected, trx, error);
      await this.#appendLog(run, field, changes, flow, trx);
      await connection.commit(trx);
      trx = undefined;
      markLoaded(run.t, field, stored);
    } catch (persisting) {
      if (trx !== undefined) await connection.rollback(trx).catch(noop);
      run.unit.restore();
      restore(run.t, run.snap);
      throw ownError(persisting) ? persisting : this.#databaseError(run, persisting, `could not write the error state ${show(final)}`);
    }
    throw error;
  }

  /** The changes of this store's State, in order. */
  #changes(unit: UnitOfWork): StateChange[] {
    const all = unit.changes;
    let mine = true;
    for (const c of all) if (c.state !== this.#state) mine = false;
    return mine ? (all as StateChange[]) : all.filter((c) => c.state === this.#state);
  }

  /** The state property, when given or already found for this entity class. */
  #knownField(t: Target): string | undefined {
    const known = this.#fields.get(t.meta.class);
    if (known !== undefined) return known;
    const given = this.#options.field;
    if (given === undefined) return undefined;
    if (t.meta.properties[given] === undefined) {
      throw new TypeError(`persistTransitions(${this.#state}, ${this.#flowName}, { field: '${given}' }): ${t.name} has no property '${given}' (it has ${Object.keys(t.meta.properties).join(', ')}).`);
    }
    this.#fields.set(t.meta.class, given);
    return given;
  }

  #fieldAfter(run: Run, changes: readonly StateChange[]): string {
    const first = changes[0];
    const last = changes[changes.length - 1];
    const found = first === undefined || last === undefined ? undefined : fieldAfter(run.t, run.snap, first.source, last.target, this.#state.default);
    if (found === undefined) {
      throw mark(new TypeError(
        `${this.#flowName}.${run.unit.transition}(): cannot tell which property of ${run.t.name} holds ${this.#state}: ` +
          `not exactly one property went from ${show(first?.source)} to ${show(last?.target)} with this call. ` +
          `Pass it: persistTransitions(${this.#state.name}, ${this.#flowName}, { field: 'yourProperty', ... }). Nothing was written.`,
      ));
    }
    this.#fields.set(run.t.meta.class, found);
    return found;
  }

  /** `UPDATE ... SET field = expected WHERE id = ? AND field = expected`: checks and locks the row. */
  async #compareAndLock(run: Run, field: string, expected: unknown): Promise<void> {
    let rows: number;
    try {
      rows = await compareAndSet(run.em, run.t, field, expected, expected, run.em.getTransactionContext());
    } catch (error) {
      throw this.#databaseError(run, error, 'could not check the state in the database');
    }
    if (rows !== 1) await this.#conflict(run, field, expected, undefined, undefined);
  }

  /** The compare-and-set found no row: throws `ConcurrentTransition`, or `'missing'` when the row is gone. */
  async #conflict(run: Run, field: string, expected: unknown, ctx: Transaction | undefined, cause: unknown): Promise<never> {
    let row: Record<string, unknown> | null;
    try {
      row = await readState(run.em, run.t, field, ctx);
    } catch (error) {
      throw this.#databaseError(run, error, 'could not read the state in the database');
    }
    if (row === null) {
      throw new TransitionNotPersisted(run.t.name, run.t.id, run.unit.transition, 'missing',
        `${run.t.name} ${show(run.t.id)}: ${run.unit.transition}() found no row: it was deleted by another entity manager or process. Nothing was written.`,
        cause === undefined ? undefined : { cause });
    }
    throw new ConcurrentTransition(run.t.name, run.t.id, field, run.unit.transition, expected, row[field] ?? null, cause === undefined ? undefined : { cause });
  }

  async #appendLog(run: Run, field: string, changes: readonly StateChange[], flow: F, ctx?: Transaction): Promise<void> {
    const log = this.#log;
    if (log === undefined) return;
    const createdAt = new Date();
    const rows = changes.map((c): object => {
      const record: TransitionRecord = {
        entity: run.t.name,
        entityId: run.t.key,
        field,
        transition: c.transition,
        source: String(c.source),
        target: String(c.target),
        actor: run.actor,
        createdAt,
      };
      if (log.row === undefined) return record;
      try {
        return log.row(record, flow);
      } catch (error) {
        throw mark(error);
      }
    });
    const options = ctx === undefined ? {} : { ctx };
    if (rows.length === 1) await run.em.insert(log.entity, rows[0] as never, options);
    else await run.em.insertMany(log.entity, rows as never, options);
  }

  /** Rolls our transaction (or savepoint) back and gives the entity manager its previous transaction back. Never throws. */
  async #rollback(run: Run): Promise<void> {
    const { em, outer } = run;
    try {
      if (em.getTransactionContext() !== undefined && em.getTransactionContext() !== outer) await em.rollback();
    } catch {
      // The connection is gone or the transaction already ended: nothing was committed either way.
    }
    this.#release(run);
  }

  #release(run: Run): void {
    if (run.outer === undefined) run.em.resetTransactionContext();
    else run.em.setTransactionContext(run.outer);
  }

  /**
   * Puts back what the call did in memory: nested units' entities, the entity's properties (all
   * but `keep`), the entities it inserted (forgotten: the rollback removed them) and those it
   * scheduled for persisting or removal. Other entities the body changed keep their values:
   * MikroORM cannot tell those changes from ones made before the call.
   */
  #undo(run: Run, keep?: string): void {
    for (const undo of run.frame.undo.reverse()) undo();
    restore(run.t, run.snap, keep);
    const uow = run.em.getUnitOfWork();
    for (const entity of run.frame.created) uow.unsetIdentity(entity);
    for (const entity of [...uow.getPersistStack()]) if (!run.persisting.has(entity)) uow.unsetIdentity(entity);
    for (const entity of [...uow.getRemoveStack()]) if (!run.removing.has(entity)) uow.getRemoveStack().delete(entity);
    for (const entity of run.persisting) uow.getPersistStack().add(entity);
    for (const entity of run.removing) uow.getRemoveStack().add(entity);
  }

  #databaseError(run: Run, error: unknown, what: string): TransitionNotPersisted {
    const message = error instanceof Error ? error.message : String(error);
    const state = run.field === undefined ? '' : `; the in-memory ${run.field} is back to ${show(run.expected)}`;
    return new TransitionNotPersisted(run.t.name, run.t.id, run.unit.transition, 'database',
      `${run.t.name} ${show(run.t.id)}: ${run.unit.transition}() was not persisted, ${what}: ${message}. The transaction was rolled back: nothing was written${state}.`,
      { cause: error });
  }
}
