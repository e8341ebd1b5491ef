/**
 * The MikroORM implementation of the `TransitionStore` seam: one database transaction per
 * outermost call, all or nothing, safe under concurrency and faults.
 *
 * A unit of work, in order:
 * 1. Copy what the call may change in memory (memory.ts): every managed entity of the entity
 *    manager, so that a failure can put all of it back.
 * 2. `BEGIN`, then lock the flow's row and read its state (and version) in one statement
 *    (row-lock.ts), waiting at most `lockTimeout`. The row must hold the state (and version) this
 *    entity manager last read or wrote, else `ConcurrentTransition` before anything runs: a
 *    concurrent transition on the same row waits for the lock, then finds the state moved. Locking
 *    the state row first also gives every transition the same lock order.
 * 3. The call itself (checks, state change, body, hooks, chained calls). The body's queries and
 *    flushes run in this transaction. If the call fails, the runtime rolls its state back and
 *    tells us (`rolledBack`) before its `onError` hooks run: we roll the transaction back and put
 *    memory back, keeping only the state the runtime decided; what happens from there (the
 *    `onError` move, transitions the hooks call) stands and is written in a new transaction.
 * 4. History rows (native inserts), `em.flush()` and `COMMIT`. A failure before COMMIT was sent
 *    writes nothing; a lost connection after it leaves the outcome unknown
 *    (`TransitionNotPersisted`, `reason: 'unknown-outcome'`), and the entity is re-read by its
 *    next call.
 * Any failure that keeps nothing rolls back and puts every entity back as it was before the call.
 */

import { ReferenceKind, type EntityManager, type EntityName, type Transaction } from '@mikro-orm/core';
import type { State } from '../state.ts';
import type { StateChange, TransitionStore, UnitOfWork } from '../persistence.ts';
import { show } from '../core/errors.ts';
import { ConcurrentTransition, TransitionNotPersisted } from './errors.ts';
import { fieldAfter, loaded, rowSnapshot, target, type Target } from './entity.ts';
import { TransitionLog, type TransitionRecord } from './transition-log.ts';
import { exclusive, frames, outcomeOf, sameSqliteDatabase, watchCommit, watchCommits, type Frame } from './frames.ts';
import { lockRow, sameStored } from './row-lock.ts';
import { originalBefore, restoreMemory, snapshotMemory, valuesBefore, type MemorySnapshot } from './memory.ts';
import { commitCertainlyFailed, guardConnections } from './connections.ts';
import { flowKey, queueFor, type Job } from './jobs.ts';
import { timerChecks, TimerOutdated } from './worker.ts';
import { ANY } from '../core/definition.ts';
import { workerNeeds } from '../runtime/hooks.ts';
import type { StateValue } from '../core/errors.ts';

/** What a flow class leaves for a worker when a call commits: its timers, and whether it has durable hooks. */
interface WorkNeeds {
  readonly timers: ReadonlyArray<{ readonly name: string; readonly sources: readonly StateValue[] | typeof ANY; readonly after: number }>;
  /** It has timers or durable hooks. */
  readonly worker: boolean;
}

/** Where history rows go when they do not go to `TransitionLog`. */
export interface LogOptions<F, L extends object = any> {
  /** Your log entity. */
  readonly entity: EntityName<L>;
  /** Maps a record to the row to insert; without it the record is inserted as it is (the entity needs the `TransitionLog` properties). */
  readonly row?: (record: TransitionRecord, flow: F) => object;
}

/** `M` as given, not inferred from here: the entity manager type comes from `em`'s return type. */
type Uninferred<T> = [T][T extends any ? 0 : never];

