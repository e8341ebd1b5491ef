/**
 * Deadlines for the fault tests: a call that does not settle in time is a hang, reported as such
 * (an assertion naming what hung), never waited for until the test runner's timeout.
 */

/** The outcome of a call run against a deadline. */
export type Outcome<T> = { readonly status: 'fulfilled'; readonly value: T; readonly ms: number } | { readonly status: 'rejected'; readonly reason: unknown; readonly ms: number } | { readonly status: 'hung'; readonly ms: number };

/**
 * Settles `promise` against a deadline of `ms` milliseconds, without throwing.
 *
 * @example
 * const outcome = await settle(flow.toggle(), 5_000);
 * if (outcome.status === 'hung') assert.fail('toggle() hung');
 */
export async function settle<T>(promise: Promise<T> | T, ms: number): Promise<Outcome<T>> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(resolve, ms, 'hung');
  });
  try {
    const result = await Promise.race([Promise.resolve(promise).then((value) => ({ value }), (reason: unknown) => ({ reason })), hung]);
    const elapsed = Math.round(performance.now() - started);
    if (result === 'hung') return { status: 'hung', ms: elapsed };
    if ('reason' in result) return { status: 'rejected', reason: result.reason, ms: elapsed };
    return { status: 'fulfilled', value: result.value, ms: elapsed };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves with `promise`'s value, or rejects with an Error saying `what` did not finish within
 * `ms` milliseconds.
 *
 * @example
 * await within(server.start(), 20_000, 'starting PostgreSQL');
 */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const outcome = await settle(promise, ms);
  if (outcome.status === 'hung') throw new Error(`${what} did not finish within ${ms} ms`);
  if (outcome.status === 'rejected') throw outcome.reason;
  return outcome.value;
}

/** `error` itself or one of its causes, the first that `match` accepts. */
export function findCause(error: unknown, match: (e: unknown) => boolean): unknown {
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 10; e = (e as { cause?: unknown }).cause, depth++) {
    if (match(e)) return e;
  }
  return undefined;
}

/** A short description of an error for assertion messages: name, message, and reason when typed. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const reason = (error as { reason?: unknown }).reason;
  return `${error.name}${reason === undefined ? '' : ` (reason ${String(reason)})`}: ${error.message}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Closes an ORM, waiting at most `ms`: a pool that lost a connection inside a transaction may
 * never finish closing (Kysely skips `release()` when commit/rollback throw), and a test's
 * cleanup must not hang on what the test is about.
 */
export async function closeSoon(orm: { close(force?: boolean): Promise<void> }, ms = 1_000): Promise<void> {
  await settle(orm.close(true).catch(() => {}), ms);
}
