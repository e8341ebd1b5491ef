/**
 * A TCP proxy between an ORM and a database server that loses connections on command:
 * - `cutAll()`: every open connection is cut now (both sides), as a network failure or a server
 *   restart would; new connections pass again;
 * - `cutOnQuery(pattern)`: the next client query whose SQL text matches is forwarded, and once the
 *   server has answered it, the connection is cut before the answer reaches the client: the server
 *   did the work (a COMMIT committed) but the client never hears back — the "unknown outcome";
 *   `{ forward: false }` cuts instead of forwarding (the server never sees the query).
 * Otherwise bytes pass through unchanged. It reads the SQL of the PostgreSQL protocol (simple
 * `Query` and extended `Parse` messages) and of the MySQL/MariaDB protocol (`COM_QUERY`,
 * `COM_STMT_PREPARE`): MikroORM sends its statements as text, so the SQL is in the packet.
 *
 * @example
 * const proxy = await FaultProxy.start({ protocol: 'postgresql', port: 5432 });
 * const orm = await MikroORM.init({ ..., clientUrl: `postgresql://postgres@127.0.0.1:${proxy.port}/test` });
 * proxy.cutOnQuery(/^\s*commit/i);      // the next COMMIT commits, its answer is lost
 * await proxy.close();
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export type Protocol = 'postgresql' | 'mysql';

interface Trigger {
  readonly pattern: RegExp;
  readonly forward: boolean;
  readonly resolve: (sql: string) => void;
}

/** One client connection and its upstream connection. */
class Link {
  #pending: Buffer = Buffer.alloc(0);
  #startup: boolean;
  /** The server's answer to this query is the last thing before the cut. */
  #cutOnAnswer = false;
  #answerTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly proxy: FaultProxy,
    readonly client: Socket,
    readonly server: Socket,
  ) {
    // PostgreSQL's first client message (startup or SSL request) has no type byte.
    this.#startup = proxy.protocol === 'postgresql';
    client.on('data', (chunk: Buffer) => this.#fromClient(chunk));
    server.on('data', (chunk: Buffer) => this.#fromServer(chunk));
    const end = () => this.cut();
    client.on('error', end);
    server.on('error', end);
    client.on('close', end);
    server.on('close', end);
  }

  /** Destroys both sides (the server sees the client go away, the client sees the server go away). */
  cut(): void {
    clearTimeout(this.#answerTimer);
    this.client.destroy();
    this.server.destroy();
    this.proxy.forget(this);
  }

  #fromServer(chunk: Buffer): void {
    if (this.#cutOnAnswer) {
      // The server answered the matched query: drop the answer and cut.
      this.cut();
      return;
    }
    this.client.write(chunk);
  }

  #fromClient(chunk: Buffer): void {
    if (this.#cutOnAnswer) return;
    // Split the stream into messages to read their SQL; forward message by message, so a cut can
    // happen right after the matching one.
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    for (;;) {
      const size = this.#messageSize();
      if (size === undefined || this.#pending.length < size) return;
      const message = this.#pending.subarray(0, size);
      this.#pending = this.#pending.subarray(size);
      const sql = this.#sqlOf(message);
      const trigger = sql === undefined ? undefined : this.proxy.take(sql);
      if (trigger === undefined) {
        this.server.write(message);
        continue;
      }
      trigger.resolve(sql!);
      if (!trigger.forward) {
        this.cut();
        return;
      }
      this.server.write(message);
      this.#cutOnAnswer = true;
      // A server that never answers (it died too): cut anyway.
      this.#answerTimer = setTimeout(() => this.cut(), 5_000);
      return;
    }
  }

  /** The size of the next complete client message, when its header has arrived. */
  #messageSize(): number | undefined {
    const b = this.#pending;
    if (this.proxy.protocol === 'postgresql') {
      if (this.#startup) {
        if (b.length < 4) return undefined;
        this.#startup = b.length >= 8 && b.readInt32BE(4) === 80877103; // SSLRequest: the real startup message follows
        return b.readInt32BE(0);
      }
      if (b.length < 5) return undefined;
      return 1 + b.readInt32BE(1);
    }
    if (b.length < 4) return undefined;
    return 4 + b.readUIntLE(0, 3);
  }

  /** The SQL text a client message carries, if it is a query. */
  #sqlOf(message: Buffer): string | undefined {
    if (this.proxy.protocol === 'postgresql') {
      const type = String.fromCharCode(message[0]!);
      if (type === 'Q') return message.toString('utf8', 5, message.length - 1);
      if (type === 'P') {
        const nameEnd = message.indexOf(0, 5);
        const queryEnd = message.indexOf(0, nameEnd + 1);
        return nameEnd === -1 || queryEnd === -1 ? undefined : message.toString('utf8', nameEnd + 1, queryEnd);
      }
      return undefined;
    }
    // MySQL: 3-byte length, sequence id, then the command. COM_QUERY = 3, COM_STMT_PREPARE = 22;
    // a command starts a new sequence (id 0), which keeps the login packets out.
    const command = message[4];
    if (message[3] === 0 && (command === 0x03 || command === 0x16)) return message.toString('utf8', 5);
    return undefined;
  }
}

