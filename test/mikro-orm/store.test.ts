/**
 * transitional/mikro-orm against real databases: a SQLite file, PostgreSQL when DATABASE_URL is
 * set and MariaDB when MARIADB_URL is set (both required under CI=true). README, Persisting with MikroORM.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { UniqueConstraintViolationException } from '@mikro-orm/sql';
import { TransitionNotAllowed } from 'transitional';
import { ConcurrentTransition, TransitionNotPersisted, history, type TransitionLog } from 'transitional/mikro-orm';
import { Comment, Ticket, TicketFlow, stage, createDatabase, databaseKinds, loadTicket, persisted, seedTicket, type Database } from './fixtures.ts';
import { killOwnBackend } from '../support/backends.ts';

const { kinds, missing } = databaseKinds();
if (missing !== undefined) {
  test('the databases are available under CI', () => assert.fail(missing));
}

/** The history rows as plain tuples. */
async function rowsOf(db: Database, id: number): Promise<Array<[string, string, string, string | null]>> {
  const em = db.fork();
  const ticket = await em.findOneOrFail(Ticket, id);
  return (await history(em, ticket)).map((r: TransitionLog) => [r.transition, r.source, r.target, r.actor ?? null]);
}

async function commentsOf(db: Database, id: number): Promise<string[]> {
  return (await db.fork().find(Comment, { ticketId: id }, { orderBy: { id: 'asc' } })).map((c) => c.text);
}