export interface PersistOptions<F, M extends EntityManager = EntityManager> {
  /** The entity manager the flow works in (a fork per request or job, not the global one). */
  readonly em: (flow: F) => M;
  /** The managed entity that holds the state. */
  readonly entity: (flow: F) => object;
  /**
   * How to wrap a freshly loaded entity in a flow, in a given entity manager: what a worker (timers,
   * durable `afterCommit` hooks) and the admin view do. Required by those features only.
   *
   * @example
   * flow: (ticket, em) => new TicketFlow(ticket, em)
   */
  readonly flow?: (entity: any, em: Uninferred<M>) => F;
  /**
   * Who makes the change, stored in each history row (numbers are stored as text). `user` is the
   * user the call acts for (`actingAs(user, ...)`), `undefined` outside one.
   */
  readonly actor?: (flow: F, user: any) => string | number | bigint | null | undefined;
  /**
   * The entity property that holds the state. Left out, it is the property the first state change
   * writes: the one scalar property that went from the change's source to its target (from NULL
   * when the source is the State's default), remembered per flow class and entity class. Until
   * then a call checks the state column after its body rather than before (the same
   * check, taken later). When no single property changed that way, the call rejects with a
   * `TypeError` asking for `field`.
   */
  readonly field?: string;
  /** `false`: no history. An entity (or `{ entity, row }`): history rows go there instead of `TransitionLog`. */
  readonly log?: false | EntityName<any> | LogOptions<F>;
  /**
   * How long a call waits for the row lock another transaction holds, in ms (default 5000), before
   * failing with `TransitionNotPersisted` (`reason: 'database'`). On SQLite the dialect's busy
   * timeout applies instead (`sqliteOptions(file, { timeout })`).
   */
  readonly lockTimeout?: number;
}

/** Errors to pass on unchanged from the write phase: ours, and those of user callbacks (`log.row`). */
const passOn = new WeakSet<object>();

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

/**
 * Entities whose last commit had an unknown outcome: their next call re-reads them (under the
 * row lock) instead of trusting memory.
 */
const stale = new WeakSet<object>();

/** One unit of work in progress. */
interface Run {
  readonly em: EntityManager;
  readonly unit: UnitOfWork;
  readonly t: Target;
  /** Memory as it was when the unit began. */
  readonly memory: MemorySnapshot;
  /** The transaction the entity manager was in before (a user's own, or an enclosing unit's): ours is a savepoint in it. */
  readonly outer: Transaction | undefined;
  readonly actor: string | null;
  /** Our transaction (or savepoint), while open. */
  trx: Transaction | undefined;
  field: string | undefined;
  /** The version property, when the entity has one. */
  readonly version: string | undefined;
  /** What the row must hold: what this entity manager last read or wrote. */
  expected: unknown;
  expectedVersion: unknown;
  /** Why the unit could not go on after a rollback (reopening failed): nothing can be kept. */
  broken: unknown;
  readonly frame: Frame;
}

export class MikroOrmTransitionStore<F extends object> implements TransitionStore {
  readonly #state: State<any>;
  readonly #flowName: string;
  readonly #flowClass: Function;
  /** Per flow class (a subclass may add timers): its timers, computed once. */
  readonly #needs = new WeakMap<Function, WorkNeeds>();
  readonly #options: PersistOptions<F, any>;
  readonly #log: LogOptions<F> | undefined;
  readonly #lockTimeout: number;
  /** The state property per entity class, once known. */
  readonly #fields = new Map<unknown, string>();
  /** The runs in progress, for `rolledBack`. */
  readonly #runs = new WeakMap<UnitOfWork, Run>();

  constructor(state: State<any>, flowClass: abstract new (...args: any[]) => F, options: PersistOptions<F, any>) {
    const where = `persistTransitions(${state}, ${flowClass.name}, ...)`;
    if (options === null || typeof options !== 'object') throw new TypeError(`${where}: options { em, entity } are required.`);
    if (typeof options.em !== 'function') throw new TypeError(`${where}: options.em must be a function (flow) => EntityManager.`);
    if (typeof options.entity !== 'function') throw new TypeError(`${where}: options.entity must be a function (flow) => the managed entity.`);
    if (options.flow !== undefined && typeof options.flow !== 'function') throw new TypeError(`${where}: options.flow must be a function (entity, em) => a flow instance.`);
    if (options.actor !== undefined && typeof options.actor !== 'function') throw new TypeError(`${where}: options.actor must be a function (flow, user) => who.`);
    if (options.field !== undefined && (typeof options.field !== 'string' || options.field === '')) throw new TypeError(`${where}: options.field must be a property name.`);
    if (options.lockTimeout !== undefined && !(typeof options.lockTimeout === 'number' && options.lockTimeout > 0 && Number.isFinite(options.lockTimeout))) {
      throw new TypeError(`${where}: options.lockTimeout must be a positive number of milliseconds, got ${String(options.lockTimeout)}.`);
    }
    this.#state = state;
    this.#flowName = flowClass.name;
    this.#flowClass = flowClass;
    this.#options = options;
    this.#lockTimeout = options.lockTimeout ?? 5000;
    const log = options.log;
    this.#log = log === false ? undefined : log === undefined ? { entity: TransitionLog } : isLogOptions<F>(log) ? log : { entity: log };
  }

