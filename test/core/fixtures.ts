/**
 * Shared fixtures for the core behaviour tests: the README's quick-start example, verbatim, and a review
 * object that records every write to its `stage` field, so tests can assert the setter's sequence.
 */
import { State, superTransition } from 'transitional';

export enum Stage { New = 'new', Review = 'review', Published = 'published', Hidden = 'hidden', Removed = 'removed' }

export const stage = new State(Stage, { default: Stage.New });

export class ReviewFlow {
  constructor(readonly review: { stage?: Stage; approver?: string }) {}

  @stage.getter() getStage() { return this.review.stage; }
  @stage.setter() setStage(value: Stage) { this.review.stage = value; }

  @stage.transition({ source: Stage.New, target: Stage.Review, label: 'Send to review' })
  submit() {}

  @stage.transition({ source: Stage.Review, target: Stage.Published, conditions: [(flow: ReviewFlow) => !!flow.review.approver] })
  publish() {}

  @stage.transition({ source: [Stage.New, Stage.Review], target: Stage.Published })
  fastTrack() { this.review.approver = 'system'; }

  @stage.transition({ source: State.ANY, target: Stage.Removed })
  remove() {}
}

export class GuestReviewFlow extends ReviewFlow {
  @stage.inherit()                     // same source/target/conditions as ReviewFlow.fastTrack
  override fastTrack() {
    superTransition(ReviewFlow, this).fastTrack();   // parent's body; the state changes once
    this.review.approver = 'guest-' + this.review.approver;
  }
}

/** A review whose `stage` property records every value written to it, in order. */
export interface TrackedReview {
  stage?: Stage;
  approver?: string;
  readonly writes: Stage[];
}

export function trackedReview(initial?: Stage, approver?: string): TrackedReview {
  let current = initial;
  const writes: Stage[] = [];
  return {
    writes,
    approver,
    get stage() {
      return current;
    },
    set stage(value: Stage | undefined) {
      writes.push(value!);
      current = value;
    },
  };
}

/** Runs `fn`, expecting it to throw, and returns what it threw (for assertions on fields). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw, it returned normally');
}
