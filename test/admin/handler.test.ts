/**
 * The admin view's handler without a browser: what a request gets (status codes, headers,
 * redirects, messages) and what the database holds afterwards, on SQLite and PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EntityManager } from '@mikro-orm/core';
import { defineEntity, p } from '@mikro-orm/sql';
import { Hono } from 'hono';
import { State } from 'transitional';
import { persistTransitions, TransitionLog } from 'transitional/mikro-orm';
import { adminHandler } from 'transitional/admin';
import { adminOptions, createDatabase, databaseKinds, HOSTILE, Oddity, seed, stage, Ticket, TicketFlow, users, type Database } from './fixtures.ts';

const { kinds, missing } = databaseKinds();
if (missing !== undefined) test('PostgreSQL is required under CI', () => assert.fail(missing));

type Handler = (request: Request) => Promise<Response>;

const ORIGIN = 'http://admin.test';

function request(path: string, init: { who?: string; method?: string; form?: Record<string, string> } = {}): Request {
  const headers = new Headers();
  if (init.who !== undefined) headers.set('cookie', `who=${init.who}`);
  let body: string | undefined;
  if (init.form !== undefined) {
    headers.set('content-type', 'application/x-www-form-urlencoded');
    body = new URLSearchParams(init.form).toString();
  }
  return new Request(ORIGIN + path, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
}

/** The hidden fields of the page's action form. */
function formOf(page: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) out[m[1]!] = m[2]!.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  return out;
}

