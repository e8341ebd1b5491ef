/** Spawning and talking to `toggle-worker.ts` processes, each bounded by a deadline. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { within } from '../support/deadline.ts';
import { exited } from '../support/processes.ts';
import type { Job } from './toggle-worker.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

export class Worker {
  readonly child: ChildProcessWithoutNullStreams;
  readonly #lines: AsyncIterator<string>;
  stderr = '';

  constructor(job: Job) {
    this.child = spawn(join(root, 'node_modules/.bin/node'), ['--import', 'tsx', join(root, 'test/faults/toggle-worker.ts'), JSON.stringify(job)], { cwd: root });
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-4000)));
    this.#lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  /** The rest of the first line starting with `prefix`, within `ms`. */
  async expect(prefix: string, ms: number): Promise<string> {
    const read = async () => {
      for (;;) {
        const next = await this.#lines.next();
        if (next.done === true) throw new Error(`the worker ended before "${prefix}": ${this.stderr}`);
        if (next.value.startsWith(prefix)) return next.value.slice(prefix.length).trim();
      }
    };
    return within(read(), ms, `a worker's "${prefix}" line`);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** kill -9. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await within(exited(this.child), 10_000, 'a killed worker exiting');
  }

  /** Resolves with the exit code. */
  async exit(ms: number): Promise<number | null> {
    await within(exited(this.child), ms, 'a worker exiting');
    return this.child.exitCode;
  }
}
