/**
 * Effects after commit and timers on persisted flows, in one process (README, Effects after commit;
 * Timers and durable hooks): afterCommit runs after the database commit, never for a rolled-back
 * call, and units committed inside another wait for it; durable hooks and timers are recorded in
 * the committing transaction and run by `startWorker`. The multi-process cases (workers killed,
 * several workers sharing timers) are in test/workers/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { defineEntity, p, type InferEntity } from '@mikro-orm/sql';
import type { EntityManager } from '@mikro-orm/core';
import { State, type HookEvent } from 'transitional';
import { TransitionLog, history, persistTransitions, startWorker, type Worker } from 'transitional/mikro-orm';
import { createDatabase, databaseKinds, type Database } from './fixtures.ts';

const Order = defineEntity({
  name: 'TimedOrder',
  properties: {
    id: p.integer().primary(),
    stage: p.string(),
    /** Bumped by the expire timer's body: a timer that ran twice would show. */
    expirations: p.integer().default(0),
    note: p.string().nullable(),
  },
});
type Order = InferEntity<typeof Order>;

const stages = ['awaiting', 'paid', 'expired', 'shipped', 'failed'] as const;
type Stage = (typeof stages)[number];
const stage = new State(stages, { name: 'stage', default: 'awaiting' });

/** What the hooks saw, in order (one process: the worker runs here too). */
const seen: string[] = [];
/** How many times the receipt hook must fail before it succeeds. */
let receiptFailures = 0;

class OrderFlow {
  constructor(
    readonly order: Order,
    readonly em: EntityManager,
  ) {}
  @stage.getter() getStage() {
    return this.order.stage as Stage;
  }
  @stage.setter() setStage(value: Stage) {
    this.order.stage = value;
  }
  @stage.transition({ source: 'awaiting', target: 'paid' })
  async pay(fail = false) {
    this.order.note = 'paid';
    if (fail) throw new Error('card declined');
  }
  @stage.transition({ source: 'awaiting', target: 'paid', onError: 'failed' })
  async payOrFail() {
    throw new Error('card declined');
  }
  @stage.transition({ source: 'paid', target: 'shipped' })
  async ship() {}
  @stage.transition({ source: ['paid', 'expired', 'failed'], target: 'awaiting' })
  async reopen() {}
  @stage.transition({ source: 'awaiting', target: 'expired', after: 300 })
  async expire() {
    this.order.expirations++;
  }
  @stage.transition({ source: 'shipped', target: 'paid' })
  async unship() {}
  /** A slower timer, for the tests that must leave the state before it falls due, even on a loaded machine. */
  @stage.transition({ source: 'shipped', target: 'expired', after: 1500 })
  async lose() {
    this.order.expirations++;
  }
  @stage.afterCommit()
  async committed(e: HookEvent<Stage>) {
    // The change is durable: another entity manager reads it.
    const other = await this.em.fork().findOneOrFail(Order, this.order.id);
    seen.push(`afterCommit ${e.transition} ${e.source}>${e.target} db=${other.stage}`);
  }
  @stage.afterCommit({ transitions: ['pay'], durable: true })
  async receipt(e: HookEvent<Stage>) {
    seen.push(`receipt ${e.transition} ${e.source}>${e.target} attempt=${e.attempt} order=${this.order.id}`);
    if (receiptFailures > 0) {
      receiptFailures--;
      throw new Error('mail server down');
    }
  }
}
persistTransitions(stage, OrderFlow, { em: (f) => f.em, entity: (f) => f.order, field: 'stage', flow: (order: Order, em) => new OrderFlow(order, em) });

