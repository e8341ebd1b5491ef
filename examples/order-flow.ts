/**
 * An asynchronous order flow: validated input, a payment that rolls back, calls that take turns.
 *
 * - `place(order)` validates its argument with a zod schema (`input`): bad data throws
 *   `InvalidTransitionInput` with zod's issues before anything changes; good data reaches the body
 *   parsed (here: the email trimmed and lower-cased).
 * - `pay(card)` awaits a payment gateway. The state is "paid" from the moment the call starts; if
 *   the gateway rejects, it goes back to "placed" and the caller gets the gateway's error.
 * - While `pay` is in flight, another call on the same order (a customer clicking "cancel") waits
 *   for it to finish, then checks its source against the state `pay` left: it never sees a charge
 *   that is still pending.
 *
 *   node_modules/.bin/node --import tsx examples/order-flow.ts
 */
import { z } from 'zod';
import { InvalidTransitionInput, State } from 'transitional';

export const orderStatus = new State(['cart', 'placed', 'paid', 'shipped', 'cancelled'] as const, { default: 'cart', name: 'order' });
export type OrderStatus = (typeof orderStatus.values)[number];

/** What `place()` accepts: checked at run time, whatever the caller's types said. */
export const PlaceOrder = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email()),
  items: z.array(z.object({ sku: z.string().min(1), qty: z.number().int().positive() })).min(1),
});
export type PlaceOrder = z.infer<typeof PlaceOrder>;

const prices: Record<string, number> = { mug: 1200, tee: 2500 };

export class PaymentDeclined extends Error {
  override name = 'PaymentDeclined';
}

/** A fake payment gateway: answers after `delayMs`, declines the card token "tok_declined". */
export class FakeGateway {
  readonly charges = new Map<string, number>();
  readonly refunds: string[] = [];
  #next = 1;
  constructor(readonly delayMs = 10) {}

  async charge(card: string, amountCents: number): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (card === 'tok_declined') throw new PaymentDeclined(`card ${card} was declined`);
    const id = `ch_${this.#next++}`;
    this.charges.set(id, amountCents);
    return id;
  }

  async refund(chargeId: string): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    this.refunds.push(chargeId);
  }
}

export interface Order {
  status?: OrderStatus;
  email?: string;
  items: { sku: string; qty: number }[];
  chargeId?: string;
}

export class OrderFlow {
  /** What happened, in order: shows how calls took turns. */
  readonly events: string[] = [];

  constructor(
    readonly order: Order,
    readonly gateway: FakeGateway,
  ) {}

  @orderStatus.getter() getStatus() {
    return this.order.status;
  }
  @orderStatus.setter() setStatus(value: OrderStatus) {
    this.order.status = value;
  }

  @orderStatus.transition({ source: 'cart', target: 'placed', input: PlaceOrder })
  place(input: PlaceOrder) {
    this.order.email = input.email; // the parsed value: trimmed and lower-cased
    this.order.items = input.items;
  }

  get total(): number {
    return this.order.items.reduce((sum, item) => sum + (prices[item.sku] ?? 0) * item.qty, 0);
  }

  /** placed → paid; back to placed if the gateway rejects. */
  @orderStatus.transition({ source: 'placed', target: 'paid' })
  async pay(card: string): Promise<string> {
    this.events.push(`pay: charging ${this.total} cents`);
    const chargeId = await this.gateway.charge(card, this.total);
    this.order.chargeId = chargeId;
    this.events.push(`pay: charged (${chargeId})`);
    return chargeId;
  }

  /** Cancels before shipping; refunds a charge that went through. */
  @orderStatus.transition({ source: ['placed', 'paid'], target: 'cancelled' })
  async cancel(reason: string): Promise<void> {
    this.events.push(`cancel: runs (${reason}), charge ${this.order.chargeId ?? 'none'}`);
    if (this.order.chargeId !== undefined) await this.gateway.refund(this.order.chargeId);
  }

  @orderStatus.transition({ source: 'paid', target: 'shipped' })
  ship() {}
}

export interface OrderSummary {
  invalid: { status: OrderStatus; paths: string[]; message: string };
  placedEmail: string | undefined;
  declined: { error: string; status: OrderStatus };
  paid: { chargeId: string; status: OrderStatus };
  /** The second order, cancelled while its payment was in flight. */
  raced: { events: string[]; status: OrderStatus; refunds: string[] };
}

export async function main(log: (line: string) => void = () => {}): Promise<OrderSummary> {
  const gateway = new FakeGateway();

  // 1. Bad input: refused before anything changes.
  const first = new OrderFlow({ items: [] }, gateway);
  let invalid: OrderSummary['invalid'] = { status: 'cart', paths: [], message: '' };
  try {
    first.place({ email: 'not an email', items: [{ sku: 'mug', qty: 0 }] });
  } catch (error) {
    if (!(error instanceof InvalidTransitionInput)) throw error;
    const paths = error.issues.map((issue) => (issue.path ?? []).map((p) => String(typeof p === 'object' ? p.key : p)).join('.'));
    invalid = { status: orderStatus.get(first), paths, message: error.message };
    log(`place() refused: ${error.message} Issues at: ${paths.join(', ')}. Still "${invalid.status}".`);
  }

  first.place({ email: '  Ann@Example.COM ', items: [{ sku: 'mug', qty: 2 }] });
  log(`place() with good data → "${orderStatus.get(first)}", email stored as "${first.order.email}".`);

  // 2. A declined card: the state was "paid" while the charge ran, and goes back to "placed".
  let declined = { error: '', status: orderStatus.get(first) };
  try {
    await first.pay('tok_declined');
  } catch (error) {
    declined = { error: (error as Error).message, status: orderStatus.get(first) };
    log(`pay() rejected (${declined.error}): back to "${declined.status}".`);
  }
  const chargeId = await first.pay('tok_visa');
  const paid = { chargeId, status: orderStatus.get(first) };
  log(`pay() with another card → "${paid.status}" (${chargeId}).`);
  first.ship();

  // 3. Cancel while pay() is in flight: cancel() waits, then sees the finished payment and refunds it.
  const second = new OrderFlow({ items: [] }, gateway);
  second.place({ email: 'bob@example.com', items: [{ sku: 'tee', qty: 1 }] });
  const paying = second.pay('tok_visa');
  second.events.push('customer clicks cancel');
  const cancelling = second.cancel('changed my mind'); // an outside call: it waits its turn
  await Promise.all([paying, cancelling]);
  second.events.push(`done: ${orderStatus.get(second)}`);
  log(`Second order, cancel clicked during payment:\n  ${second.events.join('\n  ')}`);

  return {
    invalid,
    placedEmail: first.order.email,
    declined,
    paid,
    raced: { events: second.events, status: orderStatus.get(second), refunds: gateway.refunds },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main(console.log);
}
