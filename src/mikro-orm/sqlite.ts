/**
 * SQLite for several processes on one file, through `node:sqlite` (no native addon).
 *
 * MikroORM's `NodeSqliteDialect` opens the file with no busy timeout and the rollback journal, so
 * a second process gets "database is locked" at once, even on reads. `WalSqliteDialect` opens it
 * with a busy timeout (a locked database is waited for), switches it to WAL (readers do not block
 * the writer) and starts transactions with `BEGIN IMMEDIATE`, so a transaction that reads first
 * and writes later cannot fail halfway with SQLITE_BUSY: it waits for the write lock up front.
 *
 * `node:sqlite` is synchronous: a connection waiting for a lock blocks its whole thread. Two
 * connections of one process on one file (two `MikroORM` instances) would therefore deadlock, the
 * waiting one blocking the event loop the other needs to finish. So transactions of all the
 * dialects of a process on one file also take turns through an in-process asynchronous lock, and
 * only other processes are waited for inside SQLite.
 */

import { resolve } from 'node:path';
import { NodeSqliteDialect, SqliteDriver } from '@mikro-orm/sql';
import type { DatabaseSync as DatabaseSyncType } from 'node:sqlite';

export interface SqliteFileOptions {
  /** How long a statement waits for a lock held by another connection, in ms. Default 5000. */
  readonly timeout?: number;
  /** `journal_mode = wal`. Default true (ignored for `:memory:`). */
  readonly wal?: boolean;
  /** Start transactions with `BEGIN IMMEDIATE` (take the write lock at once). Default true. */
  readonly immediate?: boolean;
}

/** A FIFO asynchronous lock whose waiters give up after a timeout, like SQLite's busy timeout. */
class Turns {
  #held = false;
  readonly #waiting: Array<() => void> = [];
  acquire(timeout: number, file: string): Promise<void> {
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const at = this.#waiting.indexOf(grant);
        if (at !== -1) this.#waiting.splice(at, 1);
        reject(new Error(`database is locked: another connection of this process to ${file} kept its transaction open for more than ${timeout} ms`));
      }, timeout);
      this.#waiting.push(grant);
    });
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#held = false;
    else next();
  }
}

/** Per database file in this process: whose transaction's turn it is. */
const turnsByFile = new Map<string, Turns>();

