import { State, superTransition, TransitionNotAllowed } from 'transitional';

// 1. Declare the states once.
export enum Stage { New = 'new', Review = 'review', Published = 'published', Removed = 'removed' }
export const stage = new State(Stage, { default: Stage.New, name: 'stage' });

// 2. Your domain object stays as it is: a plain object, a DTO, an ORM entity.
interface Review { stage?: Stage; approver?: string }

// 3. A flow class wraps it and says which changes are legal.
export class ReviewFlow {
  constructor(readonly review: Review) {}

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

// 4. A subclass extends a transition without firing it twice.
export class GuestReviewFlow extends ReviewFlow {
  @stage.inherit()
  override fastTrack() {
    superTransition(ReviewFlow, this).fastTrack();
    this.review.approver = 'guest-' + this.review.approver;
  }
}

const review: Review = {};
const flow = new ReviewFlow(review);
flow.submit();
console.log(review.stage);                                  // 'review'
try {
  flow.publish();                                           // no approver yet
} catch (error) {
  if (error instanceof TransitionNotAllowed) console.log(error.reason, error.message);
}
console.log(stage.available(flow).map((t) => t.label));     // [ 'Fast track', 'Remove' ]

const guest = new GuestReviewFlow({});
guest.fastTrack();
console.log(guest.review);                                  // { stage: 'published', approver: 'guest-system' }
