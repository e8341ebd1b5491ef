/**
 * Several OS processes race transitions on the same rows of one database: a SQLite file in WAL
 * mode, PostgreSQL when DATABASE_URL is set and MariaDB when MARIADB_URL is set (both required
 * under CI=true). Every race has exactly one winner, every state change exactly one history row,
 * no update is lost, no process crashes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { history } from 'transitional/mikro-orm';
import { Ticket, createDatabase, databaseKinds, seedTicket, type Database } from './fixtures.ts';

const WORKERS = 4;
const TICKETS = 12;
const ROUNDS = 3;
const root = fileURLToPath(new URL('../..', import.meta.url));

interface Report {
  readonly won: number[];
  readonly lost: number[];
  readonly errors: string[];
}

/** A worker process and the lines it prints, read one at a time. */
class Worker {
  readonly child: ChildProcessWithoutNullStreams;
  readonly #lines: AsyncIterator<string>;
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(db: Database, readonly name: string, ids: number[]) {
    const job = JSON.stringify({ spec: db.spec, name, ids, rounds: ROUNDS });
    this.child = spawn(join(root, 'node_modules/.bin/node'), ['--import', 'tsx', join(root, 'test/mikro-orm/race-worker.ts'), job], { cwd: root });
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.#lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  async expect(prefix: string): Promise<string> {
    for (;;) {
      const next = await this.#lines.next();
      if (next.done === true) throw new Error(`${this.name} ended before "${prefix}": ${this.stderr}`);
      if (next.value.startsWith(prefix)) return next.value.slice(prefix.length).trim();
    }
  }
}

const { kinds, missing } = databaseKinds();
if (missing !== undefined) {
  test('the databases are available under CI (race)', () => assert.fail(missing));
}

for (const kind of kinds) {
  describe(`${WORKERS} processes racing on ${kind}`, () => {
    let db: Database;
    before(async () => {
      db = await createDatabase(kind);
    });
    after(async () => {
      await db?.dispose();
    });

    test('every race has exactly one winner, every change one history row, no lost update', { timeout: 60_000 }, async () => {
      const ids: number[] = [];
      for (let i = 0; i < TICKETS; i++) ids.push(await seedTicket(db, { title: `race ${i}` }));
      const workers = Array.from({ length: WORKERS }, (_, i) => new Worker(db, `w${i}`, ids));
      try {
        const winners: Array<Map<number, string>> = [];
        for (let round = 0; round < ROUNDS; round++) {
          await Promise.all(workers.map((w) => w.expect(`ready ${round}`)));
          for (const w of workers) w.child.stdin.write(`go ${round}\n`);
          const reports = await Promise.all(workers.map(async (w) => [w.name, JSON.parse(await w.expect(`done ${round}`)) as Report] as const));
          const won = new Map<number, string>();
          for (const [name, report] of reports) {
            assert.deepEqual(report.errors, [], `${name} in round ${round}`);
            for (const id of report.won) {
              assert.ok(!won.has(id), `ticket ${id} won twice in round ${round} (${won.get(id)} and ${name})`);
              won.set(id, name);
            }
            assert.equal(report.won.length + report.lost.length, TICKETS);
          }
          assert.equal(won.size, TICKETS, `round ${round}: every ticket has a winner`);
          winners.push(won);
        }
        const codes = await Promise.all(workers.map((w) => w.exited));
        assert.deepEqual(codes, workers.map(() => 0), workers.map((w) => w.stderr).join('\n'));

        const em = db.fork();
        for (const id of ids) {
          const ticket = await em.findOneOrFail(Ticket, id);
          assert.deepEqual(
            [ticket.stage, ticket.counter, ticket.assignee, ticket.resolution],
            ['closed', ROUNDS, winners[0]!.get(id), winners[1]!.get(id)],
            `ticket ${id}: one change per round, none lost`,
          );
          const rows = await history(em, ticket);
          assert.deepEqual(
            rows.map((r) => [r.transition, r.source, r.target, r.actor]),
            [
              ['assign', 'open', 'assigned', winners[0]!.get(id)],
              ['resolve', 'assigned', 'resolved', winners[1]!.get(id)],
              ['close', 'resolved', 'closed', winners[2]!.get(id)],
            ],
          );
        }
      } finally {
        for (const w of workers) if (w.child.exitCode === null) w.child.kill();
      }
    });
  });
}
