/** Small helpers for the lifecycle tests: promises settled by hand, and asking whether one is settled. */

import { setImmediate as macrotask } from 'node:timers/promises';

export interface Deferred<T = void> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
  readonly reject: (reason: unknown) => void;
}

/** `Promise.withResolvers()` (not in the project's `lib: es2023`). */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending microtask (and the promise chains they start) run. */
export function flush(): Promise<void> {
  return macrotask();
}

export type Settlement = 'pending' | 'resolved' | 'rejected';

/** Whether `promise` has settled once the microtask queue is drained. Does not leave it unhandled. */
export async function settlement(promise: Promise<unknown>): Promise<Settlement> {
  let status: Settlement = 'pending';
  promise.then(
    () => (status = 'resolved'),
    () => (status = 'rejected'),
  );
  await flush();
  return status;
}

/** Whether a call returned a promise (an async call) rather than a plain value. */
export function isPromise(value: unknown): value is Promise<unknown> {
  return value instanceof Promise;
}

/**
 * Rejects when `promise` has not settled after `ms`: a test about a possible deadlock fails with a
 * message instead of hanging the suite.
 */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms (deadlock?)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