for (const kind of kinds) {
  describe(`transitional/mikro-orm on ${kind}`, () => {
    let db: Database;
    before(async () => {
      db = await createDatabase(kind);
    });
    after(async () => {
      await db?.dispose();
    });

    test('a transition commits the body’s changes, the state and one history row', async () => {
      const id = await seedTicket(db);
      const em = db.fork();
      const ticket = await em.findOneOrFail(Ticket, id);
      const flow = new TicketFlow(ticket, em, 'bob');
      await persisted(flow.assign('ann'));
      assert.equal(ticket.stage, 'assigned');

      const stored = await loadTicket(db, id);
      assert.equal(stored.stage, 'assigned');
      assert.equal(stored.assignee, 'ann');
      assert.equal(stored.counter, 1);

      const rows = await history(db.fork(), stored);
      assert.equal(rows.length, 1);
      const row = rows[0]!;
      assert.equal(row.entity, 'Ticket');
      assert.equal(row.entityId, String(id));
      assert.equal(row.field, 'stage');
      assert.equal(row.transition, 'assign');
      assert.equal(row.source, 'open');
      assert.equal(row.target, 'assigned');
      assert.equal(row.actor, 'bob');
      assert.ok(row.createdAt instanceof Date && Math.abs(row.createdAt.getTime() - Date.now()) < 60_000);

      // The same entity manager goes on from what it wrote.
      await flow.resolve('fixed');
      assert.equal((await loadTicket(db, id)).stage, 'resolved');
      assert.deepEqual(await rowsOf(db, id), [
        ['assign', 'open', 'assigned', 'bob'],
        ['resolve', 'assigned', 'resolved', 'bob'],
      ]);
    });

    test('a chain of transitions is one transaction with one history row per change, oldest first', async () => {
      const id = await seedTicket(db);
      const em = db.fork();
      const ticket = await em.findOneOrFail(Ticket, id);
      await new TicketFlow(ticket, em).fix('ann', 'rebooted');
      const stored = await loadTicket(db, id);
      assert.deepEqual([stored.stage, stored.assignee, stored.resolution, stored.counter], ['closed', 'ann', 'rebooted', 2]);
      assert.deepEqual(await rowsOf(db, id), [
        ['fix', 'open', 'assigned', null],
        ['resolve', 'assigned', 'resolved', null],
        ['close', 'resolved', 'closed', null],
      ]);
    });

    test('a body that throws persists nothing and the entity is restored in memory', async () => {
      const id = await seedTicket(db, { stage: 'assigned', assignee: 'ann' });
      const em = db.fork();
      const ticket = await em.findOneOrFail(Ticket, id);
      const flow = new TicketFlow(ticket, em);
      await assert.rejects(persisted(flow.resolveBadly('guessed')), { message: 'the resolution service is down' });
      assert.equal(ticket.stage, 'assigned');
      assert.equal(ticket.resolution, null);
      assert.equal(ticket.priority, 'normal');

      const stored = await loadTicket(db, id);
      assert.deepEqual([stored.stage, stored.resolution, stored.priority], ['assigned', null, 'normal']);
      assert.deepEqual(await rowsOf(db, id), []);

      // The undone changes do not leak into the next flush.
      await flow.resolve('fixed');
      const after = await loadTicket(db, id);
      assert.deepEqual([after.stage, after.resolution, after.priority], ['resolved', 'fixed', 'normal']);
      assert.deepEqual(await rowsOf(db, id), [['resolve', 'assigned', 'resolved', null]]);
    });

    test('entities the failed body persisted are not inserted, now or by a later flush', async () => {
      const id = await seedTicket(db);
      const em = db.fork();
      const ticket = await em.findOneOrFail(Ticket, id);
      const flow = new TicketFlow(ticket, em);
      let flushed: Comment | undefined;
      await assert.rejects(
        flow.assignDuring('ann', async (f) => {
          flushed = f.em.create(Comment, { ticketId: id, text: 'flushed inside' });
          await f.em.flush();
          f.em.create(Comment, { ticketId: id, text: 'pending' });
          throw new Error('changed my mind');
        }),
        { message: 'changed my mind' },
      );
      assert.equal(ticket.stage, 'open');
      // The comment inserted inside the rolled-back transaction is forgotten, not a phantom.
      assert.ok(flushed !== undefined && typeof flushed.id === 'number');
      assert.equal(em.getUnitOfWork().getById(Comment, flushed.id), undefined);
      assert.equal(await em.findOne(Comment, flushed.id), null);
      assert.deepEqual(await commentsOf(db, id), []);
      await em.flush();
      assert.deepEqual(await commentsOf(db, id), []);
      await flow.assignDuring('ann', (f) => f.em.create(Comment, { ticketId: id, text: 'kept' }));
      assert.deepEqual(await commentsOf(db, id), ['kept']);
      assert.equal((await loadTicket(db, id)).stage, 'assigned');
    });

    test('onError commits just the error state and its history row', async () => {
      const id = await seedTicket(db);
      const em = db.fork();
      const ticket = await em.findOneOrFail(Ticket, id);
      const flow = new TicketFlow(ticket, em, 'bob');
      await assert.rejects(persisted(flow.assignRisky('ann')), { message: 'could not notify ann' });
      assert.equal(ticket.stage, 'failed');
      assert.equal(ticket.assignee, null);
      assert.equal(ticket.priority, 'normal');
      const stored = await loadTicket(db, id);
      assert.deepEqual([stored.stage, stored.assignee, stored.priority], ['failed', null, 'normal']);
      assert.deepEqual(await rowsOf(db, id), [['assignRisky', 'open', 'failed', 'bob']]);
      // The entity manager knows the row holds 'failed' now: flushing writes nothing more.
      await em.flush();
      assert.equal((await loadTicket(db, id)).stage, 'failed');
    });

    test('waiters wake for the error state an onError transition committed (known seam bug: runUnitOfWork drops the kept move)', async () => {
      const id = await seedTicket(db);
      const em = db.fork();
      const flow = new TicketFlow(await em.findOneOrFail(Ticket, id), em);
      const woke = stage.waitFor(flow, 'failed').then(() => 'woke');
      await assert.rejects(persisted(flow.assignRisky('ann')), { message: 'could not notify ann' });
      assert.equal(stage.get(flow), 'failed');
      const timeout = new Promise((resolve) => setTimeout(resolve, 200, 'still waiting')).then(String);
      assert.equal(await Promise.race([woke, timeout]), 'woke');
    });

    test('TransitionNotAllowed arrives as a rejection and nothing is written', async () => {
      const id = await seedTicket(db);
      const em = db.fork();
      const ticket = await em.findOneOrFail(Ticket, id);
      await assert.rejects(persisted(new TicketFlow(ticket, em).close()), (error: unknown) => {
        assert.ok(error instanceof TransitionNotAllowed);
        assert.equal(error.transition, 'close');
        assert.equal(error.state, 'open');
        assert.equal(error.reason, 'source');
        return true;
      });
      assert.equal(ticket.stage, 'open');
      assert.equal((await loadTicket(db, id)).stage, 'open');
      assert.deepEqual(await rowsOf(db, id), []);
    });

    test('two entity managers race from the same state: one commits, the other rejects ConcurrentTransition', async () => {
      const id = await seedTicket(db);
      const em1 = db.fork();
      const em2 = db.fork();
      const t1 = await em1.findOneOrFail(Ticket, id);
      const t2 = await em2.findOneOrFail(Ticket, id);
      const results = await Promise.allSettled([new TicketFlow(t1, em1, 'one').assign('ann'), new TicketFlow(t2, em2, 'two').assign('bea')]);
      const won = results.findIndex((r) => r.status === 'fulfilled');
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const lost = results[1 - won] as PromiseRejectedResult;
      assert.ok(lost.reason instanceof ConcurrentTransition, String(lost.reason));
      assert.equal(lost.reason.entity, 'Ticket');
      assert.equal(lost.reason.id, id);
      assert.equal(lost.reason.field, 'stage');
      assert.equal(lost.reason.expected, 'open');
      assert.equal(lost.reason.actual, 'assigned');
      assert.match(lost.reason.message, /Ticket 1?\d*: assign\(\) expected stage "open" but the database has "assigned"/);

      const [winner, loser] = won === 0 ? [t1, t2] : [t2, t1];
      assert.equal(winner.stage, 'assigned');
      assert.equal(loser.stage, 'open');
      assert.equal(loser.assignee, null);
      assert.equal(loser.counter, 0);
      const stored = await loadTicket(db, id);
      assert.deepEqual([stored.stage, stored.assignee, stored.counter], ['assigned', won === 0 ? 'ann' : 'bea', 1]);
      assert.deepEqual(await rowsOf(db, id), [['assign', 'open', 'assigned', won === 0 ? 'one' : 'two']]);
    });

    test('a stale entity manager loses even when the other committed long before', async () => {
      const id = await seedTicket(db);
      const em1 = db.fork();
      const em2 = db.fork();
      const t1 = await em1.findOneOrFail(Ticket, id);
      const t2 = await em2.findOneOrFail(Ticket, id);
      await new TicketFlow(t1, em1).fix('ann', 'done');
      await assert.rejects(new TicketFlow(t2, em2).assignDuring('bea', () => assert.fail('the body of a stale transition must not run')), {
        name: 'ConcurrentTransition',
        expected: 'open',
        actual: 'closed',
      });
      assert.equal(t2.stage, 'open');
      // After a refresh it sees the real state and the usual rules apply.
      await em2.refresh(t2);
      await assert.rejects(persisted(new TicketFlow(t2, em2).assign('bea')), TransitionNotAllowed);
      assert.equal((await rowsOf(db, id)).length, 3);
    });

    test('two ORMs (separate connections) race: exactly one winner', async () => {
      const other = await db.reopen();
      const id = await seedTicket(db);
      const em1 = db.fork();
      const em2 = other.em.fork();
      const t1 = await em1.findOneOrFail(Ticket, id);
      const t2 = await em2.findOneOrFail(Ticket, id);
      const results = await Promise.allSettled([new TicketFlow(t1, em1).assign('ann'), new TicketFlow(t2, em2).assign('bea')]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      assert.ok(results.some((r) => r.status === 'rejected' && r.reason instanceof ConcurrentTransition));
      assert.equal((await rowsOf(db, id)).length, 1);
      assert.equal((await loadTicket(db, id)).counter, 1);
    });

    test('an entity that is new, detached, from another entity manager or deleted gives a clear error', async () => {
      const em = db.fork();
      const fresh = em.create(Ticket, { title: 'new', stage: 'open' } as never);
      await assert.rejects(persisted(new TicketFlow(fresh, em).assign('ann')), (error: unknown) => {
        assert.ok(error instanceof TransitionNotPersisted);
        assert.equal(error.reason, 'unmanaged');
        assert.match(error.message, /TicketFlow\.assign\(\): Ticket \(new\) is not managed .*never flushed/);
        return true;
      });
      assert.equal(fresh.stage, 'open');
      em.clear();

      const id = await seedTicket(db);
      const em1 = db.fork();
      const ticket = await em1.findOneOrFail(Ticket, id);
      em1.clear();
      await assert.rejects(persisted(new TicketFlow(ticket, em1).assign('ann')), { name: 'TransitionNotPersisted', reason: 'unmanaged', message: /not in the identity map/ });

      const em2 = db.fork();
      const elsewhere = await em2.findOneOrFail(Ticket, id);
      await assert.rejects(persisted(new TicketFlow(elsewhere, db.fork()).assign('ann')), { name: 'TransitionNotPersisted', reason: 'unmanaged' });

      em2.remove(elsewhere);
      await assert.rejects(persisted(new TicketFlow(elsewhere, em2).assign('ann')), { name: 'TransitionNotPersisted', reason: 'removed', message: /scheduled for removal/ });
      await em2.flush();
      await assert.rejects(persisted(new TicketFlow(elsewhere, em2).assign('ann')), { name: 'TransitionNotPersisted', reason: 'unmanaged' });
      assert.equal(elsewhere.stage, 'open');

      // Deleted by someone else after this entity manager loaded it.
      const id2 = await seedTicket(db);
      const em3 = db.fork();
      const gone = await em3.findOneOrFail(Ticket, id2);
      await db.fork().nativeDelete(Ticket, { id: id2 });
      await assert.rejects(persisted(new TicketFlow(gone, em3).assign('ann')), { name: 'TransitionNotPersisted', reason: 'missing', message: /deleted by another/ });
      assert.equal(gone.stage, 'open');
      assert.equal(gone.assignee, null);
    });

    test('a constraint violation in the body’s changes rolls everything back', async () => {
      await seedTicket(db, { code: `taken-${kind}` });
      const id = await seedTicket(db, { code: `mine-${kind}` });
      const em = db.fork();
      const ticket = await em.findOneOrFail(Ticket, id);
      const flow = new TicketFlow(ticket, em);
      await assert.rejects(
        flow.assignDuring('ann', (f) => {
          f.em.create(Comment, { ticketId: id, text: 'note' });
          f.ticket.code = `taken-${kind}`;
        }),
        (error: unknown) => {
          assert.ok(error instanceof TransitionNotPersisted, String(error));
          assert.equal(error.reason, 'database');
          assert.ok(error.cause instanceof UniqueConstraintViolationException);
          assert.match(error.message, /Ticket \d+: assignDuring\(\) was not persisted.*rolled back: nothing was written; the in-memory stage is back to "open"/s);
          return true;
        },
      );
      assert.deepEqual([ticket.stage, ticket.assignee, ticket.code], ['open', null, `mine-${kind}`]);
      const stored = await loadTicket(db, id);
      assert.deepEqual([stored.stage, stored.assignee, stored.code], ['open', null, `mine-${kind}`]);
      assert.deepEqual(await rowsOf(db, id), []);
      assert.deepEqual(await commentsOf(db, id), []);
      // The entity manager is still usable.
      await flow.assign('ann');
      assert.deepEqual([(await loadTicket(db, id)).stage, (await loadTicket(db, id)).code], ['assigned', `mine-${kind}`]);
    });

    test('a database connection that goes away mid-transition gives a clear error and leaves the in-memory state as the database has it', async () => {
      const id = await seedTicket(db);
      const orm = await db.reopen();
      const em = orm.em.fork();
      const ticket = await em.findOneOrFail(Ticket, id);
      await assert.rejects(
        new TicketFlow(ticket, em).assignDuring('ann', async (f) => {
          if (kind === 'sqlite') {
            await orm.close(true);
          } else {
            // Kill this transaction's server process from another connection, as a crash or a restart would.
            await killOwnBackend(kind, f.em, db.fork());
          }
        }),
        (error: unknown) => {
          assert.ok(error instanceof TransitionNotPersisted, String(error));
          assert.equal(error.reason, 'database');
          assert.equal(error.transition, 'assignDuring');
          assert.match(error.message, /was not persisted.*nothing was written; the in-memory stage is back to "open"/s);
          assert.ok(error.cause instanceof Error);
          return true;
        },
      );
      assert.equal(ticket.stage, 'open');
      assert.equal(ticket.assignee, null);
      const stored = await loadTicket(db, id);
      assert.deepEqual([stored.stage, stored.assignee], ['open', null]);
      assert.deepEqual(await rowsOf(db, id), []);
    });

    test('a persisted transition inside another’s body joins its transaction and is undone with it', async () => {
      const a = await seedTicket(db);
      const b = await seedTicket(db);
      const em = db.fork();
      const ta = await em.findOneOrFail(Ticket, a);
      const tb = await em.findOneOrFail(Ticket, b);
      const fb = new TicketFlow(tb, em);
      await assert.rejects(
        new TicketFlow(ta, em).assignDuring('ann', async () => {
          await fb.assign('bea');
          assert.equal(tb.stage, 'assigned');
          throw new Error('outer failed');
        }),
        { message: 'outer failed' },
      );
      assert.deepEqual([ta.stage, tb.stage, tb.assignee], ['open', 'open', null]);
      assert.deepEqual([(await loadTicket(db, a)).stage, (await loadTicket(db, b)).stage], ['open', 'open']);
      assert.deepEqual(await rowsOf(db, b), []);

      await new TicketFlow(ta, em).assignDuring('ann', () => fb.assign('bea'));
      assert.deepEqual([(await loadTicket(db, a)).stage, (await loadTicket(db, b)).stage], ['assigned', 'assigned']);
      assert.deepEqual(await rowsOf(db, b), [['assign', 'open', 'assigned', null]]);
    });

    test('inside the user’s own transaction the transition commits with it, or rolls back with it', async () => {
      const id = await seedTicket(db);
      await assert.rejects(
        db.orm.em.fork().transactional(async (tem) => {
          const ticket = await tem.findOneOrFail(Ticket, id);
          await new TicketFlow(ticket, tem).assign('ann');
          throw new Error('user rollback');
        }),
        { message: 'user rollback' },
      );
      assert.equal((await loadTicket(db, id)).stage, 'open');
      await db.orm.em.fork().transactional(async (tem) => {
        const ticket = await tem.findOneOrFail(Ticket, id);
        await new TicketFlow(ticket, tem).assign('ann');
        ticket.title = 'renamed in the same transaction';
      });
      const stored = await loadTicket(db, id);
      assert.deepEqual([stored.stage, stored.title], ['assigned', 'renamed in the same transaction']);
      assert.deepEqual(await rowsOf(db, id), [['assign', 'open', 'assigned', null]]);
    });

    test('calls on one flow made without waiting run one after another, each in its own transaction', async () => {
      const id = await seedTicket(db);
      const em = db.fork();
      const flow = new TicketFlow(await em.findOneOrFail(Ticket, id), em);
      await Promise.all([persisted(flow.assign('ann')), persisted(flow.resolve('done')), persisted(flow.close())]);
      assert.equal((await loadTicket(db, id)).stage, 'closed');
      assert.deepEqual((await rowsOf(db, id)).map((r) => r[0]), ['assign', 'resolve', 'close']);
    });

    test('flows over different entities of one entity manager take turns', async () => {
      const ids = [await seedTicket(db), await seedTicket(db), await seedTicket(db)];
      const em = db.fork();
      const tickets = await Promise.all(ids.map((id) => em.findOneOrFail(Ticket, id)));
      await Promise.all(tickets.map((t, i) => new TicketFlow(t, em).fix(`agent${i}`, 'ok')));
      for (const id of ids) assert.equal((await loadTicket(db, id)).stage, 'closed');
      for (const id of ids) assert.equal((await rowsOf(db, id)).length, 3);
    });
  });
}