  /** The options `persistTransitions` was given (read-only: what the admin view checks and reads). */
  get options(): PersistOptions<F, any> {
    return this.#options;
  }

  /** The `State` this store persists. */
  get state(): State<any> {
    return this.#state;
  }

  /** What jobs name this flow class by (its class name and the State's). */
  get key(): string {
    return flowKey(this.#state.name, this.#flowClass);
  }

  /** The entity history rows go to (`TransitionLog` by default), or `undefined` with `log: false`. */
  get logEntity(): EntityName<any> | undefined {
    return this.#log?.entity;
  }

  /** The entity property that holds the state, when given (`field`) or learned. */
  get field(): string | undefined {
    return this.#options.field ?? [...this.#fields.values()][0];
  }

  /**
   * Wraps `entity` (managed by `em`) in a flow with the `flow` factory.
   * Throws a `TypeError` saying how to declare the factory when there is none.
   */
  wrap(entity: object, em: EntityManager): F {
    const factory = this.#options.flow;
    if (factory === undefined) {
      throw new TypeError(`persistTransitions(${this.#state.name}, ${this.#flowName}, ...) has no flow factory: add { flow: (entity, em) => new ${this.#flowName}(...) } so a worker or the admin view can wrap a loaded entity.`);
    }
    const flow = factory(entity, em);
    if (flow === null || typeof flow !== 'object') throw new TypeError(`${this.#flowName}: the flow factory returned ${String(flow)}, not a flow instance.`);
    return flow;
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
    const guarding = guardConnections(em);
    if (guarding !== undefined) await guarding;
    watchCommits(em);
    // A class that leaves jobs gets its queue (pg-boss, or our table) ready before the transaction.
    if (this.#leavesJobs(flow.constructor)) await queueFor(em);
    const parent = frames.getStore();
    if (parent !== undefined) {
      // Called from inside another persisted transition (its body or hooks).
      if (parent.em === em) {
        await parent.ensureOpen();
        unit.nestIn(parent.unit);
        return this.#unit(em, unit, call);
      }
      if (sameSqliteDatabase(em, parent.em)) {
        throw new TransitionNotPersisted(this.#flowName, undefined, unit.transition, 'database',
          `${this.#flowName}.${unit.transition}() was called inside another persisted transition, on another entity manager of the same SQLite database: ` +
            `SQLite lets one transaction write at a time and the outer one holds it, so this would wait forever. Use the outer flow's entity manager for the inner flow.`);
      }
    }
    return exclusive(em, () => {
      // Inside a transaction of the caller's own (em.begin / em.transactional): durable once it commits.
      const own = em.getTransactionContext();
      if (own !== undefined) unit.nestIn(outcomeOf(own));
      return this.#unit(em, unit, call);
    });
  }

  /** The call failed and its state is rolled back in memory: undo the rest before its onError hooks run. */
  async rolledBack(unit: UnitOfWork): Promise<void> {
    const run = this.#runs.get(unit);
    if (run === undefined) return;
    try {
      const lost = await this.#rollback(run);
      if (lost !== undefined) {
        // The transaction could not even be rolled back: its connection is gone (which is most
        // likely why the call failed). Nothing of the call can be written.
        run.broken = new ConnectionLost(lost);
        return;
      }
      const changes = this.#changes(unit);
      if (changes.length !== 0 && run.field === undefined) run.field = this.#fieldAfter(run, changes);
      // Everything goes back but the state the runtime decided (the source, or the onError value).
      restoreMemory(run.memory, run.field === undefined ? undefined : { entity: run.t.entity, fields: [run.field] });
      // The onError move needs a transaction to be written in; transitions the hooks call open one on demand.
      if (changes.length !== 0) await this.#open(run);
    } catch (error) {
      run.broken = error;
    }
  }

  async #unit(em: EntityManager, unit: UnitOfWork, call: () => Promise<unknown>): Promise<unknown> {
    const flow = unit.flow as F;
    const t = target(em, this.#options.entity(flow), this.#flowName, unit.transition);
    const field = this.#knownField(t);
    if (field === undefined) this.#refusePartial(t, unit);
    const version = t.meta.versionProperty as string | undefined;
    const run: Run = {
      em,
      unit,
      t,
      memory: snapshotMemory(em),
      outer: em.getTransactionContext(),
      actor: this.#options.actor === undefined ? null : text(this.#options.actor(flow, unit.user)),
      trx: undefined,
      field,
      version,
      expected: field === undefined ? undefined : loaded(t, field),
      expectedVersion: version === undefined ? undefined : versionOf(t, version),
      broken: undefined,
      frame: { em, unit, ensureOpen: () => this.#open(run) },
    };
    this.#runs.set(unit, run);

    // 1-2. Begin, lock the row, compare.
    try {
      await this.#open(run);
    } catch (error) {
      await this.#rollback(run);
      throw error;
    }

    // 3. The call.
    let result: unknown;
    let failed = false;
    let error: unknown;
    try {
      result = await frames.run(run.frame, call);
    } catch (e) {
      failed = true;
      error = e;
    }
    this.#runs.delete(unit);

    // 4. What stands: everything (success), what came after the rollback (failure), or nothing.
    const changes = this.#changes(unit);
    if (failed && run.broken !== undefined) {
      await this.#abandon(run);
      throw this.#lostError(run, run.broken, error);
    }
    if (failed && (unit.undoAll || changes.length === 0)) {
      await this.#abandon(run);
      throw error;
    }
    try {
      await this.#write(run, changes);
    } catch (writing) {
      await this.#abandon(run);
      throw writing;
    }
    if (failed) throw error;
    return result;
  }

  /** Begins our transaction (a savepoint inside an outer one) and locks and checks the row, if not open already. */
  async #open(run: Run): Promise<void> {
    if (run.trx !== undefined) return;
    const em = run.em;
    try {
      await em.begin(run.outer === undefined ? {} : { ctx: run.outer });
    } catch (error) {
      this.#release(run);
      throw this.#databaseError(run, error, 'could not start a transaction');
    }
    run.trx = em.getTransactionContext();
    if (run.field !== undefined) await this.#lockAndCheck(run, run.field);
  }

  /**
   * Locks the row and checks it holds what this entity manager expects; adopts the row's values
   * when the entity was loaded without its state column, or is stale after an unknown outcome.
   */
  async #lockAndCheck(run: Run, field: string, learned = false): Promise<void> {
    const { em, t } = run;
    let row;
    try {
      row = await lockRow(em, t, field, run.version, run.trx, this.#lockTimeout);
    } catch (error) {
      throw this.#databaseError(run, error, `could not lock its row within ${this.#lockTimeout} ms`);
    }
    if (!row.found) {
      throw new TransitionNotPersisted(t.name, t.id, run.unit.transition, 'missing',
        `${t.name} ${show(t.id)}: ${run.unit.transition}() found no row: it was deleted by another entity manager or process. Nothing was written.`);
    }
    if (stale.has(t.entity)) {
      // The last commit's outcome is unknown: believe the database, not memory.
      try {
        await em.refresh(t.entity as never);
      } catch (error) {
        throw this.#databaseError(run, error, 'could not re-read the entity after an unknown outcome');
      }
      stale.delete(t.entity);
      run.expected = loaded(t, field);
      run.expectedVersion = run.version === undefined ? undefined : versionOf(t, run.version);
      return;
    }
    const original = rowSnapshot(t);
    if (learned && row.state !== null && original !== undefined && !Object.hasOwn(originalBefore(run.memory, t.entity) ?? original, field)) {
      // The property was just learned from this call, which ran from the State's default because
      // the entity holds no value for it: it was loaded without that column.
      throw mark(new TypeError(
        `${this.#flowName}.${run.unit.transition}(): ${t.name} ${show(t.id)} holds no ${field} in memory (loaded with fields: [...] without it?), but its row holds ${show(row.state)}; ` +
          `the call ran from the State's default instead. Pass { field: '${field}' } to persistTransitions(${this.#state.name}, ${this.#flowName}, ...) so the column is loaded under the row lock, or load the entity whole. Nothing was written.`,
      ));
    }
    if (!learned && original !== undefined && !Object.hasOwn(original, field)) {
      // Loaded without its state column (`fields: [...]`): take the row's value, under the lock.
      adopt(em, t, original, field, row.state);
      if (run.version !== undefined && !Object.hasOwn(original, run.version)) adopt(em, t, original, run.version, row.version);
      run.expected = row.state;
      run.expectedVersion = row.version;
      return;
    }
    if (!sameStored(row.state, run.expected)) {
      throw new ConcurrentTransition(t.name, t.id, field, run.unit.transition, run.expected, row.state);
    }
    if (run.version !== undefined && !sameStored(row.version, run.expectedVersion)) {
      throw new ConcurrentTransition(t.name, t.id, field, run.unit.transition, run.expected, row.state, undefined, { property: run.version, expected: run.expectedVersion, actual: row.version });
    }
    const timer = timerChecks.getStore();
    if (timer !== undefined && timer.entity === t.entity) await this.#checkVisit(run, timer.state, timer.visit, row.state);
  }

  /** A timer runs only in the visit of the state it was recorded for: the last history row must still be the one that entered it. */
  async #checkVisit(run: Run, state: unknown, visit: number | string | null, stored: unknown): Promise<void> {
    if (!sameStored(stored, state)) throw new TimerOutdated(`the entity left ${show(state)}`);
    const log = this.#log;
    if (visit === null || log === undefined || log.row !== undefined) return;
    let last: { id?: unknown } | null;
    try {
      last = (await run.em.findOne(log.entity, { entity: run.t.name, entityId: run.t.key } as never, {
        fields: ['id'] as never,
        orderBy: { id: 'desc' } as never,
        disableIdentityMap: true,
        ctx: run.trx,
      })) as { id?: unknown } | null;
    } catch (error) {
      throw this.#databaseError(run, error, 'could not read its history');
    }
    if (last === null || !sameStored(last.id, visit)) throw new TimerOutdated(`the entity left ${show(state)} and came back since`);
  }

  /** History rows, flush, commit. Throws typed errors; the caller abandons the unit on any. */
  async #write(run: Run, changes: readonly StateChange[]): Promise<void> {
    const em = run.em;
    await this.#open(run);
    let field = run.field;
    if (field === undefined && changes.length !== 0) {
      // First call of this class without `field`: find the property, then check it as usual.
      field = run.field = this.#fieldAfter(run, changes);
      run.expected = originalBefore(run.memory, run.t.entity)?.[field] ?? null;
      await this.#lockAndCheck(run, field, true);
    }
    try {
      const visit = changes.length !== 0 ? await this.#appendLog(run, field!, changes) : null;
      const jobs = this.#jobs(run, changes, visit);
      if (jobs.length !== 0) await (await queueFor(em)).record(em, run.trx, jobs);
    } catch (error) {
      throw ownError(error) ? error : this.#databaseError(run, error, 'could not write its history and jobs');
    }
    const trx = run.trx!;
    const sent = watchCommit(trx);
    try {
      await em.commit();
    } catch (error) {
      if (!sent.sent || run.outer !== undefined || commitCertainlyFailed(em, error)) {
        throw this.#databaseError(run, error, sent.sent ? 'the database refused the commit' : 'could not write the changes');
      }
      stale.add(run.t.entity);
      throw new TransitionNotPersisted(run.t.name, run.t.id, run.unit.transition, 'unknown-outcome',
        `${run.t.name} ${show(run.t.id)}: ${run.unit.transition}() may have been committed: the connection was lost after COMMIT was sent (${messageOf(error)}). ` +
          `The entity is back to what it was before the call in memory and will be re-read from the database by its next transition; check the database (or its history) before retrying.`,
        { cause: error });
    }
    run.trx = undefined;
    if (run.outer !== undefined) em.setTransactionContext(run.outer);
  }

