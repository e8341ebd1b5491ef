/**
 * `transitional admin <module>#<export> [--port <n>] [--host <h>]`: serves the admin view for the
 * options a module exports (an object, or a function returning them, possibly async), until
 * SIGINT or SIGTERM. Given to the CLI of `read/cli.ts` by `bin.ts`, and loaded only when it runs,
 * so the other commands never load MikroORM.
 */

import { parseArgs } from 'node:util';
import { firstLine, loadExport, UsageError, type CliIO } from '../read/cli.ts';
import { serveAdmin } from './node.ts';
import type { AdminOptions } from './options.ts';

const ADMIN_HELP = `Usage: transitional admin <module>#<export> [--port <n>] [--host <h>]

Serve the admin view (transitional/admin) for the options <module> exports as
<export>: { orm, flows, user, ... }, or a function (possibly async) returning
them. Runs until Ctrl-C (SIGINT) or SIGTERM.

Options:
  -p, --port <n>   The port to listen on (default 0: any free port, printed)
  --host <h>       The address to listen on (default 127.0.0.1: this machine only)
  -h, --help       Show this help

Example:
  npx transitional admin examples/support-tickets.ts#adminOptions --port 8080`;

/**
 * The `admin` command: serves the view for the options `<module>#<export>` gives, and resolves
 * with the exit code once the server stopped (SIGINT, SIGTERM, or `signal`).
 *
 * @example
 * const code = await adminCommand(['src/admin.ts#adminOptions', '--port', '8080'], io);
 */
export async function adminCommand(args: readonly string[], io: CliIO, signal?: AbortSignal): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options: { port: { type: 'string', short: 'p' }, host: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`admin: ${firstLine(error).replace(/\. .*$/, '')}; see transitional admin --help`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(ADMIN_HELP + '\n');
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'admin: missing <module>#<export>; see transitional admin --help' : `admin: expected one <module>#<export>, got ${positionals.length} arguments`);
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`admin: --port must be a port number (0 to 65535), got ${JSON.stringify(values.port)}`);

  const { value, where } = await loadExport(positionals[0]!, io.cwd);
  let options: unknown = value;
  if (typeof value === 'function') {
    try {
      options = await (value as () => unknown)();
    } catch (error) {
      throw new UsageError(`${where}() failed: ${firstLine(error)}`);
    }
  }
  if (options === null || typeof options !== 'object') throw new UsageError(`${where} is not admin options ({ orm, flows, user }) nor a function returning them (it is ${options === null ? 'null' : typeof options})`);
  let server;
  try {
    server = await serveAdmin({ ...(options as AdminOptions), port, ...(values.host === undefined ? {} : { host: values.host }) });
  } catch (error) {
    if (error instanceof TypeError) throw new UsageError(`${where}: ${firstLine(error)}`);
    throw error;
  }
  io.stdout(`transitional admin: serving ${server.url} (Ctrl-C to stop)\n`);

  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    signal?.addEventListener('abort', stop, { once: true });
  });
  await server.close();
  const orm = (options as { orm?: { close?: () => Promise<unknown> } }).orm;
  await orm?.close?.().catch(() => {});
  return 0;
}
