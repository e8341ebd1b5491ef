/**
 * What a consumer writes with `transitional/mikro-orm`: an entity, a persisted flow, history.
 * Compiled and run by test/package/consumer.test.ts against the packed package (see flows.ts),
 * on an in-memory SQLite database.
 */
import { defineEntity, MikroORM, p, type EntityManager, type InferEntity } from '@mikro-orm/core';
import { State, TransitionNotAllowed, type HookEvent } from 'transitional';
import { ConcurrentTransition, history, persistTransitions, sqliteOptions, TransitionLog, TransitionNotPersisted, type PersistOptions } from 'transitional/mikro-orm';

export const Order = defineEntity({
  name: 'Order',
  properties: {
    id: p.integer().primary(),
    status: p.string(),
    paidWith: p.string().nullable(),
  },
});
export type Order = InferEntity<typeof Order>;

export const status = new State(['placed', 'paid', 'shipped'] as const, { default: 'placed', name: 'status' });
export type Status = (typeof status.values)[number];

export class OrderFlow {
  readonly events: string[] = [];
  constructor(
    readonly order: Order,
    readonly em: EntityManager,
  ) {}

  @status.getter() getStatus() {
    return this.order.status as Status;
  }
  @status.setter() setStatus(value: Status) {
    this.order.status = value;
  }

  @status.transition({ source: 'placed', target: 'paid', conditions: [(flow: OrderFlow) => flow.order.paidWith === null] })
  async pay(method: string) {
    this.order.paidWith = method;
  }

  @status.transition({ source: 'paid', target: 'shipped' })
  async ship() {}

  @status.onSuccess() noted(event: HookEvent<Status, OrderFlow>) {
    this.events.push(`${event.source}->${event.target}`);
  }
}

const options: PersistOptions<OrderFlow> = { em: (flow) => flow.em, entity: (flow) => flow.order, actor: () => 'consumer' };
persistTransitions(status, OrderFlow, options);

/** Pays and ships an order, tries to ship it again, and reads its history. */
export async function runPersisted(): Promise<Record<string, unknown>> {
  const orm = await MikroORM.init({ ...sqliteOptions(':memory:'), entities: [Order, TransitionLog] });
  try {
    await orm.schema.create();
    const em = orm.em.fork();
    const order = em.create(Order, { id: 1, status: 'placed', paidWith: null });
    await em.flush();
    const flow = new OrderFlow(order, em);
    await flow.pay('card');
    await flow.ship();
    let refused = 'none';
    try {
      await flow.ship();
    } catch (error) {
      if (error instanceof TransitionNotAllowed) refused = error.reason;
      else if (error instanceof ConcurrentTransition || error instanceof TransitionNotPersisted) refused = error.name;
    }
    const rows: TransitionLog[] = await history(em, order);
    const stored = await orm.em.fork().findOneOrFail(Order, 1);
    return {
      status: stored.status,
      paidWith: stored.paidWith,
      refused,
      events: flow.events,
      history: rows.map((row) => `${row.transition} ${row.source}->${row.target} by ${row.actor}`),
    };
  } finally {
    await orm.close();
  }
}
