/**
 * README, Guarantees ("no hangs"), with the server gone: a throwaway server of the test's own (never
 * the shared one) is stopped — or killed with SIGKILL — while a call's body runs. That call and
 * every call during the outage (more than the pool has connections) fail with
 * `TransitionNotPersisted` (`reason: 'database'`) within a deadline, leaving memory as it was;
 * once the server is back, calls on the same ORM and entity manager succeed, and the database
 * holds exactly the calls that succeeded.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TransitionNotPersisted } from 'transitional/mikro-orm';
import type { Database } from '../mikro-orm/fixtures.ts';
import { ThrowawayPostgres } from '../support/postgres-server.ts';
import { ThrowawayMariadb } from '../support/mariadb-server.ts';
import { describeError, settle } from '../support/deadline.ts';
import { Lamp, LampFlow, createFaultDatabase, databaseKinds, seedLamps, stored } from './fixtures.ts';

const POOL = 3;
const OUTAGE_CALLS = POOL + 1;
const DEADLINE = 5_000;

const { kinds, missing } = databaseKinds();
if (missing !== undefined) test('the databases are available under CI (server restart)', () => assert.fail(missing));

for (const kind of kinds) {
  if (kind === 'sqlite') continue;
  describe(`a throwaway ${kind} server goes away mid-call and comes back`, () => {
    let server: ThrowawayPostgres | ThrowawayMariadb;
    let db: Database;
    before(async () => {
      server = kind === 'postgresql' ? new ThrowawayPostgres() : new ThrowawayMariadb();
      await server.start();
      db = await createFaultDatabase(kind, { serverUrl: server.url, poolMax: POOL });
    }, { timeout: 60_000 });
    after(async () => {
      if (server?.running === false) await server.start().catch(() => {});
      await db?.dispose().catch(() => {});
      await server?.dispose();
    }, { timeout: 60_000 });

    for (const how of ['stopped', 'killed'] as const) {
      test(`${how} during a body: that call and ${OUTAGE_CALLS} calls during the outage fail typed within ${DEADLINE} ms; after the restart calls succeed`, { timeout: 60_000 }, async () => {
        const [id] = await seedLamps(db, 1);
        const em = db.fork();
        const lamp = await em.findOneOrFail(Lamp, id!);
        const before = new LampFlow(lamp, em);
        assert.equal((await settle(before.toggle(), DEADLINE)).status, 'fulfilled', 'a call before the outage');

        const failing: Array<[string, Awaited<ReturnType<typeof settle>>]> = [];
        const flow = new LampFlow(lamp, em);
        flow.during = async (phase) => {
          if (phase === 'body') await (how === 'stopped' ? server.stop() : server.kill());
        };
        failing.push(['the call whose body loses the server', await settle(flow.toggle(), DEADLINE + 20_000)]);
        for (let i = 1; i <= OUTAGE_CALLS; i++) failing.push([`call ${i} of ${OUTAGE_CALLS} during the outage`, await settle(new LampFlow(lamp, em).toggle(), DEADLINE)]);
        for (const [which, outcome] of failing) {
          assert.notEqual(outcome.status, 'hung', `${which}: no answer within the deadline`);
          assert.equal(outcome.status, 'rejected', `${which}: succeeded without a server`);
          const error = (outcome as { reason: unknown }).reason;
          assert.ok(error instanceof TransitionNotPersisted && error.reason === 'database', `${which}: expected TransitionNotPersisted (database), got ${describeError(error)}`);
          assert.deepEqual([lamp.position, lamp.counter], ['on', 1], `${which}: the lamp in memory is as the database has it`);
        }

        await server.start();
        const afterRestart = [await settle(new LampFlow(lamp, em).toggle(), DEADLINE), await settle(new LampFlow(lamp, em).toggle(), DEADLINE)];
        afterRestart.forEach((outcome, i) => {
          assert.equal(outcome.status, 'fulfilled', `call ${i + 1} after the restart: ${outcome.status === 'rejected' ? describeError(outcome.reason) : outcome.status}`);
        });
        assert.deepEqual(await stored(db, id!), { position: 'on', counter: 3, note: null, history: [['toggle', 'off', 'on'], ['toggle', 'on', 'off'], ['toggle', 'off', 'on']] });
      });
    }
  });
}
