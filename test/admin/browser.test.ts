/**
 * The admin view in a real browser: Debian's Chromium driven by playwright-core, against the view
 * served by `serveAdmin`, on SQLite and PostgreSQL. A person's clicks, and what the database holds
 * afterwards.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { TransitionLog } from 'transitional/mikro-orm';
import { serveAdmin, type AdminServer } from 'transitional/admin';
import { adminOptions, createDatabase, databaseKinds, HOSTILE, Oddity, seed, Ticket, TicketFlow, type Database } from './fixtures.ts';
import { browserMissing, launchChromium, type Chromium } from './browser.ts';

const { kinds, missing: dbMissing } = databaseKinds();
const noBrowser = browserMissing();
if (dbMissing !== undefined) test('PostgreSQL is required under CI', () => assert.fail(dbMissing));
if (noBrowser !== undefined && process.env.CI === 'true') test('Chromium is required under CI', () => assert.fail(`CI=true but ${noBrowser}`));
if (noBrowser !== undefined && process.env.CI !== 'true') console.log(`# ${noBrowser}: the browser tests of the admin view are not run.`);

/** Deadlines: a step in the browser, and a whole test. */
const STEP = 15_000;
const TEST = 60_000;

async function stageOf(db: Database, id: number): Promise<string | null> {
  return (await db.fork().findOneOrFail(Ticket, id)).stage ?? null;
}

async function historyOf(db: Database, entity: string, id: string | number) {
  const rows = await db.fork().find(TransitionLog, { entity, entityId: String(id) }, { orderBy: { id: 'asc' } });
  return rows.map((r) => ({ transition: r.transition, source: r.source, target: r.target, actor: r.actor ?? null }));
}

