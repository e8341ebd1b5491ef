/**
 * README, Guarantees ("no hangs"): a connection lost at any moment of a persisted call fails that call
 * with `TransitionNotPersisted` (`reason: 'database'`) within a deadline, leaves memory and the
 * database as they were, and the ORM keeps working however many times it happens — tried more
 * times than the pool has connections, then a normal call must succeed.
 *
 * PostgreSQL and MariaDB: the ORM talks to the server through a `FaultProxy` that cuts every
 * connection at the chosen phase (before hook, body, the body's own query, onSuccess hook, after
 * hook, the onError path, COMMIT), and, as issue 9 found it, the backend of the call's own
 * connection killed from another connection while the body runs. SQLite has no connection to lose:
 * its fault is a lock that cannot be had in time (another connection holds the write lock past
 * the busy timeout), tried more times than the one connection, then a normal call.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import type { MikroORM } from '@mikro-orm/core';
import { TransitionNotPersisted } from 'transitional/mikro-orm';
import { connect, type Database, type DatabaseKind } from '../mikro-orm/fixtures.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { killOwnBackend } from '../support/backends.ts';
import { describeError, settle } from '../support/deadline.ts';
import { Lamp, LampFlow, createFaultDatabase, databaseKinds, faultEntities, seedLamps, stored, type Phase } from './fixtures.ts';

/** A small pool, so that leaking one connection per failure shows within a few calls. */
const POOL = 3;
const REPEAT = POOL + 1;
/** On loopback a failing call settles in milliseconds: 5 s without an answer is a hang. */
const DEADLINE = 5_000;

const { kinds, missing } = databaseKinds();
if (missing !== undefined) test('the databases are available under CI (connection loss)', () => assert.fail(missing));

type Fault = { readonly name: string; readonly transition: 'toggle' | 'switchOnRisky'; arm(flow: LampFlow, kit: Kit): void; readonly outcomes?: readonly string[] };

interface Kit {
  readonly kind: 'postgresql' | 'mariadb';
  readonly proxy: FaultProxy;
  readonly checker: MikroORM;
}

/** At `phase`, cut every connection through the proxy. */
function cutAt(phase: Phase): (flow: LampFlow, kit: Kit) => void {
  return (flow, kit) => {
    flow.during = (now) => {
      if (now === phase) kit.proxy.cutAll();
    };
  };
}

const faults: Fault[] = [
  { name: 'before hook', transition: 'toggle', arm: cutAt('before') },
  { name: 'body', transition: 'toggle', arm: cutAt('body') },
  {
    name: 'the body’s own query',
    transition: 'toggle',
    arm(flow, kit) {
      cutAt('body')(flow, kit);
      flow.bodyQuery = true;
    },
  },
  { name: 'onSuccess hook', transition: 'toggle', arm: cutAt('onSuccess') },
  { name: 'after hook', transition: 'toggle', arm: cutAt('after') },
  {
    // The body fails into `broken` (onError): the connection is cut in the onError hook, and the
    // new connection that writes the error state is cut at its history insert.
    name: 'onError path',
    transition: 'switchOnRisky',
    arm(flow, kit) {
      flow.during = (now) => {
        if (now !== 'onError') return;
        kit.proxy.cutAll();
        void kit.proxy.cutOnQuery(/insert into .*transition_log/i, { forward: false });
      };
    },
  },
  {
    // COMMIT is sent and the connection dies before the server gets it: the client cannot tell
    // this from a lost answer, so 'unknown-outcome' is a correct report too.
    name: 'COMMIT (never reaches the server)',
    transition: 'toggle',
    outcomes: ['database', 'unknown-outcome'],
    arm(flow, kit) {
      flow.during = (now) => {
        if (now === 'after') void kit.proxy.cutOnQuery(/^\s*commit/i, { forward: false });
      };
    },
  },
  {
    name: 'body, its backend killed from another connection',
    transition: 'toggle',
    arm(flow, kit) {
      flow.during = async (now, f) => {
        if (now === 'body') await killOwnBackend(kit.kind, f.em, kit.checker.em.fork());
      };
    },
  },
];

function directUrl(kind: 'postgresql' | 'mariadb'): string {
  return (kind === 'postgresql' ? process.env.DATABASE_URL : process.env.MARIADB_URL)!;
}

