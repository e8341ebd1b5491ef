/**
 * A throwaway MariaDB server (mariadb-install-db on a temporary directory, `mariadbd` on a free
 * loopback port with its own socket, root without a password) that a test may stop, kill and
 * restart.
 *
 * @example
 * const db = new ThrowawayMariadb();
 * await db.start();                     // db.url: mysql://root@127.0.0.1:<port>/test
 * await db.restart({ crash: true });    // kill -9, then InnoDB crash recovery
 * await db.dispose();
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ThrowawayServer } from './throwaway-server.ts';
import { asUser, run } from './processes.ts';

function which(...names: string[]): string | undefined {
  for (const name of names) {
    for (const dir of ['/usr/sbin', '/usr/bin']) if (existsSync(join(dir, name))) return join(dir, name);
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim();
    } catch {
      // next
    }
  }
  return undefined;
}

/** Whether the MariaDB server binaries are installed (`.ci/run` installs Debian's mariadb-server). */
export function mariadbInstalled(): boolean {
  return which('mariadbd', 'mysqld') !== undefined && which('mariadb-install-db', 'mysql_install_db') !== undefined && which('mariadb', 'mysql') !== undefined;
}

export class ThrowawayMariadb extends ThrowawayServer {
  protected readonly stopSignal = 'SIGTERM' as const;
  readonly #server: string;
  readonly #install: string;
  readonly #client: string;

  constructor() {
    super('mariadb', 'mysql');
    const server = which('mariadbd', 'mysqld');
    const install = which('mariadb-install-db', 'mysql_install_db');
    const client = which('mariadb', 'mysql');
    if (server === undefined || install === undefined || client === undefined) throw new Error('no MariaDB server binaries found: .ci/run installs Debian\'s mariadb-server');
    this.#server = server;
    this.#install = install;
    this.#client = client;
  }

  get url(): string {
    return `mysql://root@127.0.0.1:${this.port}/test`;
  }

  #options(): string[] {
    return ['--no-defaults', `--datadir=${join(this.dir, 'data')}`, '--innodb-log-file-size=8M', '--innodb-buffer-pool-size=32M'];
  }

  protected async initialize(): Promise<void> {
    await run(this.#install, [...this.#options(), '--auth-root-authentication-method=normal', '--skip-test-db'], { timeout: 60_000, ...asUser(this.user) });
  }

  protected command(): { command: string; args: string[] } {
    return {
      command: this.#server,
      args: [
        ...this.#options(),
        `--socket=${join(this.dir, 'mysqld.sock')}`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        `--pid-file=${join(this.dir, 'mysqld.pid')}`,
        '--skip-name-resolve',
        '--skip-log-bin',
        // Each commit reaches the operating system (fsync once a second): what a client saw
        // committed survives a kill -9 of the server, not an operating-system crash.
        '--innodb-flush-log-at-trx-commit=2',
        '--log-error=' + join(this.dir, 'error.log'),
      ],
    };
  }

  #created = false;

  protected async probe(): Promise<void> {
    const sql = this.#created ? 'select 1' : 'create database if not exists test';
    await run(this.#client, ['--no-defaults', '-h', '127.0.0.1', '-P', String(this.port), '-u', 'root', '--connect-timeout=2', '-e', sql], { timeout: 5_000 });
    this.#created = true;
  }

  override log(): string {
    try {
      return execFileSync('tail', ['-c', '4000', join(this.dir, 'error.log')], { encoding: 'utf8' });
    } catch {
      return super.log();
    }
  }
}