export class FaultProxy {
  readonly #server: Server;
  readonly #links = new Set<Link>();
  readonly #triggers: Trigger[] = [];
  /** How many connections the proxy has accepted, and how many it cut on command. */
  accepted = 0;
  cuts = 0;

  private constructor(
    readonly protocol: Protocol,
    readonly target: { host: string; port: number },
    server: Server,
  ) {
    this.#server = server;
  }

  /** Starts a proxy on a free loopback port in front of `host:port` (default host 127.0.0.1). */
  static async start(options: { protocol: Protocol; port: number; host?: string }): Promise<FaultProxy> {
    const target = { host: options.host ?? '127.0.0.1', port: options.port };
    const server = createServer();
    const proxy = new FaultProxy(options.protocol, target, server);
    server.on('connection', (client) => proxy.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  /** The port to connect to instead of the server's. */
  get port(): number {
    const address = this.#server.address();
    if (typeof address !== 'object' || address === null) throw new Error('the proxy is not listening');
    return address.port;
  }

  /** A URL of the same server through this proxy: `url` with its port replaced. */
  through(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  /** The number of connections open through the proxy now. */
  get open(): number {
    return this.#links.size;
  }

  #accept(client: Socket): void {
    this.accepted++;
    client.setNoDelay(true);
    client.pause();
    const server = connect(this.target.port, this.target.host);
    server.setNoDelay(true);
    const link = new Link(this, client, server);
    this.#links.add(link);
    server.once('connect', () => client.resume());
  }

  /** Cuts every open connection now; returns how many. */
  cutAll(): number {
    const links = [...this.#links];
    for (const link of links) link.cut();
    this.cuts += links.length;
    return links.length;
  }

  /**
   * Arms a cut on the next query whose SQL matches `pattern` (on any connection). The promise
   * resolves with the SQL when it happened. `forward: true` (the default) lets the server run it
   * and cuts once it answered; `false` cuts without forwarding it.
   */
  cutOnQuery(pattern: RegExp, options: { forward?: boolean } = {}): Promise<string> {
    return new Promise((resolve) => {
      this.#triggers.push({
        pattern,
        forward: options.forward ?? true,
        resolve: (sql) => {
          this.cuts++;
          resolve(sql);
        },
      });
    });
  }

  /** Removes the armed triggers that have not fired. */
  disarm(): void {
    this.#triggers.length = 0;
  }

  /** @internal The first armed trigger matching `sql`, removed. */
  take(sql: string): Trigger | undefined {
    const at = this.#triggers.findIndex((t) => t.pattern.test(sql));
    if (at === -1) return undefined;
    return this.#triggers.splice(at, 1)[0];
  }

  /** @internal */
  forget(link: Link): void {
    this.#links.delete(link);
  }

  /** Cuts every connection and stops listening. */
  async close(): Promise<void> {
    this.disarm();
    for (const link of [...this.#links]) link.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
