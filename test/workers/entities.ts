/**
 * The entities of the worker tests (issue 12), apart from the flow that persists them
 * (`parcel-flow.ts`): a worker process that must not know the flow class imports only these.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/sql';
import { TransitionLog } from 'transitional/mikro-orm';

export const Parcel = defineEntity({
  name: 'Parcel',
  properties: {
    id: p.integer().primary(),
    phase: p.string(),
    /** Bumped by every timer body that commits: 1 when a timer changed the parcel exactly once. */
    timerRuns: p.integer().default(0),
    /** The durable hook `receipt` throws on attempts up to this one. */
    failuresWanted: p.integer().default(0),
  },
});
export type Parcel = InferEntity<typeof Parcel>;

/** One row per run of the durable hook `receipt`, written outside any transaction as it runs. */
export const ReceiptRun = defineEntity({
  name: 'ReceiptRun',
  properties: {
    id: p.integer().primary(),
    parcelId: p.integer(),
    attempt: p.integer(),
    /** Whether that run succeeded. */
    ok: p.boolean(),
    pid: p.integer(),
  },
});
export type ReceiptRun = InferEntity<typeof ReceiptRun>;

export const workerEntities = [Parcel, ReceiptRun, TransitionLog];
