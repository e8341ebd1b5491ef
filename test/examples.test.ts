/**
 * The examples are documentation that runs: each one's `main()` is asserted on here, and each file
 * is also run as a script (what a user copying it would do), so neither can rot unnoticed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { readdirSync } from 'node:fs';
import { InvalidTransitionInput } from 'transitional';

import * as review from '../examples/review-flow.ts';
import * as ticket from '../examples/ticket-flow.ts';
import * as email from '../examples/email-flow.ts';
import * as inheritance from '../examples/inheritance.ts';
import * as resource from '../examples/resource-manager.ts';
import * as order from '../examples/order-flow.ts';
import * as connection from '../examples/connection.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

describe('examples/review-flow.ts', () => {
  test('submit, a refused publish, approval, publish, remove', () => {
    const r = review.main();
    assert.deepEqual(r.stages, ['new', 'review', 'review', 'published', 'removed']);
    assert.equal(r.refused.transition, 'publish');
    assert.equal(r.refused.state, 'review');
    assert.equal(r.refused.reason, 'condition');
    assert.match(r.refused.message, /publish/);
    assert.match(r.refused.message, /nobody approved it yet/);
  });

  test('available/can before and after approval', () => {
    const r = review.main();
    assert.deepEqual(r.availableInReview, ['fastTrack', 'remove']);
    assert.equal(r.canPublishBefore, false);
    assert.equal(r.canPublishAfter, true);
  });

  test('GuestReviewFlow.fastTrack runs the parent body once, then its own', () => {
    const r = review.main();
    assert.deepEqual(r.guest, { stage: 'published', approver: 'guest-system' });
    assert.deepEqual(r.labels, { submit: 'Send to review', publish: 'Publish', fastTrack: 'Fast track', remove: 'Remove' });
  });
});

describe('examples/ticket-flow.ts', () => {
  test('buttons depend on the user; a denied action changes nothing', () => {
    const r = ticket.main();
    assert.deepEqual(r.openButtons, { carol: [], alice: ['Take it'], root: ['Take it', 'Close as spam'] });
    assert.match(r.deniedMessage, /carol \(customer\) may not assign/);
  });

  test('resolved: every transition without a user, the reporter may reopen and close', () => {
    const r = ticket.main();
    assert.deepEqual(r.resolvedAvailable, ['reopen', 'close']);
    assert.deepEqual(r.resolvedForReporter, ['reopen', 'close']);
    assert.deepEqual(r.ticket, { status: 'closed', assignee: 'alice', resolution: 'Replaced the fuser.' });
  });

  test('meta reaches the UI model', () => {
    const flow = new ticket.TicketFlow(new ticket.Ticket('x', 'carol'));
    assert.deepEqual(ticket.buttonsFor(flow, ticket.root), [
      { action: 'assign', label: 'Take it', meta: { icon: 'hand', style: 'primary' } },
      { action: 'markSpam', label: 'Close as spam', meta: { icon: 'trash', style: 'danger' } },
    ]);
  });
});

describe('examples/email-flow.ts', () => {
  test('send chains complete on success and fail on a delivery error', () => {
    const r = email.main();
    assert.deepEqual(r.ok, { result: 'sent', delivery: 'sent', messageId: 'msg-1', writes: ['sending', 'sent'] });
    assert.equal(r.bounced.result, 'failed');
    assert.equal(r.bounced.delivery, 'failed');
    assert.match(r.bounced.lastError ?? '', /550 mailbox bob@bounce\.example/);
    assert.deepEqual(r.bounced.writes, ['sending', 'failed']);
  });

  test('a throw in the outer body undoes the whole chain', () => {
    const r = email.main();
    assert.equal(r.undone.error, 'archive is full');
    assert.equal(r.undone.delivery, 'draft');
    assert.deepEqual(r.undone.writes, ['sending', 'sent', 'draft']);
  });
});

describe('examples/inheritance.ts', () => {
  test('inherit() + superTransition: one state change, both bodies', () => {
    const r = inheritance.main();
    assert.equal(r.audited.state, 'approved');
    assert.deepEqual(r.audited.approvedBy, ['max']);
    assert.deepEqual(r.audited.audit, ['max approved 3 days for ann (now approved)']);
  });

  test('a redeclared transition replaces the parent table and still reaches the parent body', () => {
    const r = inheritance.main();
    assert.equal(r.long.refusedFrom, 'submitted');
    assert.equal(r.long.afterManager, 'escalated');
    assert.equal(r.long.state, 'approved');
    assert.deepEqual(r.long.approvedBy, ['max', 'lea (HR)']);
    assert.deepEqual(r.tables.base, ['submit: draft → submitted', 'approve: submitted → approved', 'reject: submitted|escalated → rejected']);
    assert.deepEqual(r.tables.audited, r.tables.base);
    assert.deepEqual(r.tables.long, [
      'submit: draft → submitted',
      'approve: submitted → escalated',
      'reject: submitted|escalated → rejected',
      'approveByHr: escalated → approved',
    ]);
  });
});

describe('examples/resource-manager.ts', () => {
  test('after releases, onError moves to recovering, the onError hook recovers to idle', async () => {
    const r = await resource.main();
    assert.equal(r.firstResult, 42);
    assert.equal(r.phaseDuringJob, 'running');
    assert.deepEqual(r.failure, { name: 'JobFailed', message: 'disk quota exceeded' });
    assert.equal(r.phaseAfterFailure, 'idle');
    assert.equal(r.secondResult, 7);
    assert.deepEqual(r.phases, ['running', 'idle', 'running', 'recovering', 'idle', 'running', 'idle']);
    assert.equal(r.inUse, 0);
    assert.equal(r.resets, 1);
    assert.deepEqual(r.log, [
      'released connection 1 (success)',
      'run failed in recovering: disk quota exceeded',
      'recovered from: disk quota exceeded',
      'released connection 2 (failure)',
      'released connection 3 (success)',
    ]);
  });
});

describe('examples/order-flow.ts', () => {
  test('invalid input, parsed input, a declined payment rolled back, a queued cancel', async () => {
    const r = await order.main();
    assert.equal(r.invalid.status, 'cart');
    assert.deepEqual(r.invalid.paths, ['email', 'items.0.qty']);
    assert.match(r.invalid.message, /place/);
    assert.equal(r.placedEmail, 'ann@example.com');
    assert.deepEqual(r.declined, { error: 'card tok_declined was declined', status: 'placed' });
    assert.deepEqual(r.paid, { chargeId: 'ch_1', status: 'paid' });
    assert.deepEqual(r.raced.events, [
      'pay: charging 2500 cents',
      'customer clicks cancel',
      'pay: charged (ch_2)',
      'cancel: runs (changed my mind), charge ch_2',
      'done: cancelled',
    ]);
    assert.equal(r.raced.status, 'cancelled');
    assert.deepEqual(r.raced.refunds, ['ch_2']);
  });

  test('InvalidTransitionInput carries the schema issues', () => {
    const flow = new order.OrderFlow({ items: [] }, new order.FakeGateway());
    assert.throws(
      () => flow.place({ email: 'a@b.co', items: [] }),
      (e: unknown) => e instanceof InvalidTransitionInput && e.transition === 'place' && e.issues.length === 1 && e.issues[0]!.path?.[0] === 'items',
    );
  });
});

describe('examples/connection.ts', () => {
  test('waitFor, waitForAtLeast, rewind, abort, StateSkipped', async () => {
    const r = await connection.main();
    assert.deepEqual(r.events.slice(0, 2), ['connect() called', 'state right after the call: connecting']);
    assert.deepEqual(new Set(r.events.slice(2)), new Set(['waiter: established', 'connect() resolved']));
    assert.equal(r.establishedWait, 'established');
    assert.equal(r.atLeastConnecting, 'connecting');
    assert.deepEqual(r.skippedAtOnce, { skipped: 'connecting', state: 'established' });
    assert.deepEqual(r.afterReconnect, { during: 'connecting', writes: ['connecting', 'established'], state: 'established' });
    assert.deepEqual(r.aborted, { name: 'TimeoutError' });
    assert.deepEqual(r.refused, { error: 'server refused the handshake', state: 'disconnected' });
    assert.deepEqual(r.skippedLater, { skipped: 'established', state: 'closed' });
  });
});

describe('every example runs as a script', () => {
  // Every .ts file in examples/, so an example added later is run too.
  const files = readdirSync(new URL('../examples/', import.meta.url)).filter((f) => f.endsWith('.ts'));
  const covered = ['review-flow.ts', 'ticket-flow.ts', 'email-flow.ts', 'inheritance.ts', 'resource-manager.ts', 'order-flow.ts', 'connection.ts'];

  test('the examples this file covers are all there', () => {
    for (const f of covered) assert.ok(files.includes(f), `examples/${f} is missing`);
  });

  for (const file of files) {
    test(`examples/${file} exits with code 0`, async () => {
      // execFile rejects (with the exit code and stderr) when the script fails.
      const { stdout } = await run('node_modules/.bin/node', ['--import', 'tsx', `examples/${file}`], { cwd: root, timeout: 60_000 });
      if (covered.includes(file)) assert.ok(stdout.trim().length > 0, `examples/${file} printed nothing`);
    });
  }
});
