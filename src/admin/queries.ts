/**
 * What the pages read, through MikroORM's query API only (`em.find`, `em.count`, the query
 * builder): no SQL is written by hand. Text from a request never reaches a query as it came: a
 * state must be one of the declared values, a primary key is parsed to its property's type (a
 * number key must be an integer), and the rest comes from definitions.
 *
 * Indexes that keep these cheap: `TransitionLog`'s `(entity, entityId)` for an entity's history;
 * on your entity, one on the state column for the counts and the lists (the schema is yours: the
 * README says how).
 */

import { raw, wrap, type EntityManager, type EntityProperty } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { StateValue } from '../core/errors.ts';
import type { ShownFlow } from './options.ts';

/** How MikroORM joins the parts of a composite key in `getSerializedPrimaryKey()`. */
const COMPOSITE_SEPARATOR = '~~~';

/** The entity's primary key as text, as history rows and URLs hold it. */
export function keyOf(entity: object): string {
  return wrap(entity, true).getSerializedPrimaryKey();
}

function parseKeyPart(prop: EntityProperty, text: string): unknown {
  switch (prop.runtimeType) {
    case 'number':
      return /^-?\d{1,16}$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : undefined;
    case 'bigint':
      return /^-?\d{1,40}$/.test(text) ? BigInt(text) : undefined;
    case 'boolean':
    case 'Date':
    case 'Buffer':
      return undefined;
    default:
      return text.length <= 1000 ? text : undefined;
  }
}

/** `{ key: value }` for the primary key written as `text` (as in a URL), or `undefined` if it cannot be one. */
export function keyWhere(shown: ShownFlow, text: string): Record<string, unknown> | undefined {
  const parts = shown.keys.length === 1 ? [text] : text.split(COMPOSITE_SEPARATOR);
  if (parts.length !== shown.keys.length) return undefined;
  const where: Record<string, unknown> = {};
  for (let i = 0; i < parts.length; i++) {
    const value = parseKeyPart(shown.keys[i]!, parts[i]!);
    if (value === undefined) return undefined;
    where[shown.keys[i]!.name] = value;
  }
  return where;
}

/** The entity whose key is written `text`, loaded in `em`, or `undefined`. */
export async function loadEntity(em: EntityManager, shown: ShownFlow, text: string): Promise<object | undefined> {
  const where = keyWhere(shown, text);
  if (where === undefined) return undefined;
  return (await em.findOne(shown.entity, where as never)) ?? undefined;
}

/** The WHERE for "in state `value`": a NULL column counts as the State's default. */
function inState(shown: ShownFlow, value: StateValue): Record<string, unknown> {
  return value === shown.state.default ? { $or: [{ [shown.field]: value }, { [shown.field]: null }] } : { [shown.field]: value };
}

export interface StateCount {
  /** The declared value, or the text of an undeclared one found in the table. */
  readonly value: StateValue;
  readonly declared: boolean;
  readonly count: number;
}

/** How many entities are in each state (one `group by` query); every declared value is listed, undeclared ones found are added. */
export async function countByState(em: EntityManager, shown: ShownFlow): Promise<StateCount[]> {
  const column = shown.meta.properties[shown.field]!.fieldNames?.[0] ?? shown.field;
  const rows = (await (em as SqlEntityManager)
    .createQueryBuilder(shown.entity as never, 'e')
    .select([shown.field, raw('count(*) as n')] as never)
    .groupBy(shown.field as never)
    .execute('all', false)) as unknown as Array<Record<string, unknown>>;
  const counts = new Map<StateValue, number>(shown.state.values.map((v: StateValue) => [v, 0]));
  const undeclared = new Map<string, number>();
  for (const row of rows) {
    const stored = row[column] ?? row[shown.field] ?? null;
    const n = Number(row.n);
    const value = stored === null ? shown.state.default : shown.state.values.find((v: StateValue) => String(v) === String(stored));
    if (value !== undefined) {
      counts.set(value, counts.get(value)! + n);
    } else {
      const text = stored === null ? 'NULL' : String(stored);
      undeclared.set(text, (undeclared.get(text) ?? 0) + n);
    }
  }
  return [
    ...[...counts].map(([value, count]) => ({ value, declared: true, count })),
    ...[...undeclared].map(([value, count]) => ({ value, declared: false, count })),
  ];
}

/** The number of entities in state `value`. */
export function countInState(em: EntityManager, shown: ShownFlow, value: StateValue): Promise<number> {
  return em.count(shown.entity, inState(shown, value) as never);
}

/** Where a list page starts: before a key (single-column keys, newest first), or at a page number (composite keys). */
export type Cursor = { readonly before: unknown } | { readonly page: number };

/**
 * One page of the entities in state `value`, newest first (by primary key, descending): keyset
 * pagination (`before` a key) for a single-column key, pages by number for a composite one.
 * `more` says whether an older page exists.
 */
export async function listInState(em: EntityManager, shown: ShownFlow, value: StateValue, cursor: Cursor | undefined, pageSize: number): Promise<{ entities: object[]; more: boolean }> {
  const where = inState(shown, value);
  const key = shown.keys[0]!.name;
  const keyset = shown.keys.length === 1;
  if (keyset && cursor !== undefined && 'before' in cursor) where[key] = { $lt: cursor.before };
  const page = !keyset && cursor !== undefined && 'page' in cursor ? cursor.page : 0;
  const found = await em.find(shown.entity, where as never, {
    orderBy: Object.fromEntries(shown.keys.map((k) => [k.name, 'desc'])) as never,
    limit: pageSize + 1,
    ...(page > 0 ? { offset: page * pageSize } : {}),
  });
  return { entities: found.slice(0, pageSize), more: found.length > pageSize };
}

/** One history row as the entity page shows it. */
export interface HistoryRow {
  readonly id: unknown;
  readonly transition: string;
  readonly source: string;
  readonly target: string;
  readonly actor: string | null;
  readonly createdAt: Date | string | null;
}

/** At most this many history rows are shown on an entity's page (the latest ones). */
export const HISTORY_LIMIT = 500;

function historyWhere(shown: ShownFlow, entity: object): Record<string, unknown> {
  return { entity: shown.meta.className, entityId: keyOf(entity), field: shown.field };
}

/**
 * The entity's history for this flow's field, oldest first: the latest `HISTORY_LIMIT` rows, and
 * how many there are in all. Uses the log's `(entity, entityId)` index.
 */
export async function historyOf(em: EntityManager, shown: ShownFlow, entity: object): Promise<{ rows: HistoryRow[]; total: number } | undefined> {
  if (shown.log === undefined) return undefined;
  const where = historyWhere(shown, entity);
  const latest = (await em.find(shown.log, where as never, { orderBy: { id: 'desc' } as never, limit: HISTORY_LIMIT, disableIdentityMap: true })) as unknown as HistoryRow[];
  const total = latest.length < HISTORY_LIMIT ? latest.length : await em.count(shown.log, where as never);
  return { rows: latest.reverse(), total };
}

/** The id of the entity's latest history row for this flow, as text (`''` when it has none or the flow keeps no history). */
export async function lastHistoryId(em: EntityManager, shown: ShownFlow, entity: object): Promise<string> {
  if (shown.log === undefined) return '';
  const [row] = (await em.find(shown.log, historyWhere(shown, entity) as never, { orderBy: { id: 'desc' } as never, limit: 1, fields: ['id'] as never, disableIdentityMap: true })) as unknown as HistoryRow[];
  return row === undefined ? '' : String(row.id);
}
