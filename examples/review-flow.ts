/**
 * A review/publication flow over a plain object (the README's quick start, as a module).
 *
 * The state lives on your own data (`review.stage`); the flow class wraps that data and declares,
 * with decorators, which methods move it from one stage to another. Run it:
 *
 *   node_modules/.bin/node --import tsx examples/review-flow.ts
 */
import { State, superTransition, TransitionNotAllowed } from 'transitional';

export enum Stage {
  New = 'new',
  Review = 'review',
  Published = 'published',
  Hidden = 'hidden',
  Removed = 'removed',
}

/** The state field: its values and the value reported while `review.stage` is still unset. */
export const stage = new State(Stage, { default: Stage.New });

/** The data the flow works on: a plain object, e.g. a row loaded from your database. */
export interface Review {
  stage?: Stage;
  approver?: string;
}

export class ReviewFlow {
  constructor(readonly review: Review) {}

  // Where the state is read from and written to.
  @stage.getter() getStage() {
    return this.review.stage;
  }
  @stage.setter() setStage(value: Stage) {
    this.review.stage = value;
  }

  @stage.transition({ source: Stage.New, target: Stage.Review, label: 'Send to review' })
  submit() {}

  /** Allowed only once someone approved: the condition is checked before anything changes. */
  @stage.transition({
    source: Stage.Review,
    target: Stage.Published,
    conditions: [(flow: ReviewFlow) => (flow.review.approver ? true : { ok: false, reason: 'nobody approved it yet' })],
  })
  publish() {}

  /** Skips the review: the body runs after the state already says "published". */
  @stage.transition({ source: [Stage.New, Stage.Review], target: Stage.Published })
  fastTrack() {
    this.review.approver = 'system';
  }

  /** From any stage, the removed one included. */
  @stage.transition({ source: State.ANY, target: Stage.Removed })
  remove() {}
}

/** Guests may fast-track too, but their approver is marked as a guest. */
export class GuestReviewFlow extends ReviewFlow {
  @stage.inherit() // same source, target and conditions as ReviewFlow.fastTrack
  override fastTrack() {
    superTransition(ReviewFlow, this).fastTrack(); // the parent's body; the state changes once
    this.review.approver = 'guest-' + this.review.approver;
  }
}

export interface ReviewSummary {
  /** The stage after each step of the story. */
  stages: Stage[];
  /** What the refused `publish()` reported. */
  refused: { transition: string; state: string | number; reason: string; message: string };
  /** `available()` names in review before approval, and `can(publish)` before and after approving. */
  availableInReview: string[];
  canPublishBefore: boolean;
  canPublishAfter: boolean;
  /** The guest fast-track result. */
  guest: Review;
  /** Labels as a UI would show them. */
  labels: Record<string, string>;
}

export function main(log: (line: string) => void = () => {}): ReviewSummary {
  const stages: Stage[] = [];
  const review: Review = {};
  const flow = new ReviewFlow(review);
  log(`A new review starts in "${stage.get(flow)}" (the default: review.stage is ${String(review.stage)}).`);
  stages.push(stage.get(flow));

  flow.submit();
  log(`submit() → "${review.stage}".`);
  stages.push(stage.get(flow));

  // Nobody approved it: publish() is refused and nothing changes.
  const availableInReview = stage.available(flow).map((t) => t.name);
  const canPublishBefore = stage.can(flow, 'publish');
  log(`In review, available: ${availableInReview.join(', ')}; can publish: ${canPublishBefore}.`);
  let refused: ReviewSummary['refused'] | undefined;
  try {
    flow.publish();
  } catch (error) {
    if (!(error instanceof TransitionNotAllowed)) throw error;
    refused = { transition: error.transition, state: error.state, reason: error.reason, message: error.message };
    log(`publish() refused (${error.reason}): ${error.message}`);
  }
  stages.push(stage.get(flow));

  review.approver = 'ann';
  const canPublishAfter = stage.can(flow, 'publish');
  flow.publish();
  log(`Approved by ann, can publish: ${canPublishAfter}; publish() → "${review.stage}".`);
  stages.push(stage.get(flow));

  flow.remove();
  log(`remove() works from any stage → "${review.stage}".`);
  stages.push(stage.get(flow));

  // A guest fast-tracks a fresh review: one state change, the parent's body, then the guest's.
  const guest: Review = {};
  new GuestReviewFlow(guest).fastTrack();
  log(`A guest fast-tracks a new review → "${guest.stage}", approver "${guest.approver}".`);

  const labels = Object.fromEntries(stage.transitions(ReviewFlow).map((t) => [t.name, t.label]));
  log(`Labels for buttons: ${JSON.stringify(labels)}`);

  return { stages, refused: refused!, availableInReview, canPublishBefore, canPublishAfter, guest, labels };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(console.log);
}
