#!/usr/bin/env node
/** The `transitional` executable (package.json `bin`): runs the CLI of `cli.ts`. */
import { run } from './cli.ts';

process.exitCode = await run(process.argv.slice(2));
