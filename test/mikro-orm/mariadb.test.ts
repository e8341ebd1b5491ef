/**
 * What is particular to MariaDB/MySQL (README, Persisting with MikroORM: the same code runs there as on SQLite and
 * PostgreSQL). Runs when MARIADB_URL is set (required under CI=true).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConcurrentTransition, history } from 'transitional/mikro-orm';
import type { MikroORM } from '@mikro-orm/core';
import { Ticket, TicketFlow, connect, createDatabase, databaseKinds, loadTicket, type Database } from './fixtures.ts';

const { kinds, missing } = databaseKinds();
if (missing !== undefined && !kinds.includes('mariadb')) {
  test('MariaDB is available under CI', () => assert.fail(missing));
}

if (kinds.includes('mariadb')) {
  describe('transitional/mikro-orm on MariaDB', () => {
    let db: Database;
    /** The same database through a client without CLIENT_FOUND_ROWS: UPDATE reports rows changed, not rows matched. */
    let changedRows: { fork(): ReturnType<Database['fork']> };
    let other: MikroORM;
    before(async () => {
      db = await createDatabase('mariadb');
      other = await connect(db.spec, { extra: { driverOptions: { flags: '-FOUND_ROWS' } } });
      changedRows = { fork: () => other.em.fork() };
    });
    after(async () => {
      await other?.close(true);
      await db?.dispose();
    });

    test('the client reports rows changed, not matched, when CLIENT_FOUND_ROWS is off (what the next test relies on)', async () => {
      const em = changedRows.fork();
      const ticket = em.create(Ticket, { title: 'flags', stage: 'open' } as never);
      await em.flush();
      const result = (await em.getConnection().execute('update `ticket` set `stage` = ? where `id` = ?', ['open', ticket.id], 'run')) as { affectedRows: number };
      assert.equal(result.affectedRows, 0, 'a row whose value does not change counts 0 without CLIENT_FOUND_ROWS');
    });

    test('the compare-and-set finds its row whether or not the client sets CLIENT_FOUND_ROWS', async () => {
      for (const variant of [db, changedRows]) {
        const em = variant.fork();
        const ticket = em.create(Ticket, { title: 'found rows', stage: 'open' } as never);
        await em.flush();
        const flow = new TicketFlow(ticket, em, 'ann');
        await flow.assign('ann');
        await flow.resolve('done');
        const stored = await loadTicket(db, ticket.id);
        assert.deepEqual([stored.stage, stored.counter], ['resolved', 2]);
        assert.deepEqual((await history(db.fork(), stored)).map((r) => r.target), ['assigned', 'resolved']);
      }
    });

    test('without CLIENT_FOUND_ROWS a stale entity manager still gets ConcurrentTransition and its body does not run', async () => {
      const seed = changedRows.fork();
      const ticket = seed.create(Ticket, { title: 'stale', stage: 'open' } as never);
      await seed.flush();
      const em1 = changedRows.fork();
      const em2 = changedRows.fork();
      const t1 = await em1.findOneOrFail(Ticket, ticket.id);
      const t2 = await em2.findOneOrFail(Ticket, ticket.id);
      await new TicketFlow(t1, em1).assign('ann');
      await assert.rejects(
        new TicketFlow(t2, em2).assignDuring('bea', () => assert.fail('the body of a stale transition must not run')),
        (error: unknown) => error instanceof ConcurrentTransition && error.expected === 'open' && error.actual === 'assigned',
      );
      assert.deepEqual([(await loadTicket(db, ticket.id)).assignee, t2.stage], ['ann', 'open']);
    });

    test('without CLIENT_FOUND_ROWS two racing entity managers: the row is locked before the body, one body runs, the other gets ConcurrentTransition', async () => {
      const seed = changedRows.fork();
      const ticket = seed.create(Ticket, { title: 'race', stage: 'open' } as never);
      await seed.flush();
      const ems = [changedRows.fork(), changedRows.fork()];
      const tickets = await Promise.all(ems.map((em) => em.findOneOrFail(Ticket, ticket.id)));
      let bodies = 0;
      const results = await Promise.allSettled(
        tickets.map((t, i) =>
          new TicketFlow(t, ems[i]!).assignDuring(`agent${i}`, async () => {
            bodies++;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }),
        ),
      );
      assert.equal(bodies, 1, 'the loser waits on the row lock, then fails before its body');
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      assert.ok(results.some((r) => r.status === 'rejected' && r.reason instanceof ConcurrentTransition));
      assert.equal((await history(db.fork(), await loadTicket(db, ticket.id))).length, 1);
    });
  });
}