for (const kind of kinds) {
  if (kind === 'sqlite') continue;
  describe(`a connection lost in every phase, ${REPEAT} times with a pool of ${POOL}, on ${kind}`, () => {
    let proxy: FaultProxy;
    let db: Database;
    let checker: MikroORM;
    before(async () => {
      const url = new URL(directUrl(kind));
      proxy = await FaultProxy.start({ protocol: kind === 'postgresql' ? 'postgresql' : 'mysql', port: Number(url.port || (kind === 'postgresql' ? 5432 : 3306)), host: url.hostname });
      db = await createFaultDatabase(kind, { serverUrl: proxy.through(directUrl(kind)), poolMax: POOL });
      // Checks and seeds go straight to the server, on a pool no fault touches.
      checker = await connect({ ...db.spec, url: directUrl(kind) } as typeof db.spec, { entities: faultEntities, poolMax: 2 });
    });
    after(async () => {
      proxy?.disarm();
      await checker?.close(true);
      await db?.dispose();
      await proxy?.close();
    });

    for (const fault of faults) {
      test(`${fault.name}: each call fails typed within ${DEADLINE} ms, nothing changes, then a normal call succeeds`, { timeout: (REPEAT + 2) * DEADLINE + 10_000 }, async () => {
        const kit: Kit = { kind, proxy, checker };
        const checks = { fork: () => checker.em.fork() };
        const [id] = await seedLamps(checks, 1);
        // A fresh ORM through the proxy for each fault, so that one fault's leaks do not explain another's.
        const orm = await db.reopen();
        const em = orm.em.fork();
        const lamp = await em.findOneOrFail(Lamp, id!);
        const allowed = fault.outcomes ?? ['database'];
        for (let i = 1; i <= REPEAT; i++) {
          const flow = new LampFlow(lamp, em);
          fault.arm(flow, kit);
          const outcome = await settle(flow[fault.transition](), DEADLINE);
          proxy.disarm();
          const which = `${fault.name}, call ${i} of ${REPEAT} (pool of ${POOL})`;
          assert.notEqual(outcome.status, 'hung', `${which}: no answer within ${DEADLINE} ms`);
          assert.equal(outcome.status, 'rejected', `${which}: the call succeeded although its connection was lost`);
          const error = (outcome as { reason: unknown }).reason;
          assert.ok(error instanceof TransitionNotPersisted, `${which}: expected TransitionNotPersisted, got ${describeError(error)}`);
          assert.ok(allowed.includes(error.reason), `${which}: reason ${error.reason}, expected ${allowed.join(' or ')}: ${error.message}`);
          assert.deepEqual([lamp.position, lamp.counter, lamp.note], ['off', 0, null], `${which}: the lamp in memory is as before the call`);
          assert.deepEqual(await stored(checks, id!), { position: 'off', counter: 0, note: null, history: [] }, `${which}: nothing was written`);
        }
        const flow = new LampFlow(lamp, em);
        const outcome = await settle(flow.toggle(), DEADLINE);
        assert.notEqual(outcome.status, 'hung', `after ${REPEAT} lost connections, a normal call got no answer within ${DEADLINE} ms (pool slots leaked?)`);
        assert.equal(outcome.status, 'fulfilled', `after ${REPEAT} lost connections a normal call failed: ${outcome.status === 'rejected' ? describeError(outcome.reason) : ''}`);
        assert.deepEqual(await stored(checks, id!), { position: 'on', counter: 1, note: null, history: [['toggle', 'off', 'on']] });
      });
    }
  });
}

describe(`SQLite: a lock that cannot be had in time, ${REPEAT} times, then a normal call`, () => {
  let db: Database;
  let orm: MikroORM;
  before(async () => {
    db = await createFaultDatabase('sqlite');
    // A short busy timeout: the lock is given up after 300 ms.
    orm = await connect(db.spec, { entities: faultEntities, sqliteTimeout: 300 });
  });
  after(async () => {
    await orm?.close(true).catch(() => {});
    await db?.dispose();
  });

  test(`each call fails typed within ${DEADLINE} ms while another connection holds the write lock; afterwards the ORM works`, { timeout: (REPEAT + 2) * DEADLINE + 10_000 }, async () => {
    const [id] = await seedLamps(db, 1);
    const em = orm.em.fork();
    const lamp = await em.findOneOrFail(Lamp, id!);
    const holder = new DatabaseSync((db.spec as { file: string }).file);
    try {
      holder.exec('begin immediate');
      for (let i = 1; i <= REPEAT; i++) {
        const outcome = await settle(new LampFlow(lamp, em).toggle(), DEADLINE);
        const which = `call ${i} of ${REPEAT} while the database is locked`;
        assert.notEqual(outcome.status, 'hung', `${which}: no answer within ${DEADLINE} ms`);
        assert.equal(outcome.status, 'rejected', `${which}: succeeded although it could not lock`);
        const error = (outcome as { reason: unknown }).reason;
        assert.ok(error instanceof TransitionNotPersisted && error.reason === 'database', `${which}: expected TransitionNotPersisted (database), got ${describeError(error)}`);
        assert.deepEqual([lamp.position, lamp.counter], ['off', 0]);
      }
    } finally {
      holder.exec('rollback');
      holder.close();
    }
    assert.deepEqual(await stored(db, id!), { position: 'off', counter: 0, note: null, history: [] });
    const outcome = await settle(new LampFlow(lamp, em).toggle(), DEADLINE);
    assert.notEqual(outcome.status, 'hung', `once the lock was free, a normal call got no answer within ${DEADLINE} ms (the connection was never released?)`);
    assert.equal(outcome.status, 'fulfilled', outcome.status === 'rejected' ? describeError(outcome.reason) : '');
    assert.deepEqual(await stored(db, id!), { position: 'on', counter: 1, note: null, history: [['toggle', 'off', 'on']] });
  });
});
