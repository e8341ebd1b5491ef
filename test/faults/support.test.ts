/**
 * The fault suite's own tools do what the other fault tests assume: the proxy's cut after a
 * forwarded COMMIT leaves the transaction committed on the server while the client gets an error
 * (the unknown outcome), `cutAll` breaks open connections but not new ones, and the throwaway
 * servers stop, crash and restart keeping what was committed.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MikroORM as SqlOrm } from '@mikro-orm/sql';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { MariaDbDriver } from '@mikro-orm/mariadb';
import type { MikroORM } from '@mikro-orm/core';
import { FaultProxy } from '../support/fault-proxy.ts';
import { ThrowawayPostgres } from '../support/postgres-server.ts';
import { ThrowawayMariadb } from '../support/mariadb-server.ts';
import { closeSoon, settle, within } from '../support/deadline.ts';
import { databaseKinds } from './fixtures.ts';
import { uniqueName } from '../mikro-orm/fixtures.ts';

type Server = 'postgresql' | 'mariadb';

function open(kind: Server, url: string): Promise<MikroORM> {
  const driver = kind === 'postgresql' ? PostgreSqlDriver : MariaDbDriver;
  return SqlOrm.init({ driver, clientUrl: url, entities: [], discovery: { warnWhenNoEntities: false }, pool: { min: 0, max: 2 } } as never) as Promise<MikroORM>;
}

const { kinds, missing } = databaseKinds();
if (missing !== undefined) test('the databases are available under CI (fault tools)', () => assert.fail(missing));

for (const kind of kinds) {
  if (kind === 'sqlite') continue;
  const url = (kind === 'postgresql' ? process.env.DATABASE_URL : process.env.MARIADB_URL)!;
  describe(`the fault proxy on ${kind}`, () => {
    const table = uniqueName('proxy_probe');
    const opened: MikroORM[] = [];
    let proxy: FaultProxy | undefined;
    after(async () => {
      const direct = opened[0];
      if (direct !== undefined) await direct.em.getConnection().execute(`drop table if exists ${table}`).catch(() => {});
      for (const orm of opened) await closeSoon(orm);
      await proxy?.close();
    });

    test('a COMMIT cut after the server answered: committed on the server, an error for the client', { timeout: 20_000 }, async () => {
      const direct = await open(kind, url);
      opened.push(direct);
      await direct.em.getConnection().execute(`create table ${table} (id int primary key)`);
      const target = new URL(url);
      proxy = await FaultProxy.start({ protocol: kind === 'postgresql' ? 'postgresql' : 'mysql', port: Number(target.port), host: target.hostname });
      const through = await open(kind, proxy.through(url));
      opened.push(through);
      const connection = through.em.getConnection();
      const trx = await connection.begin();
      await connection.execute(`insert into ${table} (id) values (1)`, [], 'run', trx);
      const fired = proxy.cutOnQuery(/^\s*commit/i);
      const outcome = await settle(connection.commit(trx), 5_000);
      assert.equal(outcome.status, 'rejected', 'the client must not hear that the commit succeeded');
      assert.match(await within(fired, 1_000, 'the trigger'), /^\s*commit/i);
      const rows = await direct.em.getConnection().execute(`select id from ${table}`);
      assert.deepEqual(rows.map((r: { id: number }) => Number(r.id)), [1], 'the server committed');
      // The pool serves new connections through the proxy.
      const again = await settle(through.em.getConnection().execute('select 1 as one'), 5_000);
      assert.equal(again.status, 'fulfilled', again.status === 'rejected' ? String(again.reason) : 'hung');
    });

    test('cutAll breaks the open connections; the server rolls back their transactions', { timeout: 20_000 }, async () => {
      const direct = opened[0]!;
      const through = opened[1]!;
      const connection = through.em.getConnection();
      const trx = await connection.begin();
      await connection.execute(`insert into ${table} (id) values (2)`, [], 'run', trx);
      assert.ok(proxy!.cutAll() >= 1);
      const next = await settle(connection.execute(`insert into ${table} (id) values (3)`, [], 'run', trx), 5_000);
      assert.equal(next.status, 'rejected');
      await settle(connection.rollback(trx), 2_000);
      // The server notices the client is gone and rolls back (it may take a moment).
      let ids: number[] = [];
      for (let i = 0; i < 20; i++) {
        ids = (await direct.em.getConnection().execute(`select id from ${table} order by id`)).map((r: { id: number }) => Number(r.id));
        if (!ids.includes(2)) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.deepEqual(ids, [1]);
    });
  });
}

for (const [kind, Server] of [['postgresql', ThrowawayPostgres], ['mariadb', ThrowawayMariadb]] as const) {
  describe(`a throwaway ${kind} server`, () => {
    let server: ThrowawayPostgres | ThrowawayMariadb | undefined;
    after(async () => {
      await server?.dispose();
    });

    test('starts, stops, crashes and restarts on its own port, keeping what was committed', { timeout: 90_000 }, async () => {
      server = new Server();
      await server.start();
      const query = async (sql: string) => {
        const orm = await open(kind, server!.url);
        try {
          return await orm.em.getConnection().execute(sql);
        } finally {
          await closeSoon(orm);
        }
      };
      await query('create table kept (id int primary key)');
      await query('insert into kept (id) values (1)');
      await server.stop();
      assert.equal(server.running, false);
      const refused = await settle(query('select 1'), 10_000);
      assert.equal(refused.status, 'rejected', 'a stopped server refuses connections');
      await server.start();
      await query('insert into kept (id) values (2)');
      await server.restart({ crash: true });
      const ids = (await query('select id from kept order by id')).map((r: { id: number }) => Number(r.id));
      assert.deepEqual(ids, [1, 2]);
    });
  });
}
