/**
 * The view on `node:http`: `toNodeListener` adapts any Fetch API handler to a `(req, res)`
 * listener, `serveAdmin` starts a server of its own.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { adminHandler } from './handler.ts';
import type { AdminOptions } from './options.ts';

export interface NodeListenerOptions {
  /** The largest request body read, in bytes (default 1 MiB); a larger one gets 413. */
  readonly maxBodyBytes?: number;
}

function requestUrl(req: IncomingMessage): URL {
  const target = req.url ?? '/';
  // Origin-form ("/path?q") under our own scheme and host; an absolute-form target (proxies) as it is.
  return target.startsWith('/') ? new URL(`http://${req.headers.host ?? 'localhost'}${target}`) : new URL(target);
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) return 'too large';
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length !== 0) headers['set-cookie'] = cookies;
  res.writeHead(response.status, headers);
  if (response.body === null) {
    res.end();
    return;
  }
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}

/**
 * Adapts a Fetch API handler (such as `adminHandler(...)`) to a `node:http` request listener.
 *
 * @example
 * const admin = toNodeListener(adminHandler({ orm, flows, user, basePath: '/admin' }));
 * createServer((req, res) => (req.url?.startsWith('/admin') ? admin(req, res) : app(req, res))).listen(3000);
 */
export function toNodeListener(handler: (request: Request) => Promise<Response> | Response, options: NodeListenerOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const max = options.maxBodyBytes ?? 1024 * 1024;
  return (req, res) => {
    void (async () => {
      let url: URL;
      try {
        url = requestUrl(req);
      } catch {
        res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('Bad request target or Host header.');
        return;
      }
      const method = req.method ?? 'GET';
      let body: Buffer | undefined;
      if (method !== 'GET' && method !== 'HEAD') {
        const read = await readBody(req, max);
        if (read === 'too large') {
          res.writeHead(413, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end('Request body too large.');
          req.destroy();
          return;
        }
        body = read;
      }
      const headers = new Headers();
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i]!;
        if (!name.startsWith(':')) headers.append(name, req.rawHeaders[i + 1]!);
      }
      const request = new Request(url, { method, headers, ...(body === undefined ? {} : { body: new Uint8Array(body) }) });
      await send(res, await handler(request));
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(error instanceof Error ? error.message : String(error));
    });
  };
}

/** What `serveAdmin` gives back. */
export interface AdminServer {
  /** The index page's address, like `http://127.0.0.1:43121/` (with the base path). */
  readonly url: string;
  /** Stops accepting requests, closes open connections, and resolves once the server is closed. */
  close(): Promise<void>;
}

/** `adminHandler`'s options, and where to listen. */
export interface ServeAdminOptions<U = unknown> extends AdminOptions<U> {
  /** Default 0: any free port (read it from `url`). */
  readonly port?: number;
  /** Default `127.0.0.1`: this machine only. */
  readonly host?: string;
}

/**
 * Starts the admin view on its own `node:http` server (by default on 127.0.0.1, on a free port).
 *
 * @example
 * const admin = await serveAdmin({ orm, flows: [{ flow: TicketFlow, state: status, entity: Ticket }], user: () => currentUser, port: 8080 });
 * console.log(`admin view: ${admin.url}`);
 * // later
 * await admin.close();
 */
export async function serveAdmin<U>(options: ServeAdminOptions<U>): Promise<AdminServer> {
  const { port = 0, host = '127.0.0.1', ...rest } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`serveAdmin(): port must be an integer from 0 to 65535, got ${String(port)}.`);
  const handler = adminHandler(rest);
  const server = createServer(toNodeListener(handler));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' || host.includes(':') ? `[${address.address}]` : host;
  const base = (rest.basePath ?? '').replace(/\/+$/, '');
  return {
    url: `http://${shownHost}:${address.port}${base}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
