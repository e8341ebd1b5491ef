/**
 * The flagship example (`npm start`): support tickets persisted with MikroORM in an embedded SQLite
 * file. Every transition is one database transaction that locks the ticket's row, checks its status
 * and writes a history row per change; a failure writes nothing; a stale entity manager loses
 * cleanly. E-mails go out after the commit (a durable hook, run by a worker), and a ticket left
 * waiting for the customer closes itself (a timer).
 *
 *   npm start                                   # ./support-tickets.sqlite
 *   SUPPORT_TICKETS_DB=/tmp/t.sqlite npm start
 *   npm start -- --admin [--port 8080]          # then serve the admin view on it until Ctrl-C
 *   npx transitional admin examples/support-tickets.ts#adminOptions   # the admin view alone
 */
import { parseArgs } from 'node:util';
import { MikroORM, defineEntity, p, type EntityManager, type InferEntity } from '@mikro-orm/sql';
import { State, TransitionNotAllowed, toMermaid, type HookEvent } from 'transitional';
import { ConcurrentTransition, TransitionLog, history, persistTransitions, sqliteOptions, startWorker } from 'transitional/mikro-orm';
import type { AdminOptions } from 'transitional/admin';

// 1. The states, declared once, with labels for people (diagrams, the CLI, your UI).
export const status = new State(['new', 'triaged', 'in_progress', 'waiting', 'resolved', 'closed', 'escalated'] as const, {
  name: 'status',
  default: 'new',
  labels: { in_progress: 'In progress', waiting: 'Waiting for the customer', escalated: 'Escalated to billing' },
});
export type Status = (typeof status.values)[number];

// 2. An ordinary MikroORM entity: it knows nothing about the flow.
export const Ticket = defineEntity({
  name: 'Ticket',
  properties: {
    id: p.integer().primary(),
    title: p.string(),
    status: p.string().default('new'),
    priority: p.string().default('normal'),
    assignee: p.string().nullable(),
    question: p.string().nullable(),
    resolution: p.string().nullable(),
  },
});
export type Ticket = InferEntity<typeof Ticket>;

/** How long a ticket waits for the customer before it closes itself: days in real life, 300 ms here. */
export const NO_REPLY_AFTER = 300;

/** Stands in for a mail server: what was sent, and by whom. */
export const outbox: string[] = [];

/** Stands in for a payment provider that is having a bad day. */
async function refundThroughProvider(amount: number): Promise<never> {
  await new Promise((resolve) => setTimeout(resolve, 5));
  throw new Error(`payment provider timed out refunding ${amount.toFixed(2)} EUR`);
}

// 3. The flow: which changes are legal, for one agent working in one entity manager.
export class SupportTicketFlow {
  constructor(
    readonly ticket: Ticket,
    readonly em: EntityManager,
    readonly agent: string,
  ) {}

  @status.getter() getStatus() {
    return this.ticket.status as Status;
  }
  @status.setter() setStatus(value: Status) {
    this.ticket.status = value;
  }

  @status.transition({ source: 'new', target: 'triaged' })
  async triage(priority: 'low' | 'normal' | 'urgent') {
    this.ticket.priority = priority;
  }

  @status.transition({ source: 'triaged', target: 'in_progress', label: 'Take it' })
  async start() {
    this.ticket.assignee = this.agent;
  }

  @status.transition({ source: 'in_progress', target: 'waiting', label: 'Ask the customer' })
  async ask(question: string) {
    this.ticket.question = question;
  }

  @status.transition({ source: 'waiting', target: 'in_progress', label: 'Customer replied' })
  async customerReplied() {}

  /** Resolving may close at once; an empty resolution is refused after the state moved, so it rolls back. */
  @status.transition({ source: 'in_progress', target: 'resolved' })
  async resolve(resolution: string, options: { close?: boolean } = {}) {
    this.ticket.resolution = resolution;
    if (resolution.trim() === '') throw new Error('a resolution must say what was done');
    if (options.close === true) await this.close();
  }

  @status.transition({ source: 'resolved', target: 'closed' })
  async close() {}

  /** A refund that fails moves the ticket to `escalated` (and only that is committed). */
  @status.transition({ source: 'in_progress', target: 'resolved', onError: 'escalated' })
  async refund(amount: number) {
    this.ticket.resolution = `refunded ${amount.toFixed(2)} EUR`;
    await refundThroughProvider(amount);
  }

  /** A timer: a worker calls this once the ticket has waited that long, if it is still waiting. */
  @status.transition({ source: 'waiting', target: 'closed', after: NO_REPLY_AFTER, label: 'Close for no reply' })
  async closeForNoReply() {
    this.ticket.resolution = 'closed: no reply from the customer';
  }

  /** Urgent tickets are started as soon as they are triaged: a chained transition, in the same database transaction. */
  @status.onEnter('triaged')
  async startIfUrgent() {
    if (this.ticket.priority === 'urgent') await this.start();
  }

  /** Whichever way a ticket leaves `waiting`, the open question is answered. */
  @status.onExit('waiting')
  clearQuestion() {
    this.ticket.question = null;
  }

