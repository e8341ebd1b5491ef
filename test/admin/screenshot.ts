/**
 * The README's screenshots of the admin view (`npm run screenshot:admin`): the flagship example
 * runs on a scratch file, one more ticket is taken into work, and Chromium (as in the browser
 * tests) photographs the index and that ticket's page into examples/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EntityManager } from '@mikro-orm/sql';
import { actingAs } from 'transitional';
import { serveAdmin } from 'transitional/admin';
import { adminOptions, main, SupportTicketFlow, Ticket } from '../../examples/support-tickets.ts';
import { launchChromium } from './browser.ts';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'transitional-screenshot-'));
const file = join(dir, 'tickets.sqlite');
await main({ file });
const options = await adminOptions({ file });
const em = options.orm.em.fork() as unknown as EntityManager;
const ticket = em.create(Ticket, { title: 'Invoice shows the wrong VAT rate' });
await em.flush();
const flow = new SupportTicketFlow(ticket, em, 'erin');
await actingAs({ id: 'erin', name: 'erin' }, async () => {
  await flow.triage('normal');
  await flow.start();
});
const server = await serveAdmin(options);
const chromium = await launchChromium({ viewport: { width: 1100, height: 800 } });
try {
  const page = await chromium.context.newPage();
  await page.goto(server.url);
  await page.screenshot({ path: join(examples, 'admin-index.png'), fullPage: true });
  await page.goto(`${server.url}flows/SupportTicketFlow/entities/${ticket.id}`);
  await page.getByText('Arguments').click();
  await page.getByRole('textbox').fill('["Which invoice number is it?"]');
  await page.getByRole('button', { name: 'Ask the customer' }).click();
  await page.getByRole('status').waitFor();
  await page.screenshot({ path: join(examples, 'admin-ticket.png'), fullPage: true });
  console.log(`wrote examples/admin-index.png and examples/admin-ticket.png`);
} finally {
  await chromium.close();
  await server.close();
  await options.orm.close();
  rmSync(dir, { recursive: true, force: true });
}
