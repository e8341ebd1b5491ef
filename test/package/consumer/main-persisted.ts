/** Entry point of the packed-package test for `transitional/mikro-orm`: prints what runPersisted() returns. */
import { runPersisted } from './persisted.js';

runPersisted().then(
  (result) => console.log(JSON.stringify(result)),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
