/**
 * A database server of the tests' own: its data directory, port and process belong to the test
 * that started it, so stopping, killing and restarting it disturbs no one (never do that to the
 * shared servers on 5432/3306). Subclasses say how to initialize, start and probe one kind.
 *
 * The server runs in its own process group: `kill()` is a crash of the whole server (PostgreSQL's
 * backends included), and whatever happens to the test, the process's exit handler kills it and
 * removes its directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exited, freePort, asUser } from './processes.ts';
import { sleep, within } from './deadline.ts';

/** Every server started by this process, for the exit handler. */
const running = new Set<ThrowawayServer>();
process.once('exit', () => {
  for (const server of running) server.disposeNow();
});

export abstract class ThrowawayServer {
  /** The directory holding the data, socket and logs. */
  readonly dir: string;
  #child: ChildProcess | undefined;
  #log = '';
  #port = 0;
  #initialized = false;

  /** `user`: the system user the server runs as when the tests run as root. */
  constructor(readonly kind: string, readonly user: string) {
    this.dir = mkdtempSync(join(tmpdir(), `transitional-${kind}-`));
    const ids = asUser(user);
    if (ids.uid !== undefined) chownSync(this.dir, ids.uid, ids.gid!);
    running.add(this);
  }

  get port(): number {
    return this.#port;
  }

  /** The connection URL of the server (its default database). */
  abstract get url(): string;
  /** Creates the data directory. */
  protected abstract initialize(): Promise<void>;
  /** The server's command line. */
  protected abstract command(): { command: string; args: string[] };
  /** Resolves when the server accepts a login, rejects otherwise (called until it resolves). */
  protected abstract probe(): Promise<void>;
  /** The signal for a clean, fast shutdown. */
  protected abstract readonly stopSignal: NodeJS.Signals;

  /** The last few kilobytes of the server's output, for failure messages. */
  log(): string {
    return this.#log.slice(-4000);
  }

  /** Whether the server process is running. */
  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Initializes (first time), starts the server on a free port (the same port on a restart), and waits until it accepts logins. */
  async start(timeout = 30_000): Promise<void> {
    if (this.running) throw new Error(`the throwaway ${this.kind} is already running`);
    if (!this.#initialized) {
      await within(this.initialize(), timeout, `initializing a throwaway ${this.kind}`);
      this.#initialized = true;
    }
    if (this.#port === 0) this.#port = await freePort();
    const { command, args } = this.command();
    const child = spawn(command, args, { ...asUser(this.user), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      this.#log = (this.#log + chunk.toString()).slice(-20_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.on('error', (error) => keep(Buffer.from(`spawn error: ${error.message}\n`)));
    this.#child = child;
    const deadline = Date.now() + timeout;
    for (;;) {
      if (!this.running) throw new Error(`the throwaway ${this.kind} exited while starting:\n${this.log()}`);
      try {
        await this.probe();
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          await this.kill();
          throw new Error(`the throwaway ${this.kind} did not accept logins within ${timeout} ms (${String(error)}):\n${this.log()}`);
        }
        await sleep(200);
      }
    }
  }

  /** A clean shutdown (PostgreSQL's fast mode: sessions are terminated, transactions rolled back). */
  async stop(timeout = 20_000): Promise<void> {
    const child = this.#child;
    if (child === undefined || !this.running) return;
    child.kill(this.stopSignal);
    try {
      await within(exited(child), timeout, `stopping the throwaway ${this.kind}`);
    } catch (error) {
      await this.kill();
      throw error;
    }
  }

  /** A crash: SIGKILL to the server's whole process group. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#signalGroup('SIGKILL');
    await within(exited(child), 10_000, `killing the throwaway ${this.kind}`);
    // PostgreSQL's backends are gone with the group; give the kernel a moment to release the port.
    await sleep(100);
  }

  /** Stops (or, `crash: true`, kills) the server and starts it again on the same port and data. */
  async restart(options: { crash?: boolean } = {}): Promise<void> {
    if (options.crash === true) await this.kill();
    else await this.stop();
    await this.start();
  }

  /** Kills the server and removes its directory. */
  async dispose(): Promise<void> {
    try {
      if (this.running) await this.stop(10_000).catch(() => this.kill());
    } finally {
      this.disposeNow();
    }
  }

  /** The synchronous part of `dispose`, for the exit handler. */
  disposeNow(): void {
    this.#signalGroup('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
    running.delete(this);
  }

  #signalGroup(signal: NodeJS.Signals): void {
    const pid = this.#child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  }
}
