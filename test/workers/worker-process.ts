/**
 * One worker process of the worker tests: opens the database, imports the flow (unless told not
 * to), starts `startWorker` and reports what happens, one line each:
 *
 *   ready                      the worker is started
 *   running <id> <transition>  a timer body began (with `announce`)
 *   committed <id> <transition> a change committed in this process (with `announce`)
 *   failed <json>              a job's run failed (`onError`): { kind, id, transition, hook, message }
 *   start-failed <json>        startWorker rejected: { name, message }
 *   stopped                    after `stop` on stdin: the worker stopped and the ORM closed
 *
 *   node --import tsx test/workers/worker-process.ts '<json WorkerJob>'
 *
 * It exits by itself after `lifetime` ms, whatever happens, so a test that dies leaves nothing.
 */
import { createInterface } from 'node:readline';
import { startWorker, type WorkerOptions } from 'transitional/mikro-orm';
import { connect, type DatabaseSpec } from '../mikro-orm/fixtures.ts';
import { workerEntities } from './entities.ts';

export interface WorkerJob {
  readonly spec: DatabaseSpec;
  /** Import parcel-flow.ts (the flow class and its persistTransitions). Default true. */
  readonly flows?: boolean;
  readonly options?: Pick<WorkerOptions, 'concurrency' | 'pollInterval' | 'maxAttempts' | 'lease'>;
  /** Print `running <id> <transition>` from every timer body. */
  readonly announce?: boolean;
  /** Sleep this long in every timer body (between a quarter and 1.25 times as long when `jitter`). */
  readonly bodySleep?: number;
  readonly jitter?: boolean;
  /** Every timer body after the first `stallAfter` sleeps for the rest of the process's life (so a kill then lands mid-job). */
  readonly stallAfter?: number;
  /** Sleep this long after each commit, before the job is acknowledged (the in-process afterCommit hook). */
  readonly commitSleep?: number;
  /** Connect as this user instead (PostgreSQL: a URL; the rest of `spec` stays). */
  readonly url?: string;
  /** Exit after this many ms whatever happens. */
  readonly lifetime: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as WorkerJob;
setTimeout(() => {
  console.error(`worker-process: lifetime of ${job.lifetime} ms is over, exiting`);
  process.exit(3);
}, job.lifetime).unref();

const say = (line: string) => process.stdout.write(`${line}\n`);

if (job.flows !== false) {
  const { behaviour } = await import('./parcel-flow.ts');
  let bodies = 0;
  behaviour.timerBody = async (flow, transition) => {
    if (job.announce === true) say(`running ${flow.parcel.id} ${transition}`);
    if (job.stallAfter !== undefined && ++bodies > job.stallAfter) await new Promise((resolve) => setTimeout(resolve, job.lifetime));
    const ms = job.bodySleep ?? 0;
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, job.jitter === true ? ms * (0.25 + Math.random()) : ms));
  };
  behaviour.committed = async (flow, transition) => {
    if (job.announce === true) say(`committed ${flow.parcel.id} ${transition}`);
    const ms = job.commitSleep ?? 0;
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  };
}

const spec = job.url === undefined ? job.spec : ({ ...job.spec, url: job.url } as DatabaseSpec);
const orm = await connect(spec, { entities: workerEntities, poolMax: 4 });
let worker: Awaited<ReturnType<typeof startWorker>>;
try {
  worker = await startWorker(orm, {
    ...job.options,
    onError: (error, failed) => {
      say(`failed ${JSON.stringify({ kind: failed.kind, id: failed.id, transition: failed.transition, hook: failed.kind === 'hook' ? failed.hook : undefined, message: error instanceof Error ? error.message : String(error) })}`);
    },
  });
} catch (error) {
  say(`start-failed ${JSON.stringify({ name: error instanceof Error ? error.name : typeof error, message: error instanceof Error ? error.message : String(error) })}`);
  await orm.close(true);
  process.exit(0);
}
say('ready');

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== 'stop') continue;
  await worker.stop();
  await orm.close(true);
  say('stopped');
  process.exit(0);
}
