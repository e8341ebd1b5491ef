/** The README's quick-start example, end to end, as a user would walk through it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TransitionNotAllowed } from 'transitional';
import { GuestReviewFlow, ReviewFlow, Stage, stage, trackedReview } from './fixtures.ts';

test('a review goes New → Review → Published → Removed over a plain object', () => {
  const review: { stage?: Stage; approver?: string } = {};
  const flow = new ReviewFlow(review);
  assert.equal(stage.get(flow), Stage.New);
  flow.submit();
  assert.equal(review.stage, Stage.Review);
  assert.throws(() => flow.publish(), (e: unknown) => e instanceof TransitionNotAllowed && e.reason === 'condition');
  assert.equal(review.stage, Stage.Review);
  review.approver = 'ann';
  flow.publish();
  assert.equal(review.stage, Stage.Published);
  assert.throws(() => flow.submit(), (e: unknown) => e instanceof TransitionNotAllowed && e.reason === 'source' && e.state === Stage.Published);
  flow.remove();
  assert.equal(review.stage, Stage.Removed);
});

test('fastTrack publishes from New or Review and sets the approver', () => {
  for (const from of [Stage.New, Stage.Review]) {
    const review = trackedReview(from);
    new ReviewFlow(review).fastTrack();
    assert.equal(review.stage, Stage.Published);
    assert.equal(review.approver, 'system');
    assert.deepEqual(review.writes, [Stage.Published]);
  }
});

test('GuestReviewFlow fast-tracks once, with a guest approver', () => {
  const review = trackedReview();
  const flow = new GuestReviewFlow(review);
  flow.fastTrack();
  assert.equal(review.approver, 'guest-system');
  assert.deepEqual(review.writes, [Stage.Published]);
  assert.throws(() => flow.fastTrack(), TransitionNotAllowed);
  flow.remove();
  assert.equal(stage.get(flow), Stage.Removed);
});
