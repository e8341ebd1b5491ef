/**
 * One racing process of race.test.ts. Per round: loads every ticket in a fresh entity manager,
 * says `ready <round>`, waits for `go <round>` on stdin, then runs the transition that leaves the
 * state it loaded on every ticket, and reports `done <round> <json>` with what it won and lost.
 *
 *   node --import tsx test/mikro-orm/race-worker.ts '{"spec":...,"name":"w1","ids":[1,2],"rounds":3}'
 */
import { createInterface } from 'node:readline';
import { ConcurrentTransition } from 'transitional/mikro-orm';
import { Ticket, TicketFlow, connect, type DatabaseSpec } from './fixtures.ts';

interface Job {
  readonly spec: DatabaseSpec;
  readonly name: string;
  readonly ids: readonly number[];
  readonly rounds: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

async function waitFor(line: string): Promise<void> {
  for (;;) {
    const next = await lines.next();
    if (next.done === true) throw new Error(`stdin closed while waiting for "${line}"`);
    if (next.value.trim() === line) return;
  }
}

const orm = await connect(job.spec);
try {
  for (let round = 0; round < job.rounds; round++) {
    const flows = await Promise.all(
      job.ids.map(async (id) => {
        const em = orm.em.fork();
        return new TicketFlow(await em.findOneOrFail(Ticket, id), em, job.name);
      }),
    );
    console.log(`ready ${round}`);
    await waitFor(`go ${round}`);
    const won: number[] = [];
    const lost: number[] = [];
    const errors: string[] = [];
    for (const flow of flows) {
      const stage = flow.ticket.stage;
      try {
        if (stage === 'open') await flow.assign(job.name);
        else if (stage === 'assigned') await flow.resolve(job.name);
        else if (stage === 'resolved') await flow.close();
        else throw new Error(`unexpected stage ${stage}`);
        won.push(flow.ticket.id);
      } catch (error) {
        if (error instanceof ConcurrentTransition && error.expected === stage && flow.ticket.stage === stage) lost.push(flow.ticket.id);
        else errors.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
      }
    }
    console.log(`done ${round} ${JSON.stringify({ won, lost, errors })}`);
  }
} finally {
  await orm.close(true);
}
process.exit(0);
