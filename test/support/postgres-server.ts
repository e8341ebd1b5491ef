/**
 * A throwaway PostgreSQL cluster (initdb on a temporary directory, `postgres` on a free loopback
 * port, trust authentication) that a test may stop, kill and restart. fsync is off (only an
 * operating-system crash would need it) but commits are synchronous: what a client saw committed
 * survives a kill -9 of the server.
 *
 * @example
 * const pg = new ThrowawayPostgres();
 * await pg.start();                     // pg.url: postgresql://postgres@127.0.0.1:<port>/postgres
 * await pg.restart({ crash: true });    // kill -9 of the whole cluster, then crash recovery
 * await pg.dispose();
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ThrowawayServer } from './throwaway-server.ts';
import { asUser, run } from './processes.ts';

/** The newest PostgreSQL server binaries (Debian's /usr/lib/postgresql/N/bin first), or undefined. */
export function postgresBindir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(root, versions[0], 'bin');
  }
  try {
    return dirname(execFileSync('which', ['initdb'], { encoding: 'utf8' }).trim());
  } catch {
    return undefined;
  }
}

export class ThrowawayPostgres extends ThrowawayServer {
  readonly bindir: string;
  protected readonly stopSignal = 'SIGINT' as const;

  constructor() {
    super('postgresql', 'postgres');
    const bindir = postgresBindir();
    if (bindir === undefined) throw new Error('no PostgreSQL server binaries (initdb) found: .ci/run installs Debian\'s postgresql');
    this.bindir = bindir;
  }

  get url(): string {
    return `postgresql://postgres@127.0.0.1:${this.port}/postgres`;
  }

  protected async initialize(): Promise<void> {
    await run(join(this.bindir, 'initdb'), ['-D', join(this.dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync', '--no-instructions'], { timeout: 60_000, ...asUser(this.user) });
  }

  protected command(): { command: string; args: string[] } {
    return {
      command: join(this.bindir, 'postgres'),
      args: ['-D', join(this.dir, 'data'), '-p', String(this.port), '-k', this.dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'shared_buffers=16MB', '-c', 'max_connections=40'],
    };
  }

  protected async probe(): Promise<void> {
    await run(join(this.bindir, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-t', '1'], { timeout: 5_000 });
  }
}