/** The outcome notice of a page, as text. */
function noticeOf(page: string): string | undefined {
  const m = /<div class="notice [a-z]+" role="(?:status|alert)">([\s\S]*?)<\/div>/.exec(page);
  return m?.[1]?.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

async function text(handler: Handler, req: Request): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await handler(req);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

async function stageOf(db: Database, id: number): Promise<string | null> {
  return (await db.fork().findOneOrFail(Ticket, id)).stage ?? null;
}

async function historyOf(db: Database, id: number): Promise<Array<{ transition: string; source: string; target: string; actor: string | null }>> {
  const rows = await db.fork().find(TransitionLog, { entity: 'Ticket', entityId: String(id) }, { orderBy: { id: 'asc' } });
  return rows.map((r) => ({ transition: r.transition, source: r.source, target: r.target, actor: r.actor ?? null }));
}

/** Loads the entity page as `who`, posts the form with `transition` (and `extra` fields), and follows the redirect. */
async function click(handler: Handler, path: string, who: string, transition: string, extra: Record<string, string> = {}): Promise<{ status: number; notice: string | undefined; location: string | null; body: string }> {
  const page = await text(handler, request(path, { who }));
  assert.equal(page.status, 200, page.body);
  const res = await handler(request(path, { who, form: { ...formOf(page.body), transition, ...extra } }));
  const location = res.headers.get('location');
  if (res.status !== 303) return { status: res.status, notice: undefined, location, body: await res.text() };
  const next = await text(handler, request(new URL(location!, ORIGIN).pathname + new URL(location!, ORIGIN).search, { who }));
  return { status: 303, notice: noticeOf(next.body), location, body: next.body };
}

describe('adminHandler() checks its options', () => {
  let db: Database;
  before(async () => {
    db = await createDatabase('sqlite');
  });
  after(async () => {
    await db?.dispose();
  });

  test('user is required, and every flow must be persisted with a flow factory and a field', () => {
    const base = adminOptions(db.orm);
    assert.throws(() => adminHandler({ ...base, user: undefined as never }), { name: 'TypeError', message: /options\.user is required.*never guesses/ });
    const loose = new State(['a', 'b'] as const, { name: 'loose' });
    class InMemory {
      @loose.transition({ source: 'a', target: 'b' }) async go() {}
    }
    assert.throws(() => adminHandler({ ...base, flows: [{ flow: InMemory, state: loose, entity: Ticket }] }), { name: 'TypeError', message: /InMemory is not persisted for State\(loose\): call persistTransitions/ });
    class NoFactory {
      constructor(readonly ticket: Ticket, readonly em: EntityManager) {}
      @loose.transition({ source: 'a', target: 'b' }) async go() {}
    }
    persistTransitions(loose, NoFactory, { em: (f) => f.em, entity: (f) => f.ticket, field: 'stage' });
    assert.throws(() => adminHandler({ ...base, flows: [{ flow: NoFactory, state: loose, entity: Ticket }] }), { name: 'TypeError', message: /has no flow factory: add \{ flow: \(entity, em\) => new NoFactory/ });
    class NoField {
      constructor(readonly ticket: Ticket, readonly em: EntityManager) {}
      @loose.transition({ source: 'a', target: 'b' }) async go() {}
    }
    persistTransitions(loose, NoField, { em: (f) => f.em, entity: (f) => f.ticket, flow: (t: Ticket, em) => new NoField(t, em) });
    assert.throws(() => adminHandler({ ...base, flows: [{ flow: NoField, state: loose, entity: Ticket }] }), { name: 'TypeError', message: /has no field: add \{ field:/ });
    assert.throws(() => adminHandler({ ...base, flows: [{ flow: TicketFlow, state: stage, entity: defineEntity({ name: 'Nope', properties: { id: p.integer().primary() } }) }] }), { name: 'TypeError', message: /entity Nope is not one of the ORM's entities/ });
    for (const basePath of ['admin', '//evil.example', '/a?b']) assert.throws(() => adminHandler({ ...base, basePath }), { name: 'TypeError', message: /basePath must be a path starting with "\/"/ });
    assert.throws(() => adminHandler({ ...base, secret: 'short' }), { name: 'TypeError', message: /secret must be at least 32 bytes/ });
    assert.throws(() => adminHandler({ ...base, flows: [] }), { name: 'TypeError', message: /flows must list at least one/ });
  });
});

for (const kind of kinds) {
  describe(`the admin handler on ${kind}`, { timeout: 120_000 }, () => {
    let db: Database;
    let keys: Awaited<ReturnType<typeof seed>>;
    let handler: Handler;
    const ticket = (id: number) => `/flows/TicketFlow/entities/${id}`;

    before(async () => {
      db = await createDatabase(kind);
      keys = await seed(db);
      handler = adminHandler(adminOptions(db.orm));
    });
    after(async () => {
      await db?.dispose();
    });

    test('no user: 401 on every page and action, checked before the CSRF token and the route', async () => {
      for (const path of ['/', '/flows/TicketFlow/states/open', ticket(keys.open), '/nowhere']) {
        const res = await text(handler, request(path));
        assert.equal(res.status, 401, path);
        assert.match(res.body, /Sign in first/);
      }
      const page = await text(handler, request(ticket(keys.open), { who: 'alice' }));
      const res = await handler(request(ticket(keys.open), { form: { ...formOf(page.body), transition: 'assign' } }));
      assert.equal(res.status, 401);
      assert.equal(await stageOf(db, keys.open), null);
    });

    test('pages carry a strict Content-Security-Policy, are not cached and cannot be framed', async () => {
      const res = await text(handler, request('/', { who: 'alice' }));
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-security-policy')!, /^default-src 'none'; style-src 'sha256-[^']+'; .*frame-ancestors 'none'/);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.doesNotMatch(res.body, /<script/i);
      const head = await handler(request('/', { who: 'alice', method: 'HEAD' }));
      assert.equal(head.status, 200);
      assert.equal(await head.text(), '');
    });

    test('the index counts entities per state (a NULL state column counts as the default) and draws each flow', async () => {
      const res = await text(handler, request('/', { who: 'alice' }));
      assert.match(res.body, /<a href="\/flows\/TicketFlow\/states\/open">open<\/a><\/td><td class="num">1<\/td>/);
      assert.match(res.body, /<a href="\/flows\/TicketFlow\/states\/review">In review<\/a> <code>review<\/code><\/td><td class="num">1<\/td>/);
      assert.match(res.body, /<svg role="img" aria-label="States of Tickets"/);
      assert.match(res.body, /xlink:href="\/flows\/TicketFlow\/states\/assigned"/);
    });

    test('a click: 303 to the entity page (POST-redirect-GET), which says what happened; the history has the actor', async () => {
      const r = await click(handler, ticket(keys.open), 'alice', 'assign');
      assert.equal(r.status, 303);
      assert.match(r.location!, /^\/flows\/TicketFlow\/entities\/\d+\?o=/);
      assert.equal(r.notice, '“Assign to me” done: open → Assigned.');
      assert.equal(await stageOf(db, keys.open), 'assigned');
      assert.deepEqual(await historyOf(db, keys.open), [{ transition: 'assign', source: 'open', target: 'assigned', actor: 'Alice' }]);
      assert.match(r.body, /<td>Assign to me<\/td><td>open<\/td><td>Assigned <code>assigned<\/code><\/td><td>Alice<\/td><td><time datetime="/);
      // The message is for its user and page only: another user, or a changed message, shows nothing.
      const asBob = await text(handler, request(r.location!, { who: 'bob' }));
      assert.equal(noticeOf(asBob.body), undefined);
      const forged = r.location!.replace(/\?o=[^.]+/, `?o=${Buffer.from(JSON.stringify({ k: 'ok', m: 'forged', t: Date.now() })).toString('base64url')}`);
      assert.notEqual(forged, r.location);
      assert.equal(noticeOf((await text(handler, request(forged, { who: 'alice' }))).body), undefined);
    });

    test('without a valid CSRF token bound to the user: 403, nothing changes', async () => {
      const path = ticket(keys.assigned);
      const page = await text(handler, request(path, { who: 'alice' }));
      const form: Record<string, string> = { ...formOf(page.body), transition: 'reopen' };
      const bobs = formOf((await text(handler, request(path, { who: 'bob' }))).body)._csrf!;
      const attempts: Record<string, Record<string, string>> = {
        missing: { ...form, _csrf: '' },
        garbage: { ...form, _csrf: 'not-a-token' },
        "another user's": { ...form, _csrf: bobs },
        tampered: { ...form, _csrf: form._csrf!.slice(0, -2) + (form._csrf!.endsWith('AA') ? 'BB' : 'AA') },
        'from the future': { ...form, _csrf: `${(Date.now() + 3_600_000).toString(36)}.${form._csrf!.split('.')[1]}` },
      };
      for (const [name, fields] of Object.entries(attempts)) {
        const res = await text(handler, request(path, { who: 'alice', form: fields }));
        assert.equal(res.status, 403, name);
        assert.match(res.body, /not issued to you, or it has expired/, name);
      }
      const noBody = await handler(new Request(ORIGIN + path, { method: 'POST', headers: { cookie: 'who=alice' } }));
      assert.equal(noBody.status, 403);
      assert.equal(await stageOf(db, keys.assigned), 'assigned');
      assert.deepEqual(await historyOf(db, keys.assigned), []);
    });

    test('a token older than a day is refused', async (t) => {
      const path = ticket(keys.assigned);
      const form = { ...formOf((await text(handler, request(path, { who: 'alice' }))).body), transition: 'reopen' };
      t.mock.timers.enable({ apis: ['Date'], now: Date.now() + 25 * 3_600_000 });
      const res = await text(handler, request(path, { who: 'alice', form }));
      t.mock.timers.reset();
      assert.equal(res.status, 403);
      assert.equal(await stageOf(db, keys.assigned), 'assigned');
    });

    test('a permission that refuses the user: no button, and a forged POST with their own valid token gets 403', async () => {
      const path = ticket(keys.review);
      const asBob = await text(handler, request(path, { who: 'bob' }));
      assert.doesNotMatch(asBob.body, /value="approve"/);
      assert.match(asBob.body, /<button type="submit" name="transition" value="reopen">Reopen<\/button>/);
      const res = await text(handler, request(path, { who: 'bob', form: { ...formOf(asBob.body), transition: 'approve' } }));
      assert.equal(res.status, 403);
      assert.match(res.body, /You may not &quot;Approve&quot; \(approve\): its permission refuses you\. Nothing changed\./);
      assert.equal(await stageOf(db, keys.review), 'review');
      assert.deepEqual(await historyOf(db, keys.review), []);
      const asAlice = await text(handler, request(path, { who: 'alice' }));
      assert.match(asAlice.body, /<button type="submit" name="transition" value="approve">Approve<\/button>/);
    });

    test('only a transition of the shown State can be posted: any other method name is 400 and runs nothing', async () => {
      const path = ticket(keys.assigned);
      for (const name of ['setStage', 'getStage', 'constructor', '__proto__', 'toString', '']) {
        const res = await text(handler, request(path, { who: 'alice', form: { ...formOf((await text(handler, request(path, { who: 'alice' }))).body), transition: name } }));
        assert.equal(res.status, 400, name);
      }
      assert.equal(await stageOf(db, keys.assigned), 'assigned');
    });

    test('a failed condition: the reason is listed next to the buttons, and shown when the click is refused', async () => {
      const path = ticket(keys.assigned);
      const page = await text(handler, request(path, { who: 'alice' }));
      assert.match(page.body, /<li><strong>Send to review<\/strong>: write a note first<\/li>/);
      const r = await click(handler, path, 'alice', 'submit');
      assert.equal(r.notice, '“Send to review” was refused: write a note first. Nothing changed.');
      assert.equal(await stageOf(db, keys.assigned), 'assigned');
    });

    test('input: invalid arguments are a readable message; valid ones are passed on', async () => {
      const path = ticket(keys.done);
      let r = await click(handler, path, 'alice', 'close');
      assert.match(r.notice!, /^“Close” needs other input: .+\. Nothing changed\.$/);
      r = await click(handler, path, 'alice', 'close', { args: '{"because": "x"}' });
      assert.equal(r.notice, 'The arguments must be a JSON array, like ["urgent"] for one argument. Nothing changed.');
      r = await click(handler, path, 'alice', 'close', { args: '[oops' });
      assert.match(r.notice!, /^The arguments are not JSON/);
      r = await click(handler, path, 'alice', 'close', { args: '[{"because": "x"}]' });
      assert.match(r.notice!, /^“Close” needs other input: because: .+/);
      assert.equal(await stageOf(db, keys.done), 'done');
      r = await click(handler, path, 'alice', 'close', { args: '[{"because": "fixed upstream"}]' });
      assert.equal(r.notice, '“Close” done: Done → closed.');
      assert.equal((await db.fork().findOneOrFail(Ticket, keys.done)).closedBecause, 'fixed upstream');
    });

    test('a change between page load and click: the page says so and nothing else changes (state moved, or moved and back)', async () => {
      const em = db.fork();
      const t = em.create(Ticket, { title: 'Raced', stage: 'assigned' });
      await em.flush();
      const path = ticket(t.id);
      const page = await text(handler, request(path, { who: 'alice' }));
      const other = db.fork();
      await new TicketFlow(await other.findOneOrFail(Ticket, t.id), other).reopen();
      let res = await handler(request(path, { who: 'alice', form: { ...formOf(page.body), transition: 'reopen' } }));
      let next = await text(handler, request(res.headers.get('location')!, { who: 'alice' }));
      assert.equal(noticeOf(next.body), `Ticket ${t.id} changed since you loaded this page: it is now open. Nothing was done: look again, then decide.`);
      assert.match(next.body, /class="notice warn" role="alert"/);
      assert.equal(await stageOf(db, t.id), 'open');
      assert.equal((await historyOf(db, t.id)).length, 1);

      // A → B → A: the state is as the page showed it, but the history moved on.
      const page2 = await text(handler, request(path, { who: 'alice' }));
      const em2 = db.fork();
      const flow = new TicketFlow(await em2.findOneOrFail(Ticket, t.id), em2);
      await flow.assign();
      await flow.reopen();
      res = await handler(request(path, { who: 'alice', form: { ...formOf(page2.body), transition: 'assign' } }));
      next = await text(handler, request(res.headers.get('location')!, { who: 'alice' }));
      assert.equal(noticeOf(next.body), `Ticket ${t.id} changed since you loaded this page: it went through other transitions and is open again. Nothing was done: look again, then decide.`);
      assert.equal(await stageOf(db, t.id), 'open');
      assert.equal((await historyOf(db, t.id)).length, 3);
    });

    test('two users clicking at once: one wins, the other is told someone else was first', async () => {
      const em = db.fork();
      const t = em.create(Ticket, { title: 'Contested', stage: 'open' });
      await em.flush();
      const path = ticket(t.id);
      const [a, b] = await Promise.all(['alice', 'bob'].map(async (who) => formOf((await text(handler, request(path, { who }))).body)));
      const results = await Promise.all([
        handler(request(path, { who: 'alice', form: { ...a!, transition: 'assign' } })),
        handler(request(path, { who: 'bob', form: { ...b!, transition: 'assign' } })),
      ]);
      const notices = await Promise.all(results.map(async (res, i) => noticeOf((await text(handler, request(res.headers.get('location')!, { who: i === 0 ? 'alice' : 'bob' }))).body)!));
      const won = notices.filter((n) => n === '“Assign to me” done: open → Assigned.');
      const lost = notices.filter((n) => /changed since you loaded this page: it is now Assigned|Someone else changed Ticket \d+ first: it is now Assigned/.test(n));
      assert.equal(won.length, 1, notices.join('\n'));
      assert.equal(lost.length, 1, notices.join('\n'));
      const rows = await historyOf(db, t.id);
      assert.equal(rows.length, 1);
      assert.ok(rows[0]!.actor === 'Alice' || rows[0]!.actor === 'Bob');
    });

    test('a value the State does not declare: counted apart on the index; its entity page says its state cannot be read, and offers nothing', async () => {
      const em = db.fork();
      const t = em.create(Ticket, { title: 'Legacy', stage: 'legacy' });
      await em.flush();
      const index = (await text(handler, request('/', { who: 'alice' }))).body;
      assert.match(index, /<tr><td><code>legacy<\/code> <span class="muted">\(not a declared state\)<\/span><\/td><td class="num">1<\/td><\/tr>/);
      const page = await text(handler, request(ticket(t.id), { who: 'alice' }));
      assert.equal(page.status, 200);
      assert.match(page.body, /Its state cannot be read: [^<]*&quot;legacy&quot;/);
      assert.doesNotMatch(page.body, /<form class="actions"/);
      await em.nativeDelete(Ticket, { id: t.id });
    });

    test('404 for what does not exist, 405 for other methods', async () => {
      for (const path of ['/flows/Nope/states/open', '/flows/TicketFlow/states/nope', '/flows/TicketFlow/entities/999999', '/flows/TicketFlow/entities/1.5', "/flows/TicketFlow/entities/1'%20or%20'1'='1", '/flows/TicketFlow/entities/%E0%A4%A', '/flows/TicketFlow', '/flows/TicketFlow/states/open?before=x']) {
        assert.equal((await handler(request(path, { who: 'alice' }))).status, 404, path);
      }
      assert.equal((await handler(request('/', { who: 'alice', method: 'POST' }))).status, 405);
      const put = await handler(request(ticket(keys.open), { who: 'alice', method: 'PUT' }));
      assert.equal(put.status, 405);
      assert.equal(put.headers.get('allow'), 'GET, HEAD, POST');
    });

    test('the entities of one state, newest first, a page at a time', async () => {
      const em = db.fork();
      const made = Array.from({ length: 7 }, (_, i) => em.create(Ticket, { title: `Paged ${i}`, stage: 'closed' }));
      await em.flush();
      const paged = adminHandler(adminOptions(db.orm, { pageSize: 3 }));
      const ids = (body: string) => [...body.matchAll(/<a href="\/flows\/TicketFlow\/entities\/(\d+)">/g)].map((m) => Number(m[1]));
      const newest = made.map((t) => t.id).sort((x, y) => y - x);
      let res = await text(paged, request('/flows/TicketFlow/states/closed', { who: 'alice' }));
      assert.match(res.body, /<h1>Tickets: closed<\/h1>/);
      assert.match(res.body, /8 entities in closed, newest first/);
      assert.deepEqual(ids(res.body), newest.slice(0, 3));
      const older = /<a href="([^"]+)">Older →<\/a>/.exec(res.body)![1]!.replace(/&amp;/g, '&');
      res = await text(paged, request(older, { who: 'alice' }));
      assert.deepEqual(ids(res.body), newest.slice(3, 6));
      assert.match(res.body, /← Newest/);
      const third = /<a href="([^"]+)">Older →<\/a>/.exec(res.body)![1]!.replace(/&amp;/g, '&');
      res = await text(paged, request(third, { who: 'alice' }));
      assert.deepEqual(ids(res.body).slice(0, 1), newest.slice(6, 7));
      assert.doesNotMatch(res.body, /Older →/);
    });

    test('hostile values are escaped everywhere: entity fields, keys, state and transition labels, titles, actors, the SVG', async () => {
      const escaped = HOSTILE.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
      const odd = `/flows/OddityFlow/entities/${encodeURIComponent(keys.oddity)}`;
      const pages = ['/', '/flows/OddityFlow/states/draft', odd];
      for (const path of pages) {
        const res = await text(handler, request(path, { who: 'alice' }));
        assert.equal(res.status, 200, path);
        assert.ok(!res.body.includes(HOSTILE), `${path} holds the raw hostile text`);
        assert.doesNotMatch(res.body, /<script|<img|onerror="/i, path);
      }
      const index = (await text(handler, request('/', { who: 'alice' }))).body;
      assert.ok(index.includes(`<h2 id="flow-1">Oddities ${escaped}</h2>`));
      assert.ok(index.includes(`<a href="/flows/OddityFlow/states/live">Live ${escaped}</a>`));
      // Graphviz's SVG holds the label as escaped text (it escapes quotes its own way).
      assert.match(index, /<text [^>]*>Live &lt;script&gt;window\.__pwned=1&lt;\/script&gt;&quot;(?:&#39;|')&lt;\/svg&gt;&lt;img src=x onerror=&quot;window\.__pwned=2&quot;&gt;<\/text>/);
      const list = (await text(handler, request('/flows/OddityFlow/states/draft', { who: 'alice' }))).body;
      assert.ok(list.includes(`<a href="${odd.replace(/'/g, '&#39;')}">Oddity x&#39;&quot;&lt;b&gt;/1</a>`), 'the key is escaped and its link encoded');
      const r = await click(handler, odd, 'alice', 'publish');
      assert.equal(r.notice, `“Publish ${HOSTILE}” done: draft → Live ${HOSTILE}.`);
      assert.ok(r.body.includes(`<td>Publish ${escaped}</td><td>draft</td><td>Live ${escaped} <code>live</code></td><td>Alice ${escaped}</td>`));
      assert.ok(!r.body.includes(HOSTILE));
      assert.equal((await db.fork().findOneOrFail(Oddity, keys.oddity)).currentPhase, 'live');
    });

    test('a base path: links and redirects carry it; the handler serves the path with or without it (Hono mount strips it)', async () => {
      const base = adminHandler(adminOptions(db.orm, { basePath: '/admin/' }));
      const res = await text(base, request('/admin/', { who: 'alice' }));
      assert.equal(res.status, 200);
      assert.match(res.body, /href="\/admin\/flows\/TicketFlow\/states\/open"/);
      assert.equal((await base(request('/admin', { who: 'alice' }))).status, 200);

      const app = new Hono();
      app.mount('/admin', base);
      const viaMount = await app.request('/admin/flows/TicketFlow/states/open', { headers: { cookie: 'who=alice' } });
      assert.equal(viaMount.status, 200);
      assert.match(await viaMount.text(), /<h1>Tickets: open<\/h1>/);
      const kept = new Hono();
      kept.all('/admin/*', (c) => base(c.req.raw));
      const viaAll = await kept.request('/admin/', { headers: { cookie: 'who=alice' } });
      assert.equal(viaAll.status, 200);
      assert.equal((await kept.request('/admin/')).status, 401);

      const em = db.fork();
      const t = em.create(Ticket, { title: 'Based', stage: 'assigned' });
      await em.flush();
      const page = await text(base, request(`/admin${ticket(t.id)}`, { who: 'alice' }));
      assert.match(page.body, new RegExp(`<form class="actions" method="post" action="/admin${ticket(t.id)}">`));
      const posted = await base(request(`/admin${ticket(t.id)}`, { who: 'alice', form: { ...formOf(page.body), transition: 'reopen' } }));
      assert.equal(posted.status, 303);
      assert.match(posted.headers.get('location')!, new RegExp(`^/admin${ticket(t.id)}\\?o=`));
    });

    test('a user object without an id needs userKey; with it, tokens are bound to that key', async () => {
      const anonymous = adminHandler(adminOptions(db.orm, { user: () => ({ name: 'no id' }) as never }));
      const page = await text(anonymous, request('/', {}));
      assert.equal(page.status, 200, 'JSON of the user is the default key');
      const circular: Record<string, unknown> = { name: 'loop' };
      circular.self = circular;
      const broken = adminHandler(adminOptions(db.orm, { user: () => circular as never }));
      const res = await text(broken, request('/', {}));
      assert.equal(res.status, 500);
      assert.match(res.body, /pass the userKey option/);
      const keyed = adminHandler(adminOptions(db.orm, { user: () => users.alice, userKey: (u) => `staff:${u.id}` }));
      assert.equal((await keyed(request('/', {}))).status, 200);
    });
  });
}
