/**
 * README, Guarantees (concurrency, version check): entity manager 1 loads a lamp `off`; entity manager 2 toggles it
 * `off → on → off`, bumping the counter in each body; then EM 1 toggles. With a MikroORM version
 * property (`p.integer().version()`) the compare-and-set also compares the version: EM 1 gets
 * `ConcurrentTransition`, its body's write is not persisted and the counter keeps EM 2's two
 * bumps. Without one only the state is compared (documented in the README): EM 1's toggle
 * succeeds and its body, computed from a stale counter, overwrites it — the lost update the
 * version property exists to prevent.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConcurrentTransition } from 'transitional/mikro-orm';
import type { Database } from '../mikro-orm/fixtures.ts';
import { describeError, settle } from '../support/deadline.ts';
import { Lamp, LampFlow, VersionedLamp, createFaultDatabase, databaseKinds, seedLamps, stored } from './fixtures.ts';

const DEADLINE = 10_000;

const { kinds, missing } = databaseKinds();
if (missing !== undefined) test('the databases are available under CI (ABA)', () => assert.fail(missing));

for (const kind of kinds) {
  describe(`A → B → A behind a stale entity manager's back on ${kind}`, () => {
    let db: Database;
    before(async () => {
      db = await createFaultDatabase(kind);
    });
    after(async () => {
      await db?.dispose();
    });

    /** EM 1 loads; EM 2 toggles twice; returns EM 1's flow. */
    async function abaSetup(entity: typeof Lamp) {
      const [id] = await seedLamps(db, 1, entity);
      const em1 = db.fork();
      const stale = await em1.findOneOrFail(entity, id!);
      const em2 = db.fork();
      const fresh = await em2.findOneOrFail(entity, id!);
      await new LampFlow(fresh, em2).toggle();
      await new LampFlow(fresh, em2).toggle();
      assert.deepEqual(await stored(db, id!, entity), { position: 'off', counter: 2, note: null, history: [['toggle', 'off', 'on'], ['toggle', 'on', 'off']] });
      return { id: id!, em1, stale };
    }

    test('with a version property: ConcurrentTransition, the counter intact, EM 1 back to what it loaded', { timeout: 30_000 }, async () => {
      const { id, em1, stale } = await abaSetup(VersionedLamp as unknown as typeof Lamp);
      const outcome = await settle(new LampFlow(stale, em1).toggle(), DEADLINE);
      assert.notEqual(outcome.status, 'hung');
      assert.equal(outcome.status, 'rejected', 'the stale entity manager must not win: the version moved on');
      const error = (outcome as { reason: unknown }).reason;
      assert.ok(error instanceof ConcurrentTransition, `expected ConcurrentTransition, got ${describeError(error)}`);
      assert.deepEqual([stale.position, stale.counter], ['off', 0], 'EM 1 in memory: as it loaded it');
      assert.deepEqual(await stored(db, id, VersionedLamp as unknown as typeof Lamp), { position: 'off', counter: 2, note: null, history: [['toggle', 'off', 'on'], ['toggle', 'on', 'off']] });
      // After a refresh EM 1 goes on from the real row.
      await em1.refresh(stale);
      await new LampFlow(stale, em1).toggle();
      assert.deepEqual(await stored(db, id, VersionedLamp as unknown as typeof Lamp), { position: 'on', counter: 3, note: null, history: [['toggle', 'off', 'on'], ['toggle', 'on', 'off'], ['toggle', 'off', 'on']] });
    });

    test('without a version property only the state is compared: the stale toggle succeeds and overwrites the counter', { timeout: 30_000 }, async () => {
      const { id, em1, stale } = await abaSetup(Lamp);
      const outcome = await settle(new LampFlow(stale, em1).toggle(), DEADLINE);
      assert.equal(outcome.status, 'fulfilled', outcome.status === 'rejected' ? describeError(outcome.reason) : 'hung');
      // The state matched, so the transition went through; its body's counter (0 + 1) replaced EM 2's 2.
      assert.deepEqual(await stored(db, id), { position: 'on', counter: 1, note: null, history: [['toggle', 'off', 'on'], ['toggle', 'on', 'off'], ['toggle', 'off', 'on']] });
    });
  });
}
