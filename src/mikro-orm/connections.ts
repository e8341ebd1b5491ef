/**
 * Connections that die inside a transaction, and what a failed COMMIT means.
 *
 * Kysely (under MikroORM 7) releases a transaction's connection only when its COMMIT or ROLLBACK
 * succeeds. When the connection died (a killed backend, a restarted server, a cut network), both
 * fail, and the pool slot is never given back: after `pool.max` such failures every query of the
 * ORM waits forever. `guardPool` closes that hole for PostgreSQL's `pg` pool: a client whose
 * connection ends while it is checked out is handed back to the pool (which discards it) at once,
 * and its release is made idempotent so that whoever held it can still release it harmlessly.
 * SQLite's single connection is handled by our dialect (sqlite.ts); mysql2's pool drops a
 * connection that closes by itself.
 */

import type { EntityManager } from '@mikro-orm/core';
import { BasePostgreSqlPlatform, SqlitePlatform } from '@mikro-orm/sql';

/** The parts of `pg`'s Pool and Client we use. */
interface PgClient {
  release?: (error?: Error | boolean) => void;
  once(event: 'end', listener: () => void): void;
  removeListener(event: 'end', listener: () => void): void;
}
interface PgPool {
  on(event: 'acquire', listener: (client: PgClient) => void): void;
  on(event: 'release', listener: (error: unknown, client: PgClient) => void): void;
}

/** Connections (MikroORM's) whose pool is guarded, or being guarded. */
const guarded = new WeakMap<object, Promise<void>>();

/** Per checked-out client: what to do when its connection ends. */
const onEnd = new WeakMap<PgClient, () => void>();

function guard(pool: PgPool): void {
  pool.on('acquire', (client) => {
    // pg-pool assigns `client.release` right after emitting 'acquire': catch the assignment and
    // make the function idempotent (a second call would throw "Release called on client which
    // has already been released").
    let release: ((error?: Error | boolean) => void) | undefined;
    Object.defineProperty(client, 'release', {
      configurable: true,
      enumerable: true,
      get: () => release,
      set(fn: (error?: Error | boolean) => void) {
        let done = false;
        release = (error) => {
          if (done) return;
          done = true;
          fn(error);
        };
      },
    });
    const ended = () => release?.(new Error('transitional: the connection ended while checked out; discarded'));
    onEnd.set(client, ended);
    client.once('end', ended);
  });
  pool.on('release', (_error, client) => {
    const ended = onEnd.get(client);
    if (ended !== undefined) {
      client.removeListener('end', ended);
      onEnd.delete(client);
    }
  });
}

/**
 * Makes sure the connection pool of `em` gives back connections that die while checked out.
 * Resolves at once after the first call for a given ORM connection.
 */
export function guardConnections(em: EntityManager): Promise<void> | undefined {
  const connection = em.getConnection('write') as unknown as { getNativeClient?: () => Promise<unknown> };
  const known = guarded.get(connection);
  if (known !== undefined) return known;
  if (!(em.getPlatform() instanceof BasePostgreSqlPlatform) || typeof connection.getNativeClient !== 'function') {
    guarded.set(connection, Promise.resolve());
    return undefined;
  }
  const done = connection.getNativeClient().then(
    (pool) => {
      if (pool !== null && typeof pool === 'object' && typeof (pool as PgPool).on === 'function') guard(pool as PgPool);
    },
    () => {
      // No pool to guard (a Kysely instance given through driverOptions): nothing we can do.
    },
  );
  guarded.set(connection, done);
  return done;
}

/** The SQLSTATE (or driver code) of a database error, looking through MikroORM's wrappers. */
function codeOf(error: unknown): string | undefined {
  for (let e: any = error, depth = 0; e !== null && typeof e === 'object' && depth < 5; e = e.cause ?? e.previous, depth++) {
    // mysql2 marks errors that broke the connection as fatal, whatever their SQLSTATE.
    if (e.fatal === true) return undefined;
    if (typeof e.sqlState === 'string') return e.sqlState;
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  }
  return undefined;
}

/**
 * Whether a failed COMMIT certainly did not commit: the server answered with an error that ends
 * the transaction (a constraint checked at commit, a serialization failure, ...). A lost
 * connection, a server shutting down or an error without a SQLSTATE leave the outcome unknown.
 * On SQLite the outcome is always known: the database is in this process.
 */
export function commitCertainlyFailed(em: EntityManager, error: unknown): boolean {
  if (em.getPlatform() instanceof SqlitePlatform) return true;
  const code = codeOf(error);
  if (code === undefined) return false;
  // 08: connection exception; 57: operator intervention (shutdown, terminated backend); 58: system error.
  return !/^(08|57|58|XX)/.test(code);
}
