/**
 * A resource manager: lifecycle hooks for cleanup and recovery.
 *
 * - `run(job)` acquires a connection from a pool and runs an asynchronous job with it.
 * - An `@phase.after()` hook releases the connection whatever happened, like a `finally` block.
 * - A failing job moves the manager to "recovering" instead of back to "idle"
 *   (`onError: 'recovering'` on the transition); then an `@phase.onError()` hook runs. A transition
 *   it calls starts from the rolled-back state and stands, so it calls `recover()` (recovering →
 *   idle) and the manager is ready for the next job. The job's error still reaches the caller.
 *
 *   node_modules/.bin/node --import tsx examples/resource-manager.ts
 */
import { State, type HookEvent } from 'transitional';

export const phase = new State(['idle', 'running', 'recovering'] as const, { default: 'idle', name: 'phase' });
export type Phase = (typeof phase.values)[number];

export interface Connection {
  readonly id: number;
}

/** A fake connection pool that counts what is checked out. */
export class Pool {
  #next = 1;
  readonly inUse = new Set<number>();
  resets = 0;
  acquire(): Connection {
    const connection = { id: this.#next++ };
    this.inUse.add(connection.id);
    return connection;
  }
  release(connection: Connection): void {
    this.inUse.delete(connection.id);
  }
  /** What recovery does: drop pooled connections that may be broken. */
  reset(): void {
    this.resets++;
  }
}

export class JobFailed extends Error {
  override name = 'JobFailed';
}

type Event = HookEvent<Phase, ResourceManager>;

export class ResourceManager {
  /** The connection `run` holds while its job runs. */
  connection: Connection | undefined;
  /** Every phase the setter wrote, and what the hooks did. */
  readonly phases: Phase[] = [];
  readonly log: string[] = [];
  #phase: Phase = 'idle';

  constructor(readonly pool: Pool) {}

  @phase.getter() getPhase() {
    return this.#phase;
  }
  @phase.setter() setPhase(value: Phase) {
    this.phases.push(value);
    this.#phase = value;
  }

  /** idle → running for the job, then back to idle; on a failure, to recovering. */
  @phase.transition({ source: 'idle', target: 'running', onError: 'recovering' })
  async run<T>(job: (connection: Connection) => Promise<T>): Promise<T> {
    this.connection = this.pool.acquire();
    const result = await job(this.connection);
    this.finish(); // a chained call: runs at once, even after an await
    return result;
  }

  @phase.transition({ source: 'running', target: 'idle' })
  finish() {}

  @phase.transition({ source: 'recovering', target: 'idle' })
  recover(reason: string) {
    this.pool.reset();
    this.log.push(`recovered from: ${reason}`);
  }

  /** Runs after the rollback to "recovering": recover at once, so the manager is usable again. */
  @phase.onError()
  recoverAfterFailure(event: Event) {
    if (event.transition !== 'run') return;
    this.log.push(`run failed in ${phase.get(this)}: ${(event.error as Error).message}`);
    this.recover((event.error as Error).message);
  }

  /** Runs last, on success and failure alike: give back what `run` acquired. */
  @phase.after()
  releaseConnection(event: Event) {
    if (event.transition !== 'run' || this.connection === undefined) return;
    this.pool.release(this.connection);
    this.log.push(`released connection ${this.connection.id} (${event.error === undefined ? 'success' : 'failure'})`);
    this.connection = undefined;
  }
}

export interface ResourceSummary {
  firstResult: number;
  /** The phase the job saw while it ran. */
  phaseDuringJob: Phase;
  failure: { name: string; message: string };
  /** The state after the failure was handled. */
  phaseAfterFailure: Phase;
  secondResult: number;
  phases: Phase[];
  inUse: number;
  resets: number;
  log: string[];
}

export async function main(log: (line: string) => void = () => {}): Promise<ResourceSummary> {
  const pool = new Pool();
  const manager = new ResourceManager(pool);

  let phaseDuringJob: Phase = 'idle';
  const firstResult = await manager.run(async (connection) => {
    phaseDuringJob = phase.get(manager);
    log(`Job 1 runs on connection ${connection.id} while the manager is "${phaseDuringJob}".`);
    return 42;
  });
  log(`Job 1 returned ${firstResult}; the manager is "${phase.get(manager)}", ${pool.inUse.size} connections in use.`);

  let failure = { name: '', message: '' };
  try {
    await manager.run(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      throw new JobFailed('disk quota exceeded');
    });
  } catch (error) {
    failure = { name: (error as Error).name, message: (error as Error).message };
    log(`Job 2 rejected with ${failure.name}: ${failure.message}.`);
  }
  const phaseAfterFailure = phase.get(manager);
  log(`After the failure the manager is "${phaseAfterFailure}", ${pool.inUse.size} connections in use, pool reset ${pool.resets} time(s).`);

  const secondResult = await manager.run(async () => 7);
  log(`Job 3 returned ${secondResult}.`);
  log(`Phases written: ${manager.phases.join(' → ')}`);
  for (const line of manager.log) log(`  hook: ${line}`);

  return {
    firstResult,
    phaseDuringJob,
    failure,
    phaseAfterFailure,
    secondResult,
    phases: manager.phases,
    inUse: pool.inUse.size,
    resets: pool.resets,
    log: manager.log,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main(console.log);
}
