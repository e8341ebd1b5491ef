/**
 * Killing the server side of the connection a transaction uses, from another connection, as a
 * crash, a restart or an operator would: PostgreSQL `pg_backend_pid()` + `pg_terminate_backend`,
 * MariaDB/MySQL `connection_id()` + `KILL`.
 */
import type { EntityManager } from '@mikro-orm/core';

export type ServerKind = 'postgresql' | 'mariadb';

/** The server's id of the connection `em` runs its queries on now (its transaction's, inside one). */
export async function backendId(kind: ServerKind, em: EntityManager): Promise<number> {
  const sql = kind === 'postgresql' ? 'select pg_backend_pid() as id' : 'select connection_id() as id';
  const [row] = await em.getConnection('write').execute<Array<{ id: number | string }>>(sql, [], 'all', em.getTransactionContext());
  if (row === undefined) throw new Error(`${sql} returned no row`);
  return Number(row.id);
}

/** Kills backend `id` through `admin` (an entity manager of another pool or ORM); resolves once the server has been told. */
export async function killBackend(kind: ServerKind, id: number, admin: EntityManager): Promise<void> {
  const connection = admin.getConnection('write');
  if (kind === 'postgresql') {
    const [row] = await connection.execute<Array<{ done: boolean }>>('select pg_terminate_backend(?) as done', [id]);
    if (row?.done !== true) throw new Error(`pg_terminate_backend(${id}) did not terminate it`);
  } else {
    await connection.execute(`kill ${Number(id)}`);
  }
}

/**
 * Kills the connection `em`'s current transaction runs on, from `admin`'s connection.
 *
 * @example
 * await flow.assignDuring('ann', (f) => killOwnBackend('postgresql', f.em, db.orm.em.fork()));
 */
export async function killOwnBackend(kind: ServerKind, em: EntityManager, admin: EntityManager): Promise<void> {
  await killBackend(kind, await backendId(kind, em), admin);
}
