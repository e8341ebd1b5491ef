/**
 * A support-ticket flow over a class instance, with permissions, labels and meta for a UI.
 *
 * `Ticket` is an ordinary domain class that holds its own `status`; `TicketFlow` wraps a ticket and
 * says who may do what. A UI asks the flow which buttons to show for the signed-in user
 * (`available(flow, { user })`) and checks again on the server before acting (`hasPermission`).
 *
 *   node_modules/.bin/node --import tsx examples/ticket-flow.ts
 */
import { State } from 'transitional';

/** The state values as a literal array; `name` is used in messages and diagrams. */
export const status = new State(['open', 'assigned', 'resolved', 'closed'] as const, { default: 'open', name: 'status' });
export type TicketStatus = (typeof status.values)[number]; // 'open' | 'assigned' | 'resolved' | 'closed'

export interface User {
  readonly name: string;
  readonly role: 'customer' | 'agent' | 'admin';
}

/** The domain object: knows nothing about the flow. */
export class Ticket {
  status: TicketStatus = 'open';
  assignee: string | undefined;
  resolution: string | undefined;
  constructor(
    readonly title: string,
    readonly reporter: string,
  ) {}
}

/** What a UI needs to draw a button. */
export interface ButtonMeta {
  readonly icon: string;
  readonly style: 'primary' | 'secondary' | 'danger';
}

// Permissions are plain functions of (flow, user): absent means everyone may.
const isStaff = (_flow: TicketFlow, user: User) => user.role === 'agent' || user.role === 'admin';
const isAdmin = (_flow: TicketFlow, user: User) => user.role === 'admin';
const isReporterOrStaff = (flow: TicketFlow, user: User) => user.name === flow.ticket.reporter || isStaff(flow, user);

export class TicketFlow {
  constructor(readonly ticket: Ticket) {}

  @status.getter() getStatus() {
    return this.ticket.status;
  }
  @status.setter() setStatus(value: TicketStatus) {
    this.ticket.status = value;
  }

  @status.transition({ source: 'open', target: 'assigned', label: 'Take it', permission: isStaff, meta: { icon: 'hand', style: 'primary' } satisfies ButtonMeta })
  assign(agent: string) {
    this.ticket.assignee = agent;
  }

  @status.transition({ source: 'assigned', target: 'resolved', permission: isStaff, meta: { icon: 'check', style: 'primary' } satisfies ButtonMeta })
  resolve(resolution: string) {
    this.ticket.resolution = resolution;
  }

  /** No permission: the reporter or anyone else may say it is not fixed. */
  @status.transition({ source: 'resolved', target: 'assigned', label: 'Not fixed yet', meta: { icon: 'undo', style: 'secondary' } satisfies ButtonMeta })
  reopen() {
    this.ticket.resolution = undefined;
  }

  @status.transition({ source: 'resolved', target: 'closed', permission: isReporterOrStaff, meta: { icon: 'archive', style: 'secondary' } satisfies ButtonMeta })
  close() {}

  @status.transition({ source: ['open', 'assigned'], target: 'closed', label: 'Close as spam', permission: isAdmin, meta: { icon: 'trash', style: 'danger' } satisfies ButtonMeta })
  markSpam() {}
}

/** The buttons a UI draws for `user` on this ticket. */
export function buttonsFor(flow: TicketFlow, user: User): { action: string; label: string; meta: ButtonMeta }[] {
  return status.available(flow, { user }).map((t) => ({ action: t.name, label: t.label, meta: t.meta as ButtonMeta }));
}

/** A server-side action handler: checks the user's permission, then runs the transition. */
export function act(flow: TicketFlow, user: User, action: 'assign' | 'resolve' | 'reopen' | 'close' | 'markSpam', argument?: string): void {
  if (!status.hasPermission(flow, action, user)) {
    throw new Error(`${user.name} (${user.role}) may not ${action} ticket "${flow.ticket.title}".`);
  }
  if (action === 'assign') flow.assign(argument ?? user.name);
  else if (action === 'resolve') flow.resolve(argument ?? 'done');
  else flow[action]();
}

export const carol: User = { name: 'carol', role: 'customer' };
export const alice: User = { name: 'alice', role: 'agent' };
export const root: User = { name: 'root', role: 'admin' };

export interface TicketSummary {
  /** Button labels per user while the ticket is open. */
  openButtons: Record<string, string[]>;
  /** The error a customer gets when trying to take the ticket. */
  deniedMessage: string;
  /** Everyone's buttons once resolved (no `user`: permissions not consulted). */
  resolvedAvailable: string[];
  /** The reporter's buttons once resolved. */
  resolvedForReporter: string[];
  /** The ticket at the end. */
  ticket: { status: TicketStatus; assignee: string | undefined; resolution: string | undefined };
}

export function main(log: (line: string) => void = () => {}): TicketSummary {
  const ticket = new Ticket('Printer on fire', 'carol');
  const flow = new TicketFlow(ticket);

  const openButtons: Record<string, string[]> = {};
  for (const user of [carol, alice, root]) {
    const buttons = buttonsFor(flow, user);
    openButtons[user.name] = buttons.map((b) => b.label);
    log(`${user.name} (${user.role}) sees: ${buttons.map((b) => `[${b.label} · ${b.meta.icon}/${b.meta.style}]`).join(' ') || 'no buttons'}`);
  }

  let deniedMessage = '';
  try {
    act(flow, carol, 'assign');
  } catch (error) {
    deniedMessage = (error as Error).message;
    log(`carol tries to take it: ${deniedMessage} The ticket stays "${ticket.status}".`);
  }

  act(flow, alice, 'assign');
  log(`alice takes it → "${ticket.status}", assignee ${ticket.assignee}.`);
  act(flow, alice, 'resolve', 'Replaced the fuser.');
  log(`alice resolves it → "${ticket.status}": ${ticket.resolution}`);

  const resolvedAvailable = status.available(flow).map((t) => t.name);
  const resolvedForReporter = buttonsFor(flow, carol).map((b) => b.action);
  log(`Now available: ${resolvedAvailable.join(', ')}; carol may: ${resolvedForReporter.join(', ')}.`);

  act(flow, carol, 'close');
  log(`carol closes her ticket → "${ticket.status}".`);

  return {
    openButtons,
    deniedMessage,
    resolvedAvailable,
    resolvedForReporter,
    ticket: { status: ticket.status, assignee: ticket.assignee, resolution: ticket.resolution },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(console.log);
}
