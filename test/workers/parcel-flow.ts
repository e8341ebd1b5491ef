/**
 * The persisted flow of the worker tests: two timers (a quick one and a slow one), a durable
 * `afterCommit` hook that fails on demand, and an in-process `afterCommit` hook that logs.
 *
 *   new ──start──▶ quick ──lapse (timer, QUICK_MS)──▶ lapsed
 *   new ──hold───▶ slow  ──expire (timer, SLOW_MS)──▶ lapsed
 *   quick, slow ──leave──▶ away ──back──▶ slow
 *   new ──pay────▶ paid      (durable hook `receipt`)
 *
 * Timer bodies bump `timerRuns` and then call `behaviour.timerBody`; the in-process afterCommit
 * hook calls `behaviour.committed`. A worker process sets them (to announce, or to sleep so that a
 * kill lands mid-job, or between a job's commit and its acknowledgement).
 */
import type { EntityManager } from '@mikro-orm/core';
import { State, type HookEvent } from 'transitional';
import { persistTransitions } from 'transitional/mikro-orm';
import { Parcel, ReceiptRun } from './entities.ts';

export const QUICK_MS = 200;
export const SLOW_MS = 2_000;

export const phases = ['new', 'quick', 'slow', 'away', 'lapsed', 'paid'] as const;
export type Phase = (typeof phases)[number];
export const phase = new State(phases, { name: 'phase', default: 'new' });

/**
 * What a process running timers does inside their bodies (after bumping the counter), and once a
 * change committed (from the in-process afterCommit hook: after the commit, before the call
 * settles, so before a worker acknowledges the job).
 */
export const behaviour: { timerBody: (flow: ParcelFlow, transition: string) => unknown; committed: (flow: ParcelFlow, transition: string) => unknown } = {
  timerBody: () => {},
  committed: () => {},
};

/** What the in-process afterCommit hook saw in this process: `transition:source>target#id`. */
export const afterCommitLog: string[] = [];

export class ParcelFlow {
  constructor(
    readonly parcel: Parcel,
    readonly em: EntityManager,
  ) {}

  @phase.getter() getPhase() {
    return this.parcel.phase as Phase;
  }
  @phase.setter() setPhase(value: Phase) {
    this.parcel.phase = value;
  }

  @phase.transition({ source: 'new', target: 'quick' })
  async start() {}

  /** Enters `quick` (whose timer would be recorded), then fails: nothing is kept. */
  @phase.transition({ source: 'new', target: 'quick' })
  async startBadly() {
    throw new Error('the body failed');
  }

  @phase.transition({ source: 'new', target: 'slow' })
  async hold() {}

  @phase.transition({ source: ['quick', 'slow'], target: 'away' })
  async leave() {}

  @phase.transition({ source: 'away', target: 'slow' })
  async back() {}

  @phase.transition({ source: 'quick', target: 'lapsed', after: QUICK_MS })
  async lapse() {
    this.parcel.timerRuns++;
    await behaviour.timerBody(this, 'lapse');
  }

  @phase.transition({ source: 'slow', target: 'lapsed', after: SLOW_MS })
  async expire() {
    this.parcel.timerRuns++;
    await behaviour.timerBody(this, 'expire');
  }

  @phase.transition({ source: 'new', target: 'paid' })
  async pay() {}

  @phase.afterCommit()
  noted(event: HookEvent<Phase>) {
    afterCommitLog.push(`${event.transition}:${String(event.source)}>${String(event.target)}#${this.parcel.id}`);
    return behaviour.committed(this, event.transition);
  }

  /** Records each run in ReceiptRun (outside any transaction) and throws on the first `failuresWanted` attempts. */
  @phase.afterCommit({ durable: true, transitions: ['pay'] })
  async receipt(event: HookEvent<Phase>) {
    const attempt = event.attempt ?? 0;
    const ok = attempt > this.parcel.failuresWanted;
    await this.em.fork().insert(ReceiptRun, { parcelId: this.parcel.id, attempt, ok, pid: process.pid });
    if (!ok) throw new Error(`the mail server is down (attempt ${attempt})`);
  }
}

persistTransitions(phase, ParcelFlow, {
  em: (flow) => flow.em,
  entity: (flow) => flow.parcel,
  field: 'phase',
  flow: (parcel: Parcel, em) => new ParcelFlow(parcel, em),
});
