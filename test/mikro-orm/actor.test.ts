/**
 * `persistTransitions`' `actor(flow, user)` receives the user of the `actingAs` the call was made
 * in (README, Permissions and actingAs), for the outermost call and the ones it chains.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EntityManager } from '@mikro-orm/core';
import { actingAs, TransitionNotAllowed } from 'transitional';
import { history, persistTransitions } from 'transitional/mikro-orm';
import { Ticket, stage, createDatabase, databaseKinds, seedTicket, type Database, type Stage } from './fixtures.ts';

interface User {
  readonly name: string;
  readonly roles: readonly string[];
}

class Desk {
  constructor(
    readonly ticket: Ticket,
    readonly em: EntityManager,
  ) {}
  @stage.getter() getStage() {
    return this.ticket.stage as Stage;
  }
  @stage.setter() setStage(value: Stage) {
    this.ticket.stage = value;
  }
  @stage.transition({ source: 'open', target: 'assigned', permission: (_flow: Desk, user: User | undefined) => user?.roles.includes('agent') === true })
  async assign() {
    await this.resolve();
  }
  @stage.transition({ source: 'assigned', target: 'resolved' })
  async resolve() {}
}
persistTransitions(stage, Desk, { em: (f) => f.em, entity: (f) => f.ticket, field: 'stage', actor: (_flow, user: User | undefined) => user?.name ?? 'system' });

const { kinds, missing } = databaseKinds();
if (missing !== undefined) test('the databases are available under CI', () => assert.fail(missing));

for (const kind of kinds) {
  describe(`actor(flow, user) on ${kind}`, () => {
    let db: Database;
    before(async () => {
      db = await createDatabase(kind);
    });
    after(async () => {
      await db?.dispose();
    });

    test('history rows name the acting user, for the call and its chain; outside actingAs the actor sees undefined', async () => {
      const ann: User = { name: 'ann', roles: ['agent'] };
      const id = await seedTicket(db);
      const em = db.fork();
      const ticket = await em.findOneOrFail(Ticket, id);
      await actingAs(ann, () => new Desk(ticket, em).assign());
      const other = await seedTicket(db);
      const em2 = db.fork();
      const t2 = await em2.findOneOrFail(Ticket, other);
      await new Desk(t2, em2).assign();
      const rows = async (i: number) => (await history(db.fork(), await db.fork().findOneOrFail(Ticket, i))).map((r) => `${r.transition}:${r.actor}`);
      assert.deepEqual(await rows(id), ['assign:ann', 'resolve:ann']);
      assert.deepEqual(await rows(other), ['assign:system', 'resolve:system']);
    });

    test('a permission refusing the acting user writes nothing', async () => {
      const bob: User = { name: 'bob', roles: [] };
      const id = await seedTicket(db);
      const em = db.fork();
      const ticket = await em.findOneOrFail(Ticket, id);
      await assert.rejects(actingAs(bob, () => new Desk(ticket, em).assign()), (e) => e instanceof TransitionNotAllowed && e.reason === 'permission');
      assert.equal(ticket.stage, 'open');
      assert.equal((await db.fork().findOneOrFail(Ticket, id)).stage, 'open');
      assert.deepEqual(await history(db.fork(), ticket), []);
    });
  });
}
