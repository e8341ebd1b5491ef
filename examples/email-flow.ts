/**
 * An email flow whose `send` chains the next transition from its own body.
 *
 * Because the state changes *before* a body runs, `send()` finds the email already in "sending"
 * and can call `complete()` (sending → sent) or `fail()` (sending → failed) itself. If `send()`'s
 * own body throws after that, the whole chain is undone: the email is back where `send()` found it.
 *
 *   node_modules/.bin/node --import tsx examples/email-flow.ts
 */
import { State } from 'transitional';

export const delivery = new State(['draft', 'sending', 'sent', 'failed'] as const, { default: 'draft', name: 'delivery' });
export type Delivery = (typeof delivery.values)[number];

export interface Email {
  readonly to: string;
  readonly subject: string;
  delivery?: Delivery;
  messageId?: string;
  lastError?: string;
}

/** A delivery failure reported by the mail server. */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
}

/** A fake SMTP client: refuses addresses at `bounce.example`, returns a message id otherwise. */
export class FakeMailer {
  readonly delivered: string[] = [];
  #next = 1;
  deliver(email: Email): string {
    if (email.to.endsWith('@bounce.example')) throw new DeliveryError(`550 mailbox ${email.to} unavailable`);
    this.delivered.push(email.to);
    return `msg-${this.#next++}`;
  }
}

/** Where sent mail is archived; `full` makes it throw, like a full disk. */
export class Archive {
  full = false;
  readonly entries: string[] = [];
  store(email: Email): void {
    if (this.full) throw new Error('archive is full');
    this.entries.push(`${email.messageId}: ${email.subject}`);
  }
}

export class EmailFlow {
  /** Every value the setter wrote, to show what a chain and its rollback look like. */
  readonly writes: Delivery[] = [];

  constructor(
    readonly email: Email,
    readonly mailer: FakeMailer,
    readonly archive: Archive,
  ) {}

  @delivery.getter() getDelivery() {
    return this.email.delivery;
  }
  @delivery.setter() setDelivery(value: Delivery) {
    this.writes.push(value);
    this.email.delivery = value;
  }

  /**
   * Sends the email. By the time this body runs the state is already "sending", so it can finish
   * the job with `complete()` or `fail()`. A delivery error is an outcome (the email is "failed"),
   * not an exception; anything thrown from here undoes `send()` and whatever it chained.
   */
  @delivery.transition({ source: ['draft', 'failed'], target: 'sending' })
  send(): Delivery {
    let messageId: string;
    try {
      messageId = this.mailer.deliver(this.email);
    } catch (error) {
      if (!(error instanceof DeliveryError)) throw error;
      this.fail(error.message); // sending → failed, and it stays so: send() returns normally
      return delivery.get(this);
    }
    this.complete(messageId); // sending → sent
    this.archive.store(this.email); // if this throws, send() fails and the email is back to before send()
    return delivery.get(this);
  }

  @delivery.transition({ source: 'sending', target: 'sent' })
  complete(messageId: string) {
    this.email.messageId = messageId;
    this.email.lastError = undefined;
  }

  @delivery.transition({ source: 'sending', target: 'failed' })
  fail(reason: string) {
    this.email.lastError = reason;
  }
}

export interface EmailSummary {
  ok: { result: Delivery; delivery: Delivery | undefined; messageId: string | undefined; writes: Delivery[] };
  bounced: { result: Delivery; delivery: Delivery | undefined; lastError: string | undefined; writes: Delivery[] };
  undone: { error: string; delivery: Delivery | undefined; writes: Delivery[] };
}

export function main(log: (line: string) => void = () => {}): EmailSummary {
  const mailer = new FakeMailer();
  const archive = new Archive();

  // 1. Delivered: send() chains complete().
  const welcome = new EmailFlow({ to: 'ann@example.com', subject: 'Welcome' }, mailer, archive);
  const okResult = welcome.send();
  log(`Welcome mail: send() → "${okResult}" (${welcome.email.messageId}); the setter wrote ${welcome.writes.join(' → ')}.`);

  // 2. Bounced: send() chains fail(); the email ends "failed", ready for another send().
  const bounce = new EmailFlow({ to: 'bob@bounce.example', subject: 'Invoice' }, mailer, archive);
  const bounceResult = bounce.send();
  log(`Invoice mail: send() → "${bounceResult}" (${bounce.email.lastError}); the setter wrote ${bounce.writes.join(' → ')}.`);

  // 3. Delivered, then the archive throws inside send(): the whole chain (send + complete) is undone.
  archive.full = true;
  const report = new EmailFlow({ to: 'cy@example.com', subject: 'Report' }, mailer, archive);
  let error = '';
  try {
    report.send();
  } catch (e) {
    error = (e as Error).message;
  }
  log(`Report mail: send() threw "${error}"; the email is back to "${delivery.get(report)}" (the setter wrote ${report.writes.join(' → ')}).`);
  log('Only the state is rolled back: undoing your own side effects (the delivered mail) is up to your code.');

  return {
    ok: { result: okResult, delivery: welcome.email.delivery, messageId: welcome.email.messageId, writes: welcome.writes },
    bounced: { result: bounceResult, delivery: bounce.email.delivery, lastError: bounce.email.lastError, writes: bounce.writes },
    undone: { error, delivery: report.email.delivery, writes: report.writes },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(console.log);
}
