/**
 * Type-level tests for `transitional/mikro-orm`'s `TransitionLog`: a short declared type (an
 * interface and an entity schema) that MikroORM's own helpers still understand. Compiled, not run.
 */

import type { EntityManager, InferEntity, Loaded, RequiredEntityData } from '@mikro-orm/core';
import { history, TransitionLog } from 'transitional/mikro-orm';
import type { Equal, Expect } from './type-assert.ts';

declare const em: EntityManager;
declare const ticket: object;

interface MyLog {
  id: number;
  entity: string;
  entityId: string;
  note: string;
}
declare const MyLogEntity: import('@mikro-orm/core').EntitySchema<MyLog>;

export async function rows() {
  const rows = await history(em, ticket);
  const mine = await history(em, ticket, { log: MyLogEntity });
  const found = await em.find(TransitionLog, { entity: 'Ticket', entityId: '1' }, { orderBy: { id: 'asc' } });
  const row = rows[0]!;
  type Checks = [
    Expect<Equal<typeof rows, TransitionLog[]>>,
    Expect<Equal<typeof mine, MyLog[]>>,
    Expect<Equal<InferEntity<typeof TransitionLog>, TransitionLog>>,
    Expect<Equal<typeof found, Loaded<TransitionLog, never, '*', never>[]>>,
    Expect<Equal<typeof row.transition, string>>,
    Expect<Equal<typeof row.createdAt, Date>>,
    Expect<Equal<(typeof row.actor) & {}, string>>,
  ];
  // Rows written by hand need no id and no actor.
  const data: RequiredEntityData<TransitionLog> = { entity: 'Ticket', entityId: '1', field: 'stage', transition: 'assign', source: 'open', target: 'assigned', createdAt: new Date() };
  em.create(TransitionLog, data);
  em.create(TransitionLog, { ...data, actor: 'ann' });
  // @ts-expect-error: createdAt is required
  em.create(TransitionLog, { entity: 'Ticket', entityId: '1', field: 'stage', transition: 'assign', source: 'open', target: 'assigned' });
  // @ts-expect-error: not a property of TransitionLog
  await em.find(TransitionLog, { ticket: 1 });
  return row.id + found.length;
}