/** The part of Kysely's driver and connection interfaces we wrap. */
interface Connection {
  executeQuery(query: { sql: string; parameters: readonly unknown[] }): Promise<unknown>;
  streamQuery(query: unknown, chunkSize?: number): AsyncIterableIterator<unknown>;
}
interface Driver {
  init(): Promise<void>;
  acquireConnection(): Promise<Connection>;
  beginTransaction(connection: Connection, settings: unknown): Promise<void>;
  commitTransaction(connection: Connection): Promise<void>;
  rollbackTransaction(connection: Connection): Promise<void>;
  savepoint?(connection: Connection, name: string, compile: unknown): Promise<void>;
  rollbackToSavepoint?(connection: Connection, name: string, compile: unknown): Promise<void>;
  releaseSavepoint?(connection: Connection, name: string, compile: unknown): Promise<void>;
  releaseConnection(connection: Connection): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * One use of the single SQLite connection: what Kysely holds between acquiring and releasing it.
 * Each use gets its own lease object, so a release that comes late (or twice) cannot free a
 * later holder's turn.
 */
class Lease implements Connection {
  released = false;
  /** Holding this process's turn on the file (a transaction is open). */
  inTurn = false;
  constructor(readonly connection: Connection) {}
  executeQuery(query: { sql: string; parameters: readonly unknown[] }): Promise<unknown> {
    return this.connection.executeQuery(query);
  }
  streamQuery(query: unknown, chunkSize?: number): AsyncIterableIterator<unknown> {
    return this.connection.streamQuery(query, chunkSize);
  }
}

/** A FIFO lock over the connection that hands out leases (Kysely's own mutex cannot be released on failure paths). */
class ConnectionLock {
  #holder: Lease | undefined;
  readonly #waiting: Array<() => void> = [];
  async acquire(connection: Connection): Promise<Lease> {
    if (this.#holder !== undefined) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    const lease = new Lease(connection);
    this.#holder = lease;
    return lease;
  }
  release(lease: Lease): void {
    if (lease.released) return;
    lease.released = true;
    if (this.#holder !== lease) return;
    this.#holder = undefined;
    this.#waiting.shift()?.();
  }
}

const NO_TRANSACTION = /no transaction is active/i;

/** What Kysely's SQLite driver expects of a prepared statement (the better-sqlite3 shape). */
interface PreparedStatement {
  readonly reader: boolean;
  all(params: readonly unknown[]): unknown[];
  run(params: readonly unknown[]): { changes: number | bigint; lastInsertRowid: number | bigint };
  get(params: readonly unknown[]): unknown;
}

/** The Kysely dialect `NodeSqliteDialect` is built on (Kysely's `SqliteDialect`), without importing Kysely ourselves. */
const SqliteDialect = Object.getPrototypeOf(NodeSqliteDialect) as new (config: { database: () => unknown }) => NodeSqliteDialect;

const READER = /^\s*(select|pragma|explain|with)/i;
const RETURNING = /\breturning\b/i;
const BEGIN = /^\s*begin(\s+transaction)?\s*;?\s*$/i;

/**
 * A Kysely dialect for MikroORM's `SqliteDriver` over `node:sqlite` with a busy timeout, WAL and
 * `BEGIN IMMEDIATE` transactions: several processes can share one database file.
 *
 * @example
 * MikroORM.init({ driver: SqliteDriver, dbName: 'app.sqlite', driverOptions: new WalSqliteDialect('app.sqlite'), entities });
 */
export class WalSqliteDialect extends SqliteDialect {
  readonly #turns: Turns | undefined;
  readonly #file: string;
  readonly #timeout: number;

  constructor(file: string, options: SqliteFileOptions = {}) {
    const timeout = options.timeout ?? 5000;
    const wal = options.wal ?? true;
    const immediate = options.immediate ?? true;
    super({
      database: () => {
        const { DatabaseSync } = process.getBuiltinModule('node:sqlite') as { DatabaseSync: typeof DatabaseSyncType };
        const db = new DatabaseSync(file, { timeout });
        if (wal && file !== ':memory:' && file !== '') db.exec('pragma journal_mode = wal');
        // Prepared statements are kept (per connection, most recent 256): MikroORM sends the same
        // few statements over and over, and preparing costs more than running them.
        const statements = new Map<string, PreparedStatement>();
        return {
          prepare(sql: string): PreparedStatement {
            let prepared = statements.get(sql);
            if (prepared === undefined) {
              const stmt = db.prepare(immediate && BEGIN.test(sql) ? 'begin immediate' : sql);
              prepared = {
                reader: READER.test(sql) || RETURNING.test(sql),
                all: (params) => stmt.all(...(params as never[])),
                run: (params) => stmt.run(...(params as never[])),
                get: (params) => stmt.get(...(params as never[])),
              };
              if (statements.size >= 256) statements.delete(statements.keys().next().value!);
              statements.set(sql, prepared);
            }
            return prepared;
          },
          close() {
            db.close();
          },
        };
      },
    });
    this.#file = file;
    this.#timeout = timeout;
    if (file !== ':memory:' && file !== '') {
      const key = resolve(file);
      let turns = turnsByFile.get(key);
      if (turns === undefined) turnsByFile.set(key, (turns = new Turns()));
      this.#turns = turns;
    }
  }

  /**
   * Kysely runs SQLite on one connection behind a mutex that only a successful COMMIT or ROLLBACK
   * releases: one "database is locked" at BEGIN, or a failed COMMIT, and every later query of the
   * ORM waits forever. This adapter tells Kysely the connection may be shared, and the driver below
   * does the locking itself, releasing on every path.
   */
  override createAdapter(): ReturnType<NodeSqliteDialect['createAdapter']> {
    const adapter = super.createAdapter();
    return Object.create(adapter, { supportsMultipleConnections: { get: () => true } }) as typeof adapter;
  }

  /**
   * Kysely's SQLite driver with our lock over its connection, and transactions taking turns with
   * the other connections of this process to the file. A transaction whose BEGIN, COMMIT or
   * ROLLBACK fails ends here: it is rolled back if still open and its lease released (Kysely will
   * not release it).
   */
  override createDriver(): ReturnType<NodeSqliteDialect['createDriver']> {
    const inner = super.createDriver() as unknown as Driver;
    const lock = new ConnectionLock();
    const turns = this.#turns;
    const file = this.#file;
    const timeout = this.#timeout;
    const leaveTurn = (lease: Lease) => {
      if (lease.inTurn) {
        lease.inTurn = false;
        turns?.release();
      }
    };
    /** Ends a lease after a failed transaction statement: roll back if still open, give up the turn and the lock. */
    const end = async (lease: Lease) => {
      try {
        await lease.connection.executeQuery({ sql: 'rollback', parameters: [] });
      } catch {
        // No transaction was open (BEGIN failed, or COMMIT/ROLLBACK ended it): nothing to undo.
      }
      leaveTurn(lease);
      lock.release(lease);
    };
    const driver: Driver = {
      init: () => inner.init(),
      acquireConnection: async () => lock.acquire(await inner.acquireConnection()),
      releaseConnection: async (lease) => {
        leaveTurn(lease as Lease);
        lock.release(lease as Lease);
      },
      beginTransaction: async (lease, settings) => {
        const l = lease as Lease;
        try {
          if (turns !== undefined) {
            await turns.acquire(timeout, file);
            l.inTurn = true;
          }
          await inner.beginTransaction(l.connection, settings);
        } catch (error) {
          await end(l);
          throw error;
        }
      },
      commitTransaction: async (lease) => {
        const l = lease as Lease;
        try {
          await inner.commitTransaction(l.connection);
        } catch (error) {
          await end(l);
          throw error;
        }
        leaveTurn(l);
      },
      rollbackTransaction: async (lease) => {
        const l = lease as Lease;
        if (l.released) return; // ended already, after a failed COMMIT
        try {
          await inner.rollbackTransaction(l.connection);
        } catch (error) {
          if (!NO_TRANSACTION.test(error instanceof Error ? error.message : '')) {
            await end(l);
            throw error;
          }
        }
        leaveTurn(l);
      },
      savepoint: (lease, name, compile) => inner.savepoint!((lease as Lease).connection, name, compile),
      rollbackToSavepoint: (lease, name, compile) => inner.rollbackToSavepoint!((lease as Lease).connection, name, compile),
      releaseSavepoint: (lease, name, compile) => inner.releaseSavepoint!((lease as Lease).connection, name, compile),
      destroy: () => inner.destroy(),
    };
    return driver as unknown as ReturnType<NodeSqliteDialect['createDriver']>;
  }
}

/**
 * The MikroORM options for a SQLite file shared by several processes: spread them into
 * `MikroORM.init`.
 *
 * @example
 * const orm = await MikroORM.init({ ...sqliteOptions('tickets.sqlite'), entities: [Ticket, TransitionLog] });
 */
export function sqliteOptions(file: string, options: SqliteFileOptions = {}): { driver: typeof SqliteDriver; dbName: string; driverOptions: WalSqliteDialect } {
  return { driver: SqliteDriver, dbName: file, driverOptions: new WalSqliteDialect(file, options) };
}
