/**
 * `adminHandler`: the view as a Fetch API handler, `(request) => Promise<Response>`.
 *
 * Every request is answered in this order: who asks (`options.user`; nobody: 401, before anything
 * else is looked at), then the route, then for a POST the CSRF token (403) and the action. Pages
 * are HTML with one inline stylesheet allowed by its hash and no script at all
 * (Content-Security-Policy `default-src 'none'`), never cached, never framed.
 */

import { declaredValue, resolveOptions, type AdminOptions, type ShownFlow, type Site } from './options.ts';
import { entityPage, indexPage, messagePage, Paths, statePage } from './pages.ts';
import { keyWhere, loadEntity, type Cursor } from './queries.ts';
import { csrfToken, readOutcome, signOutcome } from './tokens.ts';
import { readForm, runAction } from './actions.ts';
import { STYLESHEET_HASH } from './html.ts';

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': `default-src 'none'; style-src ${STYLESHEET_HASH}; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function respond(status: number, body: string | null, request: Request, extra: Record<string, string> = {}): Response {
  const headers = new Headers({ ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', ...extra });
  return new Response(request.method === 'HEAD' ? null : body, { status, headers });
}

function redirect(location: string): Response {
  return new Response(null, { status: 303, headers: { ...SECURITY_HEADERS, location } });
}

/** The path segments after the base path, decoded; `undefined` for a path outside it or badly encoded. */
function segments(pathname: string, base: string): string[] | undefined {
  let path = pathname;
  // Mounted with the prefix kept (node:http, `app.all('/admin/*', ...)`) or stripped (Hono's mount).
  if (base !== '' && (path === base || path.startsWith(`${base}/`))) path = path.slice(base.length);
  if (path === '' || path === '/') return [];
  if (!path.startsWith('/')) return undefined;
  try {
    return path.slice(1).split('/').map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

/**
 * The admin view as a Fetch API handler: `(request: Request) => Promise<Response>`. Mount it in
 * `node:http` (`toNodeListener`, or `serveAdmin` to run it alone), Hono, or anything that speaks
 * `Request`. Throws a `TypeError` at once when an option is missing or a flow is not persisted
 * with a `flow` factory and a `field`.
 *
 * @example
 * const admin = adminHandler({
 *   orm,
 *   flows: [{ flow: TicketFlow, state: status, entity: Ticket, title: 'Support tickets' }],
 *   user: (request) => sessions.userFor(request),   // undefined: 401
 *   basePath: '/admin',
 * });
 * app.all('/admin/*', (c) => admin(c.req.raw));     // Hono
 */
export function adminHandler<U>(options: AdminOptions<U>): (request: Request) => Promise<Response> {
  const site = resolveOptions(options) as Site<unknown>;
  const paths = new Paths(site.basePath);
  const bySlug = new Map(site.flows.map((f) => [f.slug, f]));

  async function route(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const user = await site.user(request);
    if (user === undefined || user === null) return respond(401, messagePage(paths, 'Sign in first', 'This page needs to know who you are, and this request does not say.'), request);
    const userKey = site.userKey(user);
    const parts = segments(url.pathname, site.basePath);
    const method = request.method;
    const notFound = () => respond(404, messagePage(paths, 'Not found', 'There is no such page here.', paths.index()), request);
    const onlyGet = () => respond(405, messagePage(paths, 'Method not allowed', `${method} is not allowed here.`), request, { allow: 'GET, HEAD' });
    if (parts === undefined) return notFound();

    if (parts.length === 0) {
      if (method !== 'GET' && method !== 'HEAD') return onlyGet();
      return respond(200, await indexPage(site, paths, site.orm.em.fork()), request);
    }
    if (parts.length !== 4 || parts[0] !== 'flows') return notFound();
    const shown = bySlug.get(parts[1]!);
    if (shown === undefined) return notFound();

    if (parts[2] === 'states') {
      if (method !== 'GET' && method !== 'HEAD') return onlyGet();
      const value = declaredValue(shown.state, parts[3]!);
      if (value === undefined) return notFound();
      const cursor = parseCursor(shown, url.searchParams);
      if (cursor === null) return notFound();
      return respond(200, await statePage(site, paths, site.orm.em.fork(), shown, value, cursor), request);
    }
    if (parts[2] !== 'entities') return notFound();
    const keyText = parts[3]!;
    const scope = `${shown.slug}/${keyText}`;
    if (method === 'POST') {
      const form = await readForm(request);
      if (form === 'too large') return respond(413, messagePage(paths, 'Too large', 'This form is larger than any the view makes. Nothing changed.'), request);
      const result = await runAction(site, shown, keyText, form ?? new URLSearchParams(), user, userKey);
      if (result.status === 303) return redirect(paths.entity(shown, keyText, `?o=${signOutcome(site.secret, userKey, scope, result.outcome)}`));
      return respond(result.status, messagePage(paths, result.title, result.message, result.status === 404 ? paths.index() : paths.entity(shown, keyText)), request);
    }
    if (method !== 'GET' && method !== 'HEAD') return respond(405, messagePage(paths, 'Method not allowed', `${method} is not allowed here.`), request, { allow: 'GET, HEAD, POST' });
    const em = site.orm.em.fork();
    const entity = await loadEntity(em, shown, keyText);
    if (entity === undefined) return notFound();
    const flow = shown.store.wrap(entity, em);
    const outcome = readOutcome(site.secret, userKey, scope, url.searchParams.get('o'));
    return respond(200, await entityPage(paths, em, { shown, entity, flow, user, csrf: csrfToken(site.secret, userKey), outcome }), request);
  }

  return async (request: Request): Promise<Response> => {
    try {
      return await route(request);
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return respond(500, messagePage(paths, 'Something went wrong', message), request);
    }
  };
}

/** `?before=<key>` (single-column keys) or `?page=<n>` (composite ones); `null` when malformed. */
function parseCursor(shown: ShownFlow, query: URLSearchParams): Cursor | undefined | null {
  const before = query.get('before');
  const page = query.get('page');
  if (before !== null) {
    if (shown.keys.length !== 1) return null;
    const where = keyWhere(shown, before);
    return where === undefined ? null : { before: where[shown.keys[0]!.name] };
  }
  if (page !== null) {
    if (!/^\d{1,9}$/.test(page)) return null;
    return Number(page) === 0 ? undefined : { page: Number(page) };
  }
  return undefined;
}
