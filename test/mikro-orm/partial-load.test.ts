/**
 * An entity loaded without its state column (`fields: ['id']`): the call must read the real state
 * from the database (under the row lock) rather than the State's default, and never report a
 * conflict that did not happen. Without a `field` option it cannot know the column: a clear
 * TypeError, nothing written. Found by the django-fsm port (issue 11).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EntityManager } from '@mikro-orm/core';
import { TransitionNotAllowed } from 'transitional';
import { persistTransitions } from 'transitional/mikro-orm';
import { Ticket, stage, createDatabase, databaseKinds, loadTicket, seedTicket, type Database, type Stage } from './fixtures.ts';

/** Persisted with `field`: the column can be loaded when the entity lacks it. */
class Named {
  constructor(
    readonly ticket: Ticket,
    readonly em: EntityManager,
  ) {}
  @stage.getter() getStage() {
    return this.ticket.stage as Stage | undefined;
  }
  @stage.setter() setStage(value: Stage) {
    this.ticket.stage = value;
  }
  @stage.transition({ source: 'assigned', target: 'resolved' })
  async resolve() {}
  @stage.transition({ source: 'open', target: 'assigned' })
  async assign() {}
}
persistTransitions(stage, Named, { em: (f) => f.em, entity: (f) => f.ticket, field: 'stage' });

/** Persisted without `field`: the property is learned from the first change. */
class Learned {
  constructor(
    readonly ticket: Ticket,
    readonly em: EntityManager,
  ) {}
  @stage.getter() getStage() {
    return this.ticket.stage as Stage | undefined;
  }
  @stage.setter() setStage(value: Stage) {
    this.ticket.stage = value;
  }
  @stage.transition({ source: 'assigned', target: 'resolved' })
  async resolve() {}
}
persistTransitions(stage, Learned, { em: (f) => f.em, entity: (f) => f.ticket });

const { kinds, missing } = databaseKinds();
if (missing !== undefined) test('the databases are available under CI', () => assert.fail(missing));

for (const kind of kinds) {
  describe(`an entity loaded without its state column, on ${kind}`, () => {
    let db: Database;
    before(async () => {
      db = await createDatabase(kind);
    });
    after(async () => {
      await db?.dispose();
    });

    test('with `field`, the call takes the row’s state and succeeds (twice: the second from what it wrote)', async () => {
      const id = await seedTicket(db, { stage: 'open' });
      const em = db.fork();
      const ticket = (await em.findOneOrFail(Ticket, id, { fields: ['id'] as never })) as Ticket;
      assert.equal(ticket.stage, undefined);
      const flow = new Named(ticket, em);
      await flow.assign();
      assert.equal(ticket.stage, 'assigned');
      await flow.resolve();
      assert.equal((await loadTicket(db, id)).stage, 'resolved');
    });

    test('with `field`, a source that does not match the real state is refused as such, not as a conflict', async () => {
      const id = await seedTicket(db, { stage: 'open' });
      const em = db.fork();
      const ticket = (await em.findOneOrFail(Ticket, id, { fields: ['id'] as never })) as Ticket;
      await assert.rejects(new Named(ticket, em).resolve(), (error) => error instanceof TransitionNotAllowed && error.state === 'open');
      assert.equal((await loadTicket(db, id)).stage, 'open');
    });

    test('without `field`, a clear TypeError naming the option, and nothing written', async () => {
      const id = await seedTicket(db, { stage: 'assigned' });
      const em = db.fork();
      const ticket = (await em.findOneOrFail(Ticket, id, { fields: ['id'] as never })) as Ticket;
      await assert.rejects(new Learned(ticket, em).resolve(), (error) => error instanceof TypeError && /field/.test(error.message) && /loaded with fields/.test(error.message));
      assert.equal((await loadTicket(db, id)).stage, 'assigned');
    });
  });
}
