/** Entry point of the packed-package test for `transitional` alone: prints what runFlows() returns. */
import { runFlows } from './flows.js';

runFlows().then(
  (result) => console.log(JSON.stringify(result)),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
