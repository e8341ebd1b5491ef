/**
 * Extending a flow: keep a parent's transition and add to its body, or redeclare it.
 *
 * - `AuditedLeaveFlow` keeps `approve` exactly as the parent defines it (`@leave.inherit()`) and
 *   runs the parent's body through `superTransition(Parent, this)`, then adds its own work. The
 *   state changes once; `super.approve()` would run the parent's transition again instead.
 * - `LongLeaveFlow` redeclares `approve` with another target: a manager's approval of a long leave
 *   only escalates it to HR. Its table for `approve` replaces the parent's entirely, and
 *   `superTransition` still reaches the parent's body.
 *
 * These flows keep their state on themselves (no getter/setter): `leave.get(flow)` reads it.
 *
 *   node_modules/.bin/node --import tsx examples/inheritance.ts
 */
import { State, superTransition, TransitionNotAllowed } from 'transitional';

export enum Leave {
  Draft = 'draft',
  Submitted = 'submitted',
  Escalated = 'escalated',
  Approved = 'approved',
  Rejected = 'rejected',
}

export const leave = new State(Leave, { default: Leave.Draft, name: 'leave' });

export class LeaveFlow {
  approvedBy: string[] = [];

  constructor(
    readonly employee: string,
    readonly days: number,
  ) {}

  @leave.transition({ source: Leave.Draft, target: Leave.Submitted })
  submit() {}

  @leave.transition({ source: Leave.Submitted, target: Leave.Approved })
  approve(by: string) {
    this.approvedBy.push(by);
  }

  @leave.transition({ source: [Leave.Submitted, Leave.Escalated], target: Leave.Rejected })
  reject() {}
}

/** Same transitions; every approval is also written to an audit trail. */
export class AuditedLeaveFlow extends LeaveFlow {
  readonly audit: string[] = [];

  @leave.inherit() // submitted → approved, as in LeaveFlow
  override approve(by: string) {
    superTransition(LeaveFlow, this).approve(by); // LeaveFlow's body: records the approver
    this.audit.push(`${by} approved ${this.days} days for ${this.employee} (now ${leave.get(this)})`);
  }
}

/** Leaves longer than two weeks need HR as well: the manager's approval only escalates. */
export class LongLeaveFlow extends LeaveFlow {
  @leave.transition({ source: Leave.Submitted, target: Leave.Escalated, label: 'Approve and escalate to HR' })
  override approve(by: string) {
    superTransition(LeaveFlow, this).approve(by); // still records the approver
  }

  @leave.transition({ source: Leave.Escalated, target: Leave.Approved, label: 'HR approval' })
  approveByHr(by: string) {
    this.approvedBy.push(`${by} (HR)`);
  }
}

/** A flow class's transitions as `name: sources → target` lines. */
function table(flowClass: typeof LeaveFlow): string[] {
  return leave.transitions(flowClass).map((t) => `${t.name}: ${t.source === State.ANY ? '*' : t.source.join('|')} → ${t.target}`);
}

export interface InheritanceSummary {
  audited: { state: Leave; approvedBy: string[]; audit: string[] };
  /** `refusedFrom`: the state `approveByHr()` was refused in, before the manager approved. */
  long: { refusedFrom: string | number; afterManager: Leave; state: Leave; approvedBy: string[] };
  tables: { base: string[]; audited: string[]; long: string[] };
}

export function main(log: (line: string) => void = () => {}): InheritanceSummary {
  const tables = { base: table(LeaveFlow), audited: table(AuditedLeaveFlow), long: table(LongLeaveFlow) };
  log(`LeaveFlow:        ${tables.base.join('; ')}`);
  log(`AuditedLeaveFlow: ${tables.audited.join('; ')}`);
  log(`LongLeaveFlow:    ${tables.long.join('; ')}`);

  const short = new AuditedLeaveFlow('ann', 3);
  short.submit();
  short.approve('max');
  log(`Ann's 3 days: "${leave.get(short)}", approved by ${short.approvedBy.join(', ')}; audit: ${short.audit[0]}`);

  const long = new LongLeaveFlow('bob', 30);
  long.submit();
  let refusedFrom: string | number = '';
  try {
    long.approveByHr('hr-lea');
  } catch (error) {
    if (!(error instanceof TransitionNotAllowed)) throw error;
    refusedFrom = error.state;
    log(`HR cannot approve first: ${error.message}`);
  }
  long.approve('max');
  const afterManager = leave.get(long);
  log(`Bob's 30 days after the manager: "${afterManager}".`);
  long.approveByHr('lea');
  log(`After HR: "${leave.get(long)}", approved by ${long.approvedBy.join(', ')}.`);

  return {
    audited: { state: leave.get(short), approvedBy: short.approvedBy, audit: short.audit },
    long: { refusedFrom, afterManager, state: leave.get(long), approvedBy: long.approvedBy },
    tables,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(console.log);
}
