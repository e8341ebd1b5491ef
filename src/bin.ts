#!/usr/bin/env node
/** The `transitional` executable (package.json `bin`): runs the CLI of `read/cli.ts`. */
import { run } from './read/cli.ts';

process.exitCode = await run(process.argv.slice(2));
