/**
 * README, Guarantees (unknown outcome): the connection dies after COMMIT was sent, so the client
 * cannot know whether it committed. Here the server did commit (the proxy forwards COMMIT and
 * drops the server's answer). The call must say so — `TransitionNotPersisted` with reason
 * `'unknown-outcome'` and a message saying it may have been committed — and must not roll memory
 * back as if nothing happened and then trust it: the next call on that entity checks the
 * database, and either succeeds from the real state or fails with a clean `ConcurrentTransition`
 * (after which a refresh and a retry succeed). It never fails against its own commit with a
 * stale state, and never writes history that does not chain. (SQLite runs in-process: no reply
 * can be lost.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MikroORM } from '@mikro-orm/core';
import { ConcurrentTransition, TransitionNotPersisted } from 'transitional/mikro-orm';
import { connect, type Database } from '../mikro-orm/fixtures.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { closeSoon, describeError, settle, within } from '../support/deadline.ts';
import { Lamp, LampFlow, chainProblems, createFaultDatabase, databaseKinds, faultEntities, seedLamps, stored } from './fixtures.ts';

const DEADLINE = 5_000;

const { kinds, missing } = databaseKinds();
if (missing !== undefined) test('the databases are available under CI (unknown outcome)', () => assert.fail(missing));

for (const kind of kinds) {
  if (kind === 'sqlite') continue;
  const url = (kind === 'postgresql' ? process.env.DATABASE_URL : process.env.MARIADB_URL)!;
  describe(`the answer to COMMIT is lost on ${kind}`, () => {
    let proxy: FaultProxy;
    let db: Database;
    let checker: MikroORM;
    before(async () => {
      const target = new URL(url);
      proxy = await FaultProxy.start({ protocol: kind === 'postgresql' ? 'postgresql' : 'mysql', port: Number(target.port), host: target.hostname });
      db = await createFaultDatabase(kind, { serverUrl: proxy.through(url), poolMax: 3 });
      checker = await connect({ ...db.spec, url } as typeof db.spec, { entities: faultEntities, poolMax: 2 });
    });
    after(async () => {
      proxy?.disarm();
      if (checker !== undefined) await closeSoon(checker);
      await db?.dispose();
      await proxy?.close();
    });

    test('the call rejects with reason unknown-outcome, saying it may have been committed', { timeout: 30_000 }, async () => {
      const checks = { fork: () => checker.em.fork() };
      const [id] = await seedLamps(checks, 1);
      const em = db.fork();
      const lamp = await em.findOneOrFail(Lamp, id!);
      const fired = proxy.cutOnQuery(/^\s*commit/i);
      const outcome = await settle(new LampFlow(lamp, em).toggle(), DEADLINE);
      assert.notEqual(outcome.status, 'hung', `no answer within ${DEADLINE} ms`);
      await within(fired, 1_000, 'the COMMIT reaching the proxy');
      assert.equal(outcome.status, 'rejected', 'the client never heard the commit succeed: the call cannot report success');
      const error = (outcome as { reason: unknown }).reason;
      assert.ok(error instanceof TransitionNotPersisted, `expected TransitionNotPersisted, got ${describeError(error)}`);
      assert.equal(error.reason, 'unknown-outcome', error.message);
      assert.match(error.message, /may have been committed/i);
      assert.doesNotMatch(error.message, /nothing was written/i, 'the message must not claim nothing was written');
      // The server did commit.
      assert.deepEqual(await stored(checks, id!), { position: 'on', counter: 1, note: null, history: [['toggle', 'off', 'on']] });
      // In memory: reloaded (what the database has) or put back whole (and marked); never half of each.
      assert.ok(
        (lamp.position === 'on' && lamp.counter === 1) || (lamp.position === 'off' && lamp.counter === 0),
        `the lamp in memory is neither reloaded nor put back: position ${lamp.position}, counter ${lamp.counter}`,
      );
    });

    test('the next call on that entity checks the database: it succeeds from the real state or fails with a clean ConcurrentTransition', { timeout: 30_000 }, async () => {
      const checks = { fork: () => checker.em.fork() };
      const [id] = await seedLamps(checks, 1);
      const em = db.fork();
      const lamp = await em.findOneOrFail(Lamp, id!);
      const fired = proxy.cutOnQuery(/^\s*commit/i);
      const first = await settle(new LampFlow(lamp, em).toggle(), DEADLINE);
      await within(fired, 1_000, 'the COMMIT reaching the proxy');
      assert.equal(first.status, 'rejected');

      const next = await settle(new LampFlow(lamp, em).toggle(), DEADLINE);
      assert.notEqual(next.status, 'hung', `the next call got no answer within ${DEADLINE} ms`);
      if (next.status === 'fulfilled') {
        // It went on from the committed `on`.
        assert.deepEqual(await stored(checks, id!), { position: 'off', counter: 2, note: null, history: [['toggle', 'off', 'on'], ['toggle', 'on', 'off']] });
        assert.deepEqual([lamp.position, lamp.counter], ['off', 2]);
      } else {
        const error = (next as { reason: unknown }).reason;
        assert.ok(error instanceof ConcurrentTransition, `the next call failed with ${describeError(error)}: it must succeed from the real state or be a ConcurrentTransition`);
        assert.equal(error.actual, 'on');
        assert.deepEqual(await stored(checks, id!), { position: 'on', counter: 1, note: null, history: [['toggle', 'off', 'on']] });
        await em.refresh(lamp);
        const retry = await settle(new LampFlow(lamp, em).toggle(), DEADLINE);
        assert.equal(retry.status, 'fulfilled', `after a refresh the retry failed: ${retry.status === 'rejected' ? describeError(retry.reason) : 'hung'}`);
        assert.deepEqual(await stored(checks, id!), { position: 'off', counter: 2, note: null, history: [['toggle', 'off', 'on'], ['toggle', 'on', 'off']] });
      }
      assert.deepEqual(chainProblems(id!, await stored(checks, id!)), []);
    });
  });
}
