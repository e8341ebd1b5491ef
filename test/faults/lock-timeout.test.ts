/**
 * README, Guarantees ("no hangs"): a row lock another transaction holds is waited for at most
 * `lockTimeout`, then the call fails with `TransitionNotPersisted` (`reason: 'database'`), nothing
 * written, and the entity manager works afterwards. PostgreSQL (`lock_timeout`) and MariaDB (`WAIT`);
 * SQLite's busy timeout is covered by sqlite-contention.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EntityManager } from '@mikro-orm/core';
import { ConcurrentTransition, TransitionNotPersisted, persistTransitions } from 'transitional/mikro-orm';
import { Lamp, LampFlow, createFaultDatabase, databaseKinds, position, seedLamps, stored, type Position } from './fixtures.ts';
import type { Database } from '../mikro-orm/fixtures.ts';

/** The same lamp, persisted with a short lock timeout. */
class ImpatientLamp {
  constructor(
    readonly lamp: Lamp,
    readonly em: EntityManager,
  ) {}
  @position.getter() getPosition() {
    return this.lamp.position as Position;
  }
  @position.setter() setPosition(value: Position) {
    this.lamp.position = value;
  }
  @position.transition({ source: 'off', target: 'on' })
  @position.transition({ source: 'on', target: 'off' })
  async toggle() {
    this.lamp.counter++;
  }
}
persistTransitions(position, ImpatientLamp, { em: (f) => f.em, entity: (f) => f.lamp, field: 'position', lockTimeout: 300 });

const { kinds, missing } = databaseKinds();
if (missing !== undefined) test('the databases are available under CI', () => assert.fail(missing));

for (const kind of kinds.filter((k) => k !== 'sqlite')) {
  describe(`a row lock held too long, on ${kind}`, () => {
    let db: Database;
    before(async () => {
      db = await createFaultDatabase(kind);
    });
    after(async () => {
      await db?.dispose();
    });

    test('fails within the lock timeout, writes nothing, and the entity manager goes on', { timeout: 30_000 }, async () => {
      const [id] = await seedLamps(db, 1);
      // Another transition holds the row's lock while its body waits.
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let holding!: () => void;
      const held = new Promise<void>((resolve) => (holding = resolve));
      const em1 = db.fork();
      const slow = new LampFlow(await em1.findOneOrFail(Lamp, id!), em1);
      slow.during = async (phase) => {
        if (phase === 'body') {
          holding();
          await gate;
        }
      };
      const slowCall = slow.toggle();
      await held;

      const em2 = db.fork();
      const lamp = await em2.findOneOrFail(Lamp, id!);
      const impatient = new ImpatientLamp(lamp, em2);
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        await assert.rejects(impatient.toggle(), (e) => e instanceof TransitionNotPersisted && e.reason === 'database' && /could not lock its row within 300 ms/.test(e.message));
        const took = Date.now() - started;
        assert.ok(took < 5000, `waited ${took} ms`);
        assert.equal(lamp.position, 'off');
        assert.equal(lamp.counter, 0);
      }

      release();
      await slowCall;
      assert.deepEqual((await stored(db, id!)).history, [['toggle', 'off', 'on']]);
      // The same entity manager goes on: its lamp is stale now (someone else toggled it), so the
      // next call is a clean conflict, and after a refresh it works.
      await assert.rejects(impatient.toggle(), ConcurrentTransition);
      await em2.refresh(lamp);
      await impatient.toggle();
      const after = await stored(db, id!);
      assert.equal(after.position, 'off');
      assert.equal(after.counter, 2);
    });
  });
}