  /** After the commit, never before (a rolled-back resolve sends nothing); a worker runs it, and retries it if the mail server fails. */
  @status.afterCommit({ transitions: ['resolve', 'closeForNoReply'], durable: true })
  async emailCustomer(event: HookEvent<Status>) {
    outbox.push(`to the customer of #${this.ticket.id}: your ticket is ${status.label(event.target).toLowerCase()} (attempt ${event.attempt})`);
  }

  /** After the commit, in this process (the call settles once it ran): never for the agent who lost the race. */
  @status.afterCommit({ transitions: ['start'] })
  tellAssignee() {
    outbox.push(`to ${this.ticket.assignee}: #${this.ticket.id} is yours`);
  }
}

// 4. One call makes every transition of the flow persistent.
persistTransitions(status, SupportTicketFlow, {
  em: (flow) => flow.em,
  entity: (flow) => flow.ticket,
  field: 'status',
  // How a worker (timers, durable hooks) and the admin view wrap a ticket they loaded.
  flow: (ticket: Ticket, em) => new SupportTicketFlow(ticket, em as EntityManager, 'system'),
  // Who did it: the user a call acts for (actingAs, as the admin view does), else the flow's agent.
  actor: (flow, user: Agent | undefined) => user?.name ?? flow.agent,
});

/** Who uses the admin view. */
export interface Agent {
  readonly id: string;
  readonly name: string;
}

export interface Summary {
  readonly tickets: ReadonlyArray<{ readonly title: string; readonly status: string; readonly history: readonly string[] }>;
  /** What the after-commit hooks sent. */
  readonly outbox: readonly string[];
  /** The message of the ConcurrentTransition the slower agent got. */
  readonly concurrent: string;
  /** The error of the refused resolution, and the status the ticket kept. */
  readonly rolledBack: { readonly error: string; readonly status: string };
  readonly diagram: string;
}

