/**
 * Locking the flow's row for the rest of the transaction and reading its state (and version),
 * in one statement, with a bounded wait.
 *
 * The statement per database:
 * - PostgreSQL: `select ... from (select set_config('lock_timeout', :ms, true)) l left join lateral
 *   (select state, version, 1 as found from t where pk = :id for no key update) r on true`. The
 *   outer subquery runs first (it holds a volatile function, so the planner keeps it as it is), so
 *   `lock_timeout` applies to the row lock that follows, for this transaction only, without a
 *   round trip of its own. `for no key update` is the lock an UPDATE of non-key columns takes.
 * - MariaDB: `select ... for update wait :s`; MySQL: `select ... for update` (its
 *   `innodb_lock_wait_timeout`, 50 s by default, bounds the wait).
 * - SQLite: a plain `select`: `BEGIN IMMEDIATE` (see sqlite.ts) already holds the database's write
 *   lock, and its busy timeout bounds the wait for it.
 * Values come back as the database stores them, as MikroORM's row snapshot holds them.
 */

import { ReferenceKind, type EntityManager, type Transaction } from '@mikro-orm/core';
import { BaseMySqlPlatform, BasePostgreSqlPlatform, SqlitePlatform } from '@mikro-orm/sql';
import { loaded, type Target } from './entity.ts';

/** What the lock found. */
export interface LockedRow {
  /** The row exists. */
  readonly found: boolean;
  /** The state column, as stored (`null` for NULL). */
  readonly state: unknown;
  /** The version column, when the entity has a version property. */
  readonly version: unknown;
}

type Dialect = 'postgresql' | 'mariadb' | 'mysql' | 'sqlite' | 'other';

function dialectOf(em: EntityManager): Dialect {
  const platform = em.getPlatform();
  if (platform instanceof SqlitePlatform) return 'sqlite';
  if (platform instanceof BasePostgreSqlPlatform) return 'postgresql';
  if (platform instanceof BaseMySqlPlatform) return /maria/i.test(platform.constructor.name) ? 'mariadb' : 'mysql';
  return 'other';
}

/** A lock statement and the dialect whose parameters it takes. */
interface Statement {
  readonly sql: string;
  readonly dialect: Dialect;
}

/** Statements per driver and entity metadata, by field and version field. */
const statements = new WeakMap<object, WeakMap<object, Map<string, Statement>>>();

function column(t: Target, name: string): string {
  const prop = t.meta.properties[name];
  if (prop === undefined || prop.kind !== ReferenceKind.SCALAR || prop.fieldNames?.length !== 1 || prop.fieldNames[0] === undefined) {
    throw new TypeError(`${t.name}.${name} is not a plain column: the state and version of a persisted flow must be scalar properties of one column each.`);
  }
  return prop.fieldNames[0];
}

function statementFor(em: EntityManager, t: Target, field: string, version: string | undefined): Statement {
  const driver = em.getDriver();
  let byMeta = statements.get(driver);
  if (byMeta === undefined) statements.set(driver, (byMeta = new WeakMap()));
  let byKey = byMeta.get(t.meta);
  if (byKey === undefined) byMeta.set(t.meta, (byKey = new Map()));
  const key = `${field}\u0000${version ?? ''}\u0000${t.schema ?? ''}`;
  const known = byKey.get(key);
  if (known !== undefined) return known;
  const platform = em.getPlatform();
  const q = (name: string) => platform.quoteIdentifier(name);
  const table = (driver as unknown as { getTableName(meta: object, options: { schema?: string }): string }).getTableName(t.meta, { schema: t.schema });
  const where = t.meta.primaryKeys.map((pk) => `${q(column(t, pk))} = ?`).join(' and ');
  const columns = `${q(column(t, field))} as ${q('state')}, ${version === undefined ? 'null' : q(column(t, version))} as ${q('version')}, 1 as ${q('found')}`;
  const read = `select ${columns} from ${table} where ${where}`;
  const dialect = dialectOf(em);
  let sql: string;
  switch (dialect) {
    case 'postgresql':
      sql = `select r.${q('state')}, r.${q('version')}, r.${q('found')} from (select set_config('lock_timeout', ?, true) as ${q('lt')}) l left join lateral (${read} for no key update) r on true`;
      break;
    case 'mariadb':
      sql = `${read} for update wait ?`;
      break;
    case 'mysql':
    case 'other':
      sql = `${read} for update`;
      break;
    case 'sqlite':
      sql = read;
      break;
  }
  const statement = { sql, dialect };
  byKey.set(key, statement);
  return statement;
}

/**
 * Locks the flow's row until the end of the current transaction (`ctx`) and reads its state and
 * version. Waits at most `timeout` ms for another transaction's lock (on SQLite, the busy timeout
 * of the connection applies instead).
 */
export async function lockRow(em: EntityManager, t: Target, field: string, version: string | undefined, ctx: Transaction | undefined, timeout: number): Promise<LockedRow> {
  const { sql, dialect } = statementFor(em, t, field, version);
  const keys = t.meta.primaryKeys.map((pk) => loaded(t, pk) ?? t.where[pk]);
  let params: unknown[];
  switch (dialect) {
    case 'postgresql':
      params = [`${Math.max(1, Math.ceil(timeout))}ms`, ...keys];
      break;
    case 'mariadb':
      params = [...keys, Math.max(0, Math.ceil(timeout / 1000))];
      break;
    default:
      params = keys;
  }
  const rows = (await em.getConnection('write').execute(sql, params, 'all', ctx)) as Array<Record<string, unknown>>;
  const row = rows[0];
  if (row === undefined || row.found === null || row.found === undefined) return { found: false, state: undefined, version: undefined };
  return { found: true, state: row.state ?? null, version: row.version ?? null };
}

/** Whether a value read from the database equals one MikroORM's row snapshot holds. */
export function sameStored(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (a instanceof Date || b instanceof Date) return new Date(a as never).getTime() === new Date(b as never).getTime();
  return String(a) === String(b);
}