/** A flow persisted in the same entity manager, called from an OrderFlow body: a nested unit. */
class Parcel {
  constructor(
    readonly order: Order,
    readonly em: EntityManager,
  ) {}
  @stage.getter() getStage() {
    return this.order.stage as Stage;
  }
  @stage.setter() setStage(value: Stage) {
    this.order.stage = value;
  }
  @stage.transition({ source: 'paid', target: 'shipped' })
  async ship(then?: OrderFlow) {
    if (then !== undefined) await then.pay();
  }
  @stage.transition({ source: 'paid', target: 'shipped' })
  async shipThenFail(other: OrderFlow) {
    await other.pay();
    throw new Error('truck broke down');
  }
  @stage.afterCommit()
  committed(e: HookEvent<Stage>) {
    seen.push(`parcel afterCommit ${e.transition}`);
  }
}
persistTransitions(stage, Parcel, { em: (f) => f.em, entity: (f) => f.order, field: 'stage' });

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const { kinds, missing } = databaseKinds();
if (missing !== undefined) test('the databases are available under CI', () => assert.fail(missing));

for (const kind of kinds) {
  describe(`effects after commit and timers on ${kind}`, { timeout: 120_000 }, () => {
    let db: Database;
    let nextId = 1;
    const create = async (data: Partial<Order> = {}) => {
      const em = db.fork();
      const order = em.create(Order, { id: nextId++, stage: 'awaiting', ...data } as never);
      await em.flush();
      return order.id;
    };
    const load = async (id: number) => {
      const em = db.fork();
      return { em, order: await em.findOneOrFail(Order, id) };
    };

    before(async () => {
      db = await createDatabase(kind, { entities: [Order, TransitionLog] });
    });
    after(async () => {
      await db?.dispose();
    });

    test('afterCommit runs once the change is in the database; never for a rolled-back call or an onError move', async () => {
      seen.length = 0;
      const id = await create();
      const { em, order } = await load(id);
      const flow = new OrderFlow(order, em);
      await flow.pay();
      assert.deepEqual(seen, ['afterCommit pay awaiting>paid db=paid']);
      seen.length = 0;
      await flow.reopen();
      await assert.rejects(flow.pay(true), /card declined/);
      await assert.rejects(flow.payOrFail(), /card declined/);
      assert.equal(order.stage, 'failed');
      assert.deepEqual(seen, ['afterCommit reopen paid>awaiting db=awaiting']);
    });

    test('a unit committed inside another runs its afterCommit after the outer commit, and never if the outer fails', async () => {
      seen.length = 0;
      const a = await create({ stage: 'paid' });
      const b = await create();
      const em = db.fork();
      const parcel = new Parcel(await em.findOneOrFail(Order, a), em);
      const other = new OrderFlow(await em.findOneOrFail(Order, b), em);
      await parcel.ship(other);
      assert.deepEqual(seen, ['parcel afterCommit ship', 'afterCommit pay awaiting>paid db=paid']);

      seen.length = 0;
      const c = await create({ stage: 'paid' });
      const d = await create();
      const em2 = db.fork();
      const parcel2 = new Parcel(await em2.findOneOrFail(Order, c), em2);
      const other2 = new OrderFlow(await em2.findOneOrFail(Order, d), em2);
      await assert.rejects(parcel2.shipThenFail(other2), /truck broke down/);
      assert.deepEqual(seen, []);
      assert.equal((await load(d)).order.stage, 'awaiting');
    });

    test('inside the caller’s own transaction: afterCommit waits for its commit, and never runs if it rolls back', async () => {
      seen.length = 0;
      const id = await create();
      const em = db.fork();
      await em.transactional(async (tem) => {
        await new OrderFlow(await tem.findOneOrFail(Order, id), tem).pay();
        assert.deepEqual(seen, []);
      });
      await until('the afterCommit hook', () => seen.length === 1);
      assert.deepEqual(seen, ['afterCommit pay awaiting>paid db=paid']);

      seen.length = 0;
      const id2 = await create();
      const em2 = db.fork();
      await assert.rejects(
        em2.transactional(async (tem) => {
          await new OrderFlow(await tem.findOneOrFail(Order, id2), tem).pay();
          throw new Error('changed my mind');
        }),
        /changed my mind/,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(seen, []);
    });

    describe('with a worker', () => {
      let worker: Worker | undefined;
      before(async () => {
        worker = await startWorker(db.orm, { pollInterval: 100, onError: () => {} });
      });
      after(async () => {
        await worker?.stop();
      });

      test('a durable hook runs in the worker, retried until it succeeds (event.attempt counts from 1); a rolled-back call leaves none', async () => {
        // Receipts of the orders paid by the tests above run first: wait for them.
        await until('earlier receipts', () => seen.filter((s) => s.startsWith('receipt')).length >= 3);
        seen.length = 0;
        receiptFailures = 1;
        const id = await create();
        const { em, order } = await load(id);
        const failed = await create();
        const f = await load(failed);
        await assert.rejects(new OrderFlow(f.order, f.em).pay(true), /card declined/);
        await new OrderFlow(order, em).pay();
        const receipts = () => seen.filter((s) => s.startsWith('receipt'));
        await until('the receipt hook to succeed', () => receipts().length === 2);
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.deepEqual(receipts(), [`receipt pay awaiting>paid attempt=1 order=${id}`, `receipt pay awaiting>paid attempt=2 order=${id}`]);
      });

      test('a timer fires once, after its delay, with one history row', async () => {
        const id = await create();
        // Enter the timed state through a transition (a timer starts with a committed change).
        const { em, order } = await load(id);
        const flow = new OrderFlow(order, em);
        await flow.pay();
        const reopened = Date.now();
        await flow.reopen();
        await until('the timer', async () => (await load(id)).order.stage === 'expired');
        assert.ok(Date.now() - reopened >= 300, 'not before its delay');
        await new Promise((resolve) => setTimeout(resolve, 600));
        const expired = (await load(id)).order;
        assert.equal(expired.expirations, 1);
        assert.deepEqual((await history(db.fork(), expired)).map((r) => r.transition), ['pay', 'reopen', 'expire']);
      });

      test('a timer whose entity left the state does nothing', async () => {
        const id = await create();
        const { em, order } = await load(id);
        const flow = new OrderFlow(order, em);
        await flow.pay();
        await flow.ship(); // the lose() timer, due in 1.5 s
        await flow.unship();
        await new Promise((resolve) => setTimeout(resolve, 2500));
        const left = (await load(id)).order;
        assert.equal(left.stage, 'paid');
        assert.equal(left.expirations, 0);
      });

      test('a timer of an earlier visit does not fire in a later visit of the same state; the later one fires', async () => {
        const id = await create();
        const { em, order } = await load(id);
        const flow = new OrderFlow(order, em);
        await flow.pay();
        await flow.ship(); // timer 1, due in 1.5 s
        await flow.unship();
        await new Promise((resolve) => setTimeout(resolve, 200));
        await flow.ship(); // timer 2, due 1.5 s later, after timer 1
        await until('a timer', async () => (await load(id)).order.stage === 'expired');
        await new Promise((resolve) => setTimeout(resolve, 600));
        const final = (await load(id)).order;
        assert.equal(final.expirations, 1);
        assert.deepEqual((await history(db.fork(), final)).map((r) => r.transition), ['pay', 'ship', 'unship', 'ship', 'lose']);
      });
    });
  });
}

test('persistTransitions refuses a class with timers or durable hooks but no flow factory', () => {
  class NoFactory {
    constructor(readonly order: Order) {}
    @stage.transition({ source: 'awaiting', target: 'expired', after: 1000 })
    async expire() {}
  }
  assert.throws(
    () => persistTransitions(stage, NoFactory, { em: () => ({}) as EntityManager, entity: (f) => f.order }),
    (e) => e instanceof TypeError && /the timer \(after\) of expire\(\) runs in a worker/.test(e.message) && /flow: \(entity, em\) => new NoFactory/.test(e.message),
  );
  class NoFactoryDurable {
    constructor(readonly order: Order) {}
    @stage.transition({ source: 'awaiting', target: 'paid' })
    async pay() {}
    @stage.afterCommit({ durable: true })
    async mail() {}
  }
  assert.throws(() => persistTransitions(stage, NoFactoryDurable, { em: () => ({}) as EntityManager, entity: (f) => f.order }), /mail\(\) \(durable\) runs in a worker/);
});