describe('the admin view in Chromium', { skip: noBrowser !== undefined, timeout: 10 * TEST }, () => {
  let chromium: Chromium;

  before(async () => {
    chromium = await launchChromium();
    chromium.context.setDefaultTimeout(STEP);
    chromium.context.setDefaultNavigationTimeout(STEP);
  });
  after(async () => {
    await chromium?.close();
  });

  for (const kind of kinds) {
    describe(`on ${kind}`, () => {
      let db: Database;
      let server: AdminServer;
      let keys: Awaited<ReturnType<typeof seed>>;
      let page: Page;
      const ticket = (id: number) => `${server.url}flows/TicketFlow/entities/${id}`;

      /** A fresh tab acting as `who` (a cookie; none for nobody). */
      async function as(who: string | undefined): Promise<Page> {
        await page?.close();
        await chromium.context.clearCookies();
        if (who !== undefined) await chromium.context.addCookies([{ name: 'who', value: who, url: server.url }]);
        page = await chromium.context.newPage();
        return page;
      }

      before(async () => {
        db = await createDatabase(kind);
        keys = await seed(db);
        server = await serveAdmin(adminOptions(db.orm));
      });
      after(async () => {
        await page?.close().catch(() => {});
        await server?.close();
        await db?.dispose();
      });

      test('a user clicks a transition; the page says it is done and the database agrees, with the user in the history', { timeout: TEST }, async () => {
        const p = await as('alice');
        await p.goto(server.url);
        await p.getByRole('link', { name: 'open', exact: true }).click();
        await p.getByRole('link', { name: `Ticket ${keys.open}` }).click();
        assert.equal(p.url(), ticket(keys.open));
        await p.getByRole('button', { name: 'Assign to me' }).click();
        await p.getByRole('status').waitFor();
        assert.equal(await p.getByRole('status').textContent(), '“Assign to me” done: open → Assigned.');
        assert.match(await p.locator('.state').textContent() ?? '', /^Assigned$/);
        assert.equal(await stageOf(db, keys.open), 'assigned');
        assert.deepEqual(await historyOf(db, 'Ticket', keys.open), [{ transition: 'assign', source: 'open', target: 'assigned', actor: 'Alice' }]);
        assert.equal(await p.locator('table').first().locator('tbody tr').count(), 1);
        assert.match((await p.locator('table').first().locator('tbody tr').textContent()) ?? '', /^Assign to meopenAssigned assignedAlice\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
        // POST-redirect-GET: reloading shows the page again, it does not post again.
        await p.reload();
        assert.equal((await historyOf(db, 'Ticket', keys.open)).length, 1);
      });

      test('a user without the permission sees no button; a forged POST with their own token gets 403 and changes nothing', { timeout: TEST }, async () => {
        const p = await as('bob');
        await p.goto(ticket(keys.review));
        assert.equal(await p.getByRole('button', { name: 'Approve' }).count(), 0);
        assert.equal(await p.getByRole('button', { name: 'Reopen' }).count(), 1);
        // Forge the missing button into the real form (its CSRF token is bob's own) and submit it.
        const response = p.waitForResponse((r) => r.request().method() === 'POST');
        // (The functions below run in the page; the test's TypeScript has no DOM types.)
        await p.locator('form.actions').evaluate((form: any) => {
          const button = form.ownerDocument.createElement('button');
          button.name = 'transition';
          button.value = 'approve';
          button.textContent = 'Forged';
          form.append(button);
          button.click();
        });
        assert.equal((await response).status(), 403);
        await p.getByRole('heading', { name: 'Refused' }).waitFor();
        assert.match((await p.locator('main').textContent()) ?? '', /its permission refuses you\. Nothing changed\./);
        assert.equal(await stageOf(db, keys.review), 'review');
        assert.deepEqual(await historyOf(db, 'Ticket', keys.review), []);
      });

      test('a missing or invalid CSRF token: 403, nothing changes', { timeout: TEST }, async () => {
        const p = await as('alice');
        for (const tamper of ['remove', 'replace'] as const) {
          await p.goto(ticket(keys.assigned));
          await p.locator('input[name="_csrf"]').evaluate((input: any, how: string) => {
            if (how === 'remove') input.remove();
            else input.value = `${Date.now().toString(36)}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`;
          }, tamper);
          const response = p.waitForResponse((r) => r.request().method() === 'POST');
          await p.getByRole('button', { name: 'Reopen' }).click();
          assert.equal((await response).status(), 403, tamper);
          await p.getByRole('heading', { name: 'Refused' }).waitFor();
        }
        assert.equal(await stageOf(db, keys.assigned), 'assigned');
        assert.deepEqual(await historyOf(db, 'Ticket', keys.assigned), []);
      });

      test('no user: 401', { timeout: TEST }, async () => {
        const p = await as(undefined);
        const response = await p.goto(server.url);
        assert.equal(response?.status(), 401);
        await p.getByRole('heading', { name: 'Sign in first' }).waitFor();
        assert.equal((await p.goto(ticket(keys.assigned)))?.status(), 401);
      });

      test('a change between page load and click: the page shows the conflict, nothing else changes', { timeout: TEST }, async () => {
        const em = db.fork();
        const t = em.create(Ticket, { title: 'Raced', stage: 'assigned' });
        await em.flush();
        const p = await as('alice');
        await p.goto(ticket(t.id));
        // Meanwhile, someone else reopens it.
        const other = db.fork();
        await new TicketFlow(await other.findOneOrFail(Ticket, t.id), other).reopen();
        await p.getByRole('button', { name: 'Reopen' }).click();
        await p.getByRole('alert').waitFor();
        assert.equal(await p.getByRole('alert').textContent(), `Ticket ${t.id} changed since you loaded this page: it is now open. Nothing was done: look again, then decide.`);
        assert.match((await p.locator('.state').textContent()) ?? '', /^open$/);
        assert.equal(await p.getByRole('button', { name: 'Assign to me' }).count(), 1);
        assert.equal(await stageOf(db, t.id), 'open');
        assert.deepEqual(await historyOf(db, 'Ticket', t.id), [{ transition: 'reopen', source: 'assigned', target: 'open', actor: null }]);
      });

      test('a refused condition shows its reason, before and after a click', { timeout: TEST }, async () => {
        const em = db.fork();
        const t = em.create(Ticket, { title: 'Noted', stage: 'assigned', note: 'ready' });
        await em.flush();
        const p = await as('alice');
        await p.goto(ticket(t.id));
        // The note goes away after the page was loaded: the condition refuses the click.
        await db.fork().nativeUpdate(Ticket, { id: t.id }, { note: null });
        await p.getByRole('button', { name: 'Send to review' }).click();
        await p.getByRole('alert').waitFor();
        assert.equal(await p.getByRole('alert').textContent(), '“Send to review” was refused: write a note first. Nothing changed.');
        assert.match((await p.locator('ul.refused').textContent()) ?? '', /Send to review: write a note first/);
        assert.equal(await stageOf(db, t.id), 'assigned');
      });

      test('hostile values (an entity field, its key, a state label, a transition label, an actor) are text, in HTML and SVG; no script runs', { timeout: TEST }, async () => {
        const p = await as('alice');
        let dialogs = 0;
        p.on('dialog', (d) => {
          dialogs++;
          void d.dismiss();
        });
        const requested: string[] = [];
        p.on('request', (r) => requested.push(r.url()));
        const check = async (where: string) => {
          assert.equal(await p.evaluate('window.__pwned'), undefined, `${where}: a hostile script ran`);
          assert.equal(await p.locator('script').count(), 0, `${where}: a script element`);
          assert.equal(await p.locator('img').count(), 0, `${where}: an injected img element`);
          assert.equal(dialogs, 0, where);
        };

        await p.goto(server.url);
        assert.equal(await p.getByRole('heading', { name: `Oddities ${HOSTILE}` }).count(), 1);
        assert.ok((await p.locator('svg text').allTextContents()).includes(`Live ${HOSTILE}`), 'the SVG shows the hostile label as text');
        assert.equal(await p.locator('svg').count(), 2, 'both diagrams are drawn');
        await check('index');

        await p.getByRole('link', { name: 'draft', exact: true }).click();
        await p.getByRole('link', { name: `Oddity ${keys.oddity}` }).click();
        assert.equal(await p.getByRole('heading', { level: 1 }).textContent(), `Oddity ${keys.oddity}: ${HOSTILE}`);
        await check('entity');
        await p.getByRole('button', { name: `Publish ${HOSTILE}` }).click();
        await p.getByRole('status').waitFor();
        assert.equal(await p.getByRole('status').textContent(), `“Publish ${HOSTILE}” done: draft → Live ${HOSTILE}.`);
        assert.match((await p.locator('table').first().locator('tbody tr').textContent()) ?? '', new RegExp(`^Publish .*Alice ${HOSTILE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
        assert.ok((await p.locator('svg text').allTextContents()).includes(`Live ${HOSTILE}`));
        await check('after the click');
        assert.equal((await db.fork().findOneOrFail(Oddity, keys.oddity)).currentPhase, 'live');
        assert.deepEqual(requested.filter((u) => !u.startsWith(server.url)), [], 'nothing was loaded from elsewhere');
        assert.ok(!requested.some((u) => /\/x$/.test(new URL(u).pathname)), 'the injected img was never requested');
      });

      test('readable on a phone: no horizontal scrolling of the page, buttons large enough to tap', { timeout: TEST }, async () => {
        const p = await as('alice');
        await p.setViewportSize({ width: 390, height: 844 });
        await p.goto(ticket(keys.review));
        const overflow = (await p.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
        assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
        const box = await p.getByRole('button', { name: 'Approve' }).boundingBox();
        assert.ok(box !== null && box.height >= 40, `button height ${box?.height}`);
      });
    });
  }
});
