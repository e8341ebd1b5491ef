#!/usr/bin/env node
/**
 * The `transitional` executable (package.json `bin`): runs the CLI of `read/cli.ts`, with the
 * `admin` command of `admin/cli.ts` passed in from here (the top layer), loaded only when it runs.
 */
import { run } from './read/cli.ts';

process.exitCode = await run(process.argv.slice(2), undefined, {
  admin: async (args, io) => (await import('./admin/cli.ts')).adminCommand(args, io),
});
