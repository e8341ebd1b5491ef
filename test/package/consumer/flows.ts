/**
 * What a consumer writes with `transitional` alone. test/package/consumer.test.ts installs the
 * packed package in a temporary project, compiles this file with the oldest supported TypeScript
 * and with TypeScript 7 (standard decorators and experimentalDecorators, ESM and CommonJS), runs
 * it, and compares what it prints. Plain TypeScript: no path aliases, no `.ts` imports.
 */
import {
  InvalidTransitionInput,
  State,
  superTransition,
  toDot,
  TransitionNotAllowed,
  type Condition,
  type HookEvent,
  type StandardSchemaV1,
  type TransitionDefinition,
} from 'transitional';

export enum Stage {
  New = 'new',
  Review = 'review',
  Published = 'published',
  Hidden = 'hidden',
}
export const stage = new State(Stage, { default: Stage.New, name: 'stage' });
const light = new State(['off', 'on'] as const, { default: 'off' });

interface Review {
  stage?: Stage;
  approver?: string;
  notes: string[];
}
interface User {
  readonly name: string;
  readonly editor: boolean;
}

/** A Standard Schema written by hand: any validation library's schema has this shape. */
const noteSchema: StandardSchemaV1<unknown, string> = {
  '~standard': {
    version: 1,
    vendor: 'consumer',
    validate: (value) => (typeof value === 'string' && value !== '' ? { value: value.trim() } : { issues: [{ message: 'a note is required' }] }),
  },
};

const hasApprover: Condition<ReviewFlow> = (flow) => ({ ok: flow.review.approver !== undefined, reason: 'needs an approver' });

export class ReviewFlow {
  readonly events: string[] = [];
  constructor(readonly review: Review) {}

  @stage.getter() getStage() {
    return this.review.stage;
  }
  @stage.setter() setStage(value: Stage) {
    this.review.stage = value;
  }

  // A condition may take the flow alone, or the flow and the method's first arguments.
  @stage.transition({ source: Stage.New, target: Stage.Review, label: 'Send to review', conditions: [(flow: ReviewFlow) => flow.review.notes.length === 0] })
  submit(note: string, urgent = false) {
    this.review.notes.push(urgent ? `${note}!` : note);
  }

  @stage.transition({ source: Stage.Review, target: Stage.Published, conditions: [hasApprover], permission: (_flow: ReviewFlow, user: User) => user.editor, onError: Stage.Hidden })
  publish(fail = false) {
    if (fail) throw new Error('printer on fire');
  }

  @stage.transition({ source: [Stage.Review, Stage.Hidden], input: noteSchema, conditions: [(_flow: ReviewFlow, note?: string) => (note ?? '').length < 100] })
  comment(note: string) {
    this.review.notes.push(note);
    return this.review.notes.length;
  }

  @stage.transition({ source: State.ANY, target: Stage.Hidden })
  hide() {}

  @stage.before() noteBefore(event: HookEvent<Stage, ReviewFlow>) {
    this.events.push(`before ${event.transition} ${event.source}->${event.target}`);
  }
  @stage.onError() noteError(event: HookEvent<Stage>) {
    this.events.push(`error ${event.transition}: ${(event.error as Error).message}`);
  }
}

export class GuestReviewFlow extends ReviewFlow {
  @stage.inherit()
  override submit(note: string, urgent = false) {
    superTransition(ReviewFlow, this).submit(`guest: ${note}`, urgent);
  }
}

stage.hook(ReviewFlow, 'after', (event) => {
  event.flow.events.push(`after ${event.transition}`);
});

/** A flow without accessors: the state lives on the flow itself. */
export class Switch {
  flips = 0;
  @light.transition({ source: 'off', target: 'on' })
  @light.transition({ source: 'on', target: 'off' })
  toggle() {
    this.flips++;
  }
  @light.transition({ source: 'off', target: 'on' })
  async turnOnLater(): Promise<number> {
    await new Promise((resolve) => setTimeout(resolve, 1));
    return ++this.flips;
  }
}

function refusal(fn: () => unknown): string {
  try {
    fn();
    return 'allowed';
  } catch (error) {
    if (error instanceof TransitionNotAllowed) return `${error.reason} in ${String(error.state)}`;
    if (error instanceof InvalidTransitionInput) return `input: ${error.issues.map((issue) => issue.message).join()}`;
    return `error: ${(error as Error).message}`;
  }
}

/** Drives the flows through the public API; the packed-package test compares the result. */
export async function runFlows(): Promise<Record<string, unknown>> {
  const editor: User = { name: 'eve', editor: true };
  const flow = new GuestReviewFlow({ notes: [] });
  flow.submit('first', true);
  const refusedSource = refusal(() => flow.submit('again'));
  const refusedCondition = refusal(() => flow.publish());
  const badInput = refusal(() => flow.comment(''));
  const comments = flow.comment('  looks good ');
  const canPublish = stage.can(flow, 'publish');
  flow.review.approver = 'ann';
  const available: string[] = stage.available(flow, { user: editor }).map((t) => t.label);
  const mayPublish = stage.hasPermission(flow, 'publish', { name: 'bob', editor: false });
  const failed = refusal(() => flow.publish(true));
  const definitions: TransitionDefinition<Stage>[] = stage.transitions(ReviewFlow);
  const toggles = new Switch();
  toggles.toggle();
  toggles.toggle();
  const later = await toggles.turnOnLater();
  return {
    stage: stage.get(flow),
    notes: flow.review.notes,
    refusedSource,
    refusedCondition,
    badInput,
    comments,
    canPublish,
    available,
    mayPublish,
    failed,
    events: flow.events,
    names: definitions.map((d) => d.name).sort(),
    light: light.get(toggles),
    later,
    dotLines: toDot(ReviewFlow).split('\n').length,
  };
}
