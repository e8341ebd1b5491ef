/**
 * A network connection with ordered states that callers can await.
 *
 * `ordered: true` makes the declaration order a total order: disconnected < connecting <
 * established < closed. Then:
 * - a transition may only move forward, unless it says `rewind: true` (`reconnect` goes from
 *   established back to connecting);
 * - `waitFor(flow, 'established')` resolves when the connection gets there, and rejects with
 *   `StateSkipped` once it is past it (closed): the caller learns that it will never come;
 * - `waitForAtLeast(flow, 'established')` resolves once the state is established or later;
 * - a wait takes an `AbortSignal`: aborting rejects it with the signal's reason.
 * Waiters wake when the transition that entered the state has completed, never for a state that
 * was rolled back.
 *
 *   node_modules/.bin/node --import tsx examples/connection.ts
 */
import { State, StateSkipped } from 'transitional';

export const link = new State(['disconnected', 'connecting', 'established', 'closed'] as const, {
  ordered: true,
  default: 'disconnected',
  name: 'link',
});
export type Link = (typeof link.values)[number];

export class HandshakeRefused extends Error {
  override name = 'HandshakeRefused';
}

/** A fake server: completes (or refuses) a handshake after `delayMs`. */
export class FakeServer {
  handshakes = 0;
  constructor(
    readonly answer: 'accept' | 'refuse',
    readonly delayMs = 5,
  ) {}
  async handshake(): Promise<void> {
    this.handshakes++;
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (this.answer === 'refuse') throw new HandshakeRefused('server refused the handshake');
  }
}

export class Connection {
  /** Every state the setter wrote. */
  readonly writes: Link[] = [];
  #link: Link | undefined;

  constructor(readonly server: FakeServer) {}

  @link.getter() getLink() {
    return this.#link;
  }
  @link.setter() setLink(value: Link) {
    this.writes.push(value);
    this.#link = value;
  }

  /** disconnected → connecting, then (chained) established; back to disconnected if refused. */
  @link.transition({ source: 'disconnected', target: 'connecting' })
  async connect(): Promise<void> {
    await this.server.handshake();
    this.ready();
  }

  @link.transition({ source: 'connecting', target: 'established' })
  ready() {}

  /** Going back in the order needs `rewind: true`; a failed reconnect leaves it disconnected. */
  @link.transition({ source: 'established', target: 'connecting', rewind: true, onError: 'disconnected' })
  async reconnect(): Promise<void> {
    await this.server.handshake();
    this.ready();
  }

  @link.transition({ source: ['disconnected', 'connecting', 'established'], target: 'closed' })
  close() {}
}

export interface ConnectionSummary {
  /** What happened on the good connection, in order. */
  events: string[];
  establishedWait: Link;
  atLeastConnecting: Link;
  skippedAtOnce: { skipped: string | number; state: string | number };
  afterReconnect: { during: Link; writes: Link[]; state: Link };
  /** A wait given up through `AbortSignal.timeout()`. */
  aborted: { name: string };
  refused: { error: string; state: Link };
  /** A wait for "established" on a connection that closed instead. */
  skippedLater: { skipped: string | number; state: string | number };
}

function asSkipped(error: unknown): { skipped: string | number; state: string | number } {
  if (!(error instanceof StateSkipped)) throw error;
  return { skipped: error.skipped, state: error.state };
}

export async function main(log: (line: string) => void = () => {}): Promise<ConnectionSummary> {
  // 1. A caller waits for the connection before anyone connects it.
  const events: string[] = [];
  const conn = new Connection(new FakeServer('accept'));
  const waiting = link.waitFor(conn, 'established').then((value) => {
    events.push(`waiter: ${value}`);
    return value;
  });
  events.push('connect() called');
  const connecting = conn.connect().then(() => events.push('connect() resolved'));
  events.push(`state right after the call: ${link.get(conn)}`);
  const [establishedWait] = await Promise.all([waiting, connecting]);
  log(`Waiting for "established" on a fresh connection:\n  ${events.join('\n  ')}`);

  // Already satisfied or already past: answered at once.
  const atLeastConnecting = await link.waitForAtLeast(conn, 'connecting');
  const skippedAtOnce = await link.waitFor(conn, 'connecting').then(() => ({ skipped: '', state: '' }), asSkipped);
  log(`waitForAtLeast("connecting") → "${atLeastConnecting}"; waitFor("connecting") → StateSkipped (it is "${skippedAtOnce.state}").`);

  // 2. A reconnect goes back in the order (rewind) and forward again.
  conn.writes.length = 0;
  const reconnecting = conn.reconnect();
  const during = link.get(conn);
  // Taken while reconnect() is in flight: it judges what that call leaves, not the "connecting" of now.
  const reconnected = link.waitFor(conn, 'established');
  await Promise.all([reconnected, reconnecting]);
  const afterReconnect = { during, writes: [...conn.writes], state: link.get(conn) };
  log(`reconnect() wrote ${afterReconnect.writes.join(' → ')}; a wait taken while it was "${during}" resolved on "established".`);
  conn.close();

  // 3. A server that refuses: one caller gives up after 10 ms, another waits until the connection is closed.
  const flaky = new Connection(new FakeServer('refuse', 30));
  const impatient = link.waitFor(flaky, 'established', { signal: AbortSignal.timeout(10) });
  const patient = link.waitFor(flaky, 'established');
  const attempt = flaky.connect();
  let aborted = { name: '' };
  try {
    await impatient;
  } catch (error) {
    aborted = { name: (error as Error).name };
    log(`The impatient caller's wait rejected with the signal's reason: ${aborted.name}.`);
  }
  let refused = { error: '', state: link.get(flaky) };
  try {
    await attempt;
  } catch (error) {
    refused = { error: (error as Error).message, state: link.get(flaky) };
    log(`connect() failed (${refused.error}): back to "${refused.state}"; the patient waiter keeps waiting.`);
  }
  flaky.close();
  const skippedLater = await patient.then(() => ({ skipped: '', state: '' }), asSkipped);
  log(`close() → the patient waiter gets StateSkipped: "${skippedLater.skipped}" was skipped, the connection is "${skippedLater.state}".`);

  return { events, establishedWait, atLeastConnecting, skippedAtOnce, afterReconnect, aborted, refused, skippedLater };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main(console.log);
}