  /**
   * The jobs a committing unit leaves: a durable hook job per (change, durable hook), and a timer
   * for each timed transition whose sources hold the state the unit leaves the entity in.
   */
  #jobs(run: Run, changes: readonly StateChange[], visit: number | string | null): Job[] {
    if (changes.length === 0) return [];
    const flow = run.unit.flow;
    const base = { flow: this.key, entity: run.t.name, id: run.t.id };
    const jobs: Job[] = [];
    const durable = run.unit.durableHooks;
    if (durable.length !== 0) {
      const committedAt = new Date().toISOString();
      for (const { change, hook } of durable) {
        if (change.state !== this.#state) continue;
        jobs.push({ kind: 'hook', ...base, hook, transition: change.transition, source: change.source, target: change.target, actor: run.actor, committedAt });
      }
    }
    const timers = this.#workNeeds(flow.constructor).timers;
    if (timers.length !== 0) {
      const final = changes[changes.length - 1]!.target;
      const now = Date.now();
      for (const t of timers) {
        if (t.sources !== ANY && !t.sources.includes(final)) continue;
        jobs.push({ kind: 'timer', ...base, transition: t.name, state: final, visit, due: now + t.after });
      }
    }
    return jobs;
  }

  #leavesJobs(flowClass: Function): boolean {
    return this.#workNeeds(flowClass).worker;
  }

  #workNeeds(flowClass: Function): WorkNeeds {
    let needs: WorkNeeds | undefined = this.#needs.get(flowClass);
    if (needs === undefined) {
      const timers = this.#state
        .transitions(flowClass as never)
        .filter((t) => t.after !== undefined)
        .map((t) => ({ name: t.name, sources: t.source as readonly StateValue[] | typeof ANY, after: t.after! }));
      needs = { timers, worker: workerNeeds(this.#state, flowClass) !== undefined };
      this.#needs.set(flowClass, needs);
    }
    return needs;
  }

  /** The unit keeps nothing: roll back, put every entity and state back as before the call. */
  async #abandon(run: Run): Promise<void> {
    await this.#rollback(run);
    run.unit.restore();
    restoreMemory(run.memory);
  }

  /**
   * Rolls our transaction (or savepoint) back and gives the entity manager its previous
   * transaction back. Never throws: returns the rollback's error, if it failed (the connection is
   * gone; nothing was committed either way, and the pool discards a dead connection:
   * connections.ts, sqlite.ts).
   */
  async #rollback(run: Run): Promise<unknown> {
    const { em, trx } = run;
    run.trx = undefined;
    let failure: unknown;
    if (trx !== undefined) {
      try {
        if (em.getTransactionContext() !== trx) em.setTransactionContext(trx);
        await em.rollback();
      } catch (error) {
        failure = error ?? new Error('rollback failed');
      }
    }
    this.#release(run);
    return failure;
  }

  #release(run: Run): void {
    if (run.outer === undefined) run.em.resetTransactionContext();
    else run.em.setTransactionContext(run.outer);
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

  /**
   * Without `field` the state property is learned from the first change, so the call can only run
   * from what the entity holds: one loaded with `fields: [...]` (or a reference never loaded)
   * would run from the State's default.
   */
  #refusePartial(t: Target, unit: UnitOfWork): void {
    const wrapped = (t.entity as { __helper?: { __initialized?: boolean; __serializationContext?: { fields?: Set<string> } } }).__helper;
    const fields = wrapped?.__serializationContext?.fields;
    const partial = wrapped?.__initialized === false || (fields !== undefined && !fields.has('*'));
    if (!partial) return;
    const missing = t.meta.props.filter((prop) => prop.kind === ReferenceKind.SCALAR && prop.lazy !== true && prop.persist !== false && !fields?.has(prop.name)).map((prop) => prop.name);
    if (missing.length === 0) return;
    throw new TypeError(
      `${this.#flowName}.${unit.transition}(): ${t.name} ${show(t.id)} was loaded with fields: [...] without ${missing.join(', ')}, and persistTransitions(${this.#state.name}, ${this.#flowName}, ...) ` +
        `has no \`field\` option, so the call cannot read its state. Pass { field: 'yourStateProperty' } (the column is then loaded under the row lock), or load the entity whole. Nothing was written.`,
    );
  }

  #fieldAfter(run: Run, changes: readonly StateChange[]): string {
    const first = changes[0];
    const last = changes[changes.length - 1];
    const found = first === undefined || last === undefined ? undefined : fieldAfter(run.t, valuesBefore(run.memory, run.t.entity), first.source, last.target, this.#state.default);
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

  /** Inserts the history rows; returns the last one's id when it can serve to recognise a visit. */
  async #appendLog(run: Run, field: string, changes: readonly StateChange[]): Promise<number | string | null> {
    const log = this.#log;
    if (log === undefined) return null;
    const flow = run.unit.flow as F;
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
    const options = { ctx: run.trx };
    const ids = rows.length === 1 ? [await run.em.insert(log.entity, rows[0] as never, options)] : await run.em.insertMany(log.entity, rows as never, options);
    const last = ids[ids.length - 1];
    return log.row === undefined && (typeof last === 'number' || typeof last === 'string') ? last : null;
  }

  /** The call failed and what stood after its rollback could not be written: say why, and what the call's error was. */
  #lostError(run: Run, broken: unknown, callError: unknown): unknown {
    if (broken instanceof ConnectionLost) {
      return new TransitionNotPersisted(run.t.name, run.t.id, run.unit.transition, 'database',
        `${run.t.name} ${show(run.t.id)}: ${run.unit.transition}() was not persisted: its database connection failed during the call (${messageOf(callError)}; the rollback said: ${messageOf(broken.error)}). ` +
          `Nothing was written, and the entity is back to what it was before the call.`,
        { cause: callError });
    }
    if (broken instanceof ConcurrentTransition || broken instanceof TransitionNotPersisted) {
      (broken as { cause?: unknown }).cause ??= callError;
      return broken;
    }
    if (ownError(broken)) return broken;
    return this.#databaseError(run, broken, `could not write what its failure left (${messageOf(callError)})`);
  }

  #databaseError(run: Run, error: unknown, what: string): TransitionNotPersisted {
    const state = run.field === undefined ? '' : `; the in-memory ${run.field} is back to ${show(run.expected)}`;
    return new TransitionNotPersisted(run.t.name, run.t.id, run.unit.transition, 'database',
      `${run.t.name} ${show(run.t.id)}: ${run.unit.transition}() was not persisted, ${what}: ${messageOf(error)}. The transaction was rolled back: nothing was written${state}.`,
      { cause: error });
  }
}

/** A unit's transaction could not be rolled back: the connection is gone. */
class ConnectionLost {
  constructor(readonly error: unknown) {}
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The version this entity manager last read or wrote. MikroORM keeps it on the entity (its row
 * snapshot leaves the version out after an update) and checks it in its own flushes.
 */
function versionOf(t: Target, version: string): unknown {
  return t.entity[version] ?? loaded(t, version);
}

/** Sets a column the entity was loaded without, as if it had been loaded. */
function adopt(em: EntityManager, t: Target, original: Record<string, unknown>, name: string, stored: unknown): void {
  const type = t.meta.properties[name]?.customType;
  t.entity[name] = type === undefined ? stored : type.convertToJSValue(stored, em.getPlatform());
  original[name] = stored;
}
