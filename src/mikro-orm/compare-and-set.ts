/** The compare-and-set of the state column, in SQL, and reading the column back. */

import { FlushMode, LockMode, ReferenceKind, type EntityManager, type Transaction } from '@mikro-orm/core';
import { BaseMySqlPlatform } from '@mikro-orm/sql';
import { loaded, type Target } from './entity.ts';

/**
 * `UPDATE table SET field = :value WHERE pk = :id AND field = :expected` (`IS NULL` for null),
 * with values as the database has them (MikroORM's snapshot holds them so); returns the number
 * of rows found (0 or 1). Plain SQL through the connection: this runs on every call, and
 * MikroORM's `nativeUpdate` would convert the snapshot's values a second time. Entities whose key
 * or state is not a plain column go through `nativeUpdate`.
 *
 * MariaDB/MySQL count the rows an UPDATE *changed* unless the client connects with
 * CLIENT_FOUND_ROWS (mysql2, under MikroORM's MySQL and MariaDB drivers, sets it by default;
 * `driverOptions: { flags: '-FOUND_ROWS' }` clears it): there, checking the state without changing
 * it (`value === expected`, the lock taken before the body) would find 0 rows on a row that holds
 * `expected`. So on those databases that case is `SELECT 1 ... WHERE ... FOR UPDATE` instead: the
 * same check, the same exclusive row lock, the latest committed row (a locking read ignores the
 * transaction's snapshot), and a row count that does not depend on client flags.
 */
export async function compareAndSet(em: EntityManager, t: Target, field: string, expected: unknown, value: unknown, ctx: Transaction | undefined): Promise<number> {
  const lockOnly = value === expected && countsChangedRows(em);
  const sql = statementFor(em, t, field, expected === null, lockOnly);
  if (sql === undefined) {
    const options = { filters: false, schema: t.schema, convertCustomTypes: false, ...(ctx === undefined ? {} : { ctx }) };
    const where = { ...t.where, [field]: expected };
    if (lockOnly) {
      const rows = await em.find(t.meta.class, where as never, { ...options, lockMode: LockMode.PESSIMISTIC_WRITE, disableIdentityMap: true, flushMode: FlushMode.COMMIT } as never);
      return rows.length;
    }
    return em.nativeUpdate(t.meta.class, where, { [field]: value }, options as never);
  }
  const params: unknown[] = lockOnly ? [] : [value];
  for (const pk of t.meta.primaryKeys) params.push(loaded(t, pk));
  if (expected !== null) params.push(expected);
  if (lockOnly) return ((await em.getConnection('write').execute(sql, params, 'all', ctx)) as unknown[]).length;
  const result = (await em.getConnection('write').execute(sql, params, 'run', ctx)) as { affectedRows?: number };
  return result.affectedRows ?? 0;
}

/** Whether an UPDATE's row count may leave out rows it matched but did not change (MariaDB, MySQL). */
function countsChangedRows(em: EntityManager): boolean {
  return em.getPlatform() instanceof BaseMySqlPlatform;
}

/** Compare-and-set statements per driver and entity class (`undefined`: use `nativeUpdate`). */
const statements = new WeakMap<object, WeakMap<object, Map<string, string | undefined>>>();

/** The compare-and-set statement of an entity class, built once per field, schema, NULL-ness and kind (update, or a locking select). */
function statementFor(em: EntityManager, t: Target, field: string, isNull: boolean, lockOnly: boolean): string | undefined {
  const key = `${field}\u0000${t.schema ?? ''}\u0000${isNull}\u0000${lockOnly}`;
  const driver = em.getDriver();
  let byMeta = statements.get(driver);
  if (byMeta === undefined) statements.set(driver, (byMeta = new WeakMap()));
  let byKey = byMeta.get(t.meta);
  if (byKey === undefined) byMeta.set(t.meta, (byKey = new Map()));
  if (byKey.has(key)) return byKey.get(key);
  const column = (name: string) => {
    const prop = t.meta.properties[name];
    return prop !== undefined && prop.kind === ReferenceKind.SCALAR && prop.fieldNames?.length === 1 && prop.fieldNames[0] !== undefined ? prop.fieldNames[0] : undefined;
  };
  const state = column(field);
  const keys = t.meta.primaryKeys.map(column);
  let sql: string | undefined;
  if (state !== undefined && keys.every((k) => k !== undefined)) {
    const platform = em.getPlatform();
    const q = (name: string) => platform.quoteIdentifier(name);
    const table = (driver as unknown as { getTableName(meta: object, options: { schema?: string }): string }).getTableName(t.meta, { schema: t.schema });
    const where = [...keys.map((k) => `${q(k!)} = ?`), isNull ? `${q(state)} is null` : `${q(state)} = ?`].join(' and ');
    sql = lockOnly ? `select 1 as found from ${table} where ${where} for update` : `update ${table} set ${q(state)} = ? where ${where}`;
  }
  byKey.set(key, sql);
  return sql;
}

/** The row's state as the database has it, without touching the identity map or flushing. */
export async function readState(em: EntityManager, t: Target, field: string, ctx: Transaction | undefined): Promise<Record<string, unknown> | null> {
  return (await em.findOne(t.meta.class, t.where as never, {
    fields: [field] as never,
    disableIdentityMap: true,
    flushMode: FlushMode.COMMIT,
    filters: false,
    schema: t.schema,
    ...(ctx === undefined ? {} : { ctx }),
  })) as Record<string, unknown> | null;
}

