/** The compare-and-set of the state column, in SQL, and reading the column back. */

import { FlushMode, ReferenceKind, type EntityManager, type Transaction } from '@mikro-orm/core';
import { loaded, type Target } from './entity.ts';

/**
 * `UPDATE table SET field = :value WHERE pk = :id AND field = :expected` (`IS NULL` for null),
 * with values as the database has them (MikroORM's snapshot holds them so); returns the number
 * of rows changed. Plain SQL through the connection: this runs on every call, and MikroORM's
 * `nativeUpdate` would convert the snapshot's values a second time. Entities whose key or state
 * is not a plain column go through `nativeUpdate`.
 */
export async function compareAndSet(em: EntityManager, t: Target, field: string, expected: unknown, value: unknown, ctx: Transaction | undefined): Promise<number> {
  const sql = statementFor(em, t, field, expected === null);
  if (sql === undefined) {
    return em.nativeUpdate(t.meta.class, { ...t.where, [field]: expected }, { [field]: value }, { filters: false, schema: t.schema, convertCustomTypes: false, ...(ctx === undefined ? {} : { ctx }) } as never);
  }
  const params: unknown[] = [value];
  for (const pk of t.meta.primaryKeys) params.push(loaded(t, pk));
  if (expected !== null) params.push(expected);
  const result = (await em.getConnection('write').execute(sql, params, 'run', ctx)) as { affectedRows?: number };
  return result.affectedRows ?? 0;
}

/** Compare-and-set statements per driver and entity class (`undefined`: use `nativeUpdate`). */
const statements = new WeakMap<object, WeakMap<object, Map<string, string | undefined>>>();

/** The compare-and-set statement of an entity class, built once per field, schema and NULL-ness. */
function statementFor(em: EntityManager, t: Target, field: string, isNull: boolean): string | undefined {
  const key = `${field}\u0000${t.schema ?? ''}\u0000${isNull}`;
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
    sql = `update ${table} set ${q(state)} = ? where ${where}`;
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