export async function main(options: { file?: string; log?: (line: string) => void } = {}): Promise<Summary> {
  const log = options.log ?? (() => {});
  const file = options.file ?? 'support-tickets.sqlite';
  // SQLite through node:sqlite (no native addon), in WAL mode with a busy timeout.
  const orm = await MikroORM.init({ ...sqliteOptions(file), entities: [Ticket, TransitionLog] });
  outbox.length = 0;
  try {
    await orm.schema.refresh(); // a fresh database on every run
    await orm.em.getConnection().execute('drop table if exists transitional_job'); // and no jobs left from the last
    const setup = orm.em.fork();
    const printer = setup.create(Ticket, { title: 'Printer on fire' });
    const refund = setup.create(Ticket, { title: 'Refund order #1234' });
    const login = setup.create(Ticket, { title: 'Cannot log in' });
    const silent = setup.create(Ticket, { title: 'VPN drops every hour' });
    await setup.flush();
    log(`Opened ${[printer, refund, login, silent].map((t) => `#${t.id} "${t.title}"`).join(', ')} in ${file}.`);

    // A worker runs timers and durable hooks (on SQLite, one worker process serves the file; here
    // the same process, for the demo).
    const worker = await startWorker(orm, { pollInterval: 50 });

    // Alice works in her own entity manager (one per request or job, as MikroORM wants).
    const alice = orm.em.fork();
    const printerFlow = new SupportTicketFlow(await alice.findOneOrFail(Ticket, printer.id), alice, 'alice');
    await printerFlow.triage('urgent');
    log(`#${printer.id}: triaged as urgent, which starts it at once → ${printerFlow.ticket.status} (assignee ${printerFlow.ticket.assignee}).`);
    await printerFlow.resolve('Replaced the fuser', { close: true });
    log(`#${printer.id}: resolved and closed in one transaction → ${printerFlow.ticket.status}.`);

    // A failure rolls back: nothing is written, and the entity is as the database has it.
    const loginFlow = new SupportTicketFlow(await alice.findOneOrFail(Ticket, login.id), alice, 'alice');
    await loginFlow.triage('normal');
    await loginFlow.start();
    let rolledBack = { error: '', status: '' };
    try {
      await loginFlow.resolve('   ');
    } catch (error) {
      rolledBack = { error: (error as Error).message, status: loginFlow.ticket.status };
      log(`#${login.id}: resolve('   ') failed ("${rolledBack.error}"): still ${rolledBack.status}, resolution ${String(loginFlow.ticket.resolution)}, nothing written.`);
    }
    try {
      await loginFlow.close();
    } catch (error) {
      if (error instanceof TransitionNotAllowed) log(`#${login.id}: close() refused as a rejection: ${error.message}`);
    }
    await loginFlow.ask('Which browser do you use?');
    await loginFlow.customerReplied();
    log(`#${login.id}: asked, got a reply → ${loginFlow.ticket.status}, question ${String(loginFlow.ticket.question)} (an exit hook of waiting).`);
    await loginFlow.resolve('Reset the password', { close: true });
    log(`#${login.id}: resolved and closed → ${loginFlow.ticket.status}.`);

    // Two agents take the same ticket at the same moment, each in their own entity manager.
    await new SupportTicketFlow(await alice.findOneOrFail(Ticket, refund.id), alice, 'alice').triage('normal');
    const bob = orm.em.fork();
    const carol = orm.em.fork();
    const bobFlow = new SupportTicketFlow(await bob.findOneOrFail(Ticket, refund.id), bob, 'bob');
    const carolFlow = new SupportTicketFlow(await carol.findOneOrFail(Ticket, refund.id), carol, 'carol');
    const [first, second] = await Promise.allSettled([bobFlow.start(), carolFlow.start()]);
    const winner = first.status === 'fulfilled' ? bobFlow : carolFlow;
    const loser = winner === bobFlow ? carolFlow : bobFlow;
    const lost = (first.status === 'rejected' ? first.reason : second.status === 'rejected' ? second.reason : undefined) as unknown;
    if (!(lost instanceof ConcurrentTransition)) throw new Error(`expected one agent to lose with ConcurrentTransition, got ${String(lost)}`);
    log(`#${refund.id}: ${winner.agent} took it; ${loser.agent} lost: ${lost.message}`);
    log(`#${refund.id}: ${loser.agent}'s copy is back to ${loser.ticket.status} (assignee ${String(loser.ticket.assignee)}); the database says ${winner.agent}.`);

    // A refund whose provider fails: only the move to `escalated` (and its history row) is committed.
    try {
      await winner.refund(49.9);
    } catch (error) {
      log(`#${refund.id}: refund failed ("${(error as Error).message}") → ${winner.ticket.status}, resolution ${String(winner.ticket.resolution)}.`);
    }

    // A customer who never replies: the timer closes the ticket.
    const silentFlow = new SupportTicketFlow(await alice.findOneOrFail(Ticket, silent.id), alice, 'alice');
    await silentFlow.triage('low');
    await silentFlow.start();
    await silentFlow.ask('Does it happen on another network?');
    log(`#${silent.id}: asked → ${silentFlow.ticket.status}; it closes itself after ${NO_REPLY_AFTER} ms without a reply.`);
    const reader0 = orm.em.fork();
    for (let waited = 0; (await reader0.findOneOrFail(Ticket, silent.id, { refresh: true })).status !== 'closed'; waited += 25) {
      if (waited > 10_000) throw new Error('the no-reply timer did not fire');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    log(`#${silent.id}: no reply → closed by the timer.`);
    // Let the worker send the e-mails the commits left, then stop it.
    for (let waited = 0; outbox.length < 7; waited += 25) {
      if (waited > 10_000) throw new Error('the e-mails were not sent');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await worker.stop();
    log('');
    log('Sent after the commits:');
    for (const line of [...outbox].sort()) log(`  ${line}`);

    // The history, read back from the database.
    const reader = orm.em.fork();
    const tickets = [];
    for (const ticket of await reader.find(Ticket, {}, { orderBy: { id: 'asc' } })) {
      const rows = await history(reader, ticket);
      const lines = rows.map((r) => `${r.source} → ${r.target} (${r.transition}, by ${r.actor})`);
      log('');
      log(`#${ticket.id} "${ticket.title}": ${ticket.status}`);
      for (const line of lines) log(`  ${line}`);
      tickets.push({ title: ticket.title, status: ticket.status, history: lines });
    }

    const diagram = toMermaid(SupportTicketFlow, status);
    log('');
    log(diagram);
    return { tickets, outbox: [...outbox].sort(), concurrent: lost.message, rolledBack, diagram };
  } finally {
    await orm.close(true);
  }
}

/**
 * The admin view's options for the tickets in `file` (`npx transitional admin
 * examples/support-tickets.ts#adminOptions`, or `npm start -- --admin`).
 */
export async function adminOptions(options: { file?: string } = {}): Promise<AdminOptions<Agent>> {
  const orm = await MikroORM.init({ ...sqliteOptions(options.file ?? process.env.SUPPORT_TICKETS_DB ?? 'support-tickets.sqlite'), entities: [Ticket, TransitionLog] });
  await orm.schema.update(); // creates the tables on a new file; leaves existing ones as they are
  return {
    orm,
    flows: [{ flow: SupportTicketFlow, state: status, entity: Ticket, title: 'Support tickets' }],
    // A demo runs on your own machine as one agent; a real app returns the user of the request's session.
    user: () => ({ id: 'dana', name: 'dana' }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { admin: { type: 'boolean' }, port: { type: 'string' } }, strict: false });
  const file = process.env.SUPPORT_TICKETS_DB;
  await main({ file, log: console.log });
  if (values.admin === true) {
    // Loaded only here: `npm start` without --admin stays as quick as the example itself.
    const { serveAdmin } = await import('transitional/admin');
    const options = await adminOptions({ file });
    const admin = await serveAdmin({ ...options, port: Number(values.port ?? 0) });
    console.log(`\nAdmin view: ${admin.url} (Ctrl-C to stop)`);
    const stop = () => void admin.close().then(() => options.orm.close());
    process.once('SIGINT', stop).once('SIGTERM', stop);
  }
}
