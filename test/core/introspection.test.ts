/** Questions about flow classes and flows (README, Introspection): `transitions`, `get`, `can`, `available`, `hasPermission`. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { State } from 'transitional';
import { GuestReviewFlow, ReviewFlow, Stage, stage, trackedReview } from './fixtures.ts';

const level = new State(['low', 'mid', 'high'] as const, { default: 'low', name: 'level' });
type Level = (typeof level.values)[number];
type User = { name: string; admin: boolean };

const isAdmin = (_flow: Gauge, user: User) => user.admin;
const meta = { icon: 'arrow-up', order: 1 };

class Gauge {
  level: Level | undefined = undefined;
  readonly writes: Level[] = [];
  readonly calls: (string | undefined)[] = [];
  @level.getter() g() { return this.level; }
  @level.setter() s(v: Level) { this.writes.push(v); this.level = v; }

  @level.transition({ source: 'low', target: 'mid', meta })
  raise() {}

  @level.transition({
    source: ['low', 'mid'],
    target: 'high',
    permission: isAdmin,
    conditions: [(gauge: Gauge, why?: string) => { gauge.calls.push(why); return why !== 'no'; }],
  })
  maxOut(_why?: string) {}

  @level.transition({ source: State.ANY, target: 'low', onError: 'high', label: 'Back to low' })
  resetNow() {}

  @level.transition({ source: 'mid', permission: (_g: Gauge, user: User) => user.name === 'ann' })
  inspect() {}

  @level.transition({ source: 'high', conditions: [() => ({ ok: false, reason: 'never' })] })
  neverEver() {}

  plain() {}
}

/** Conditions that read their argument, one that returns a non-boolean, a permission that throws. */
class Pad {
  level: Level | undefined = undefined;
  readonly writes: Level[] = [];
  @level.getter() g() { return this.level; }
  @level.setter() s(v: Level) { this.writes.push(v); this.level = v; }

  @level.transition({ source: 'low', target: 'mid', permission: (_p: Pad, user: User) => { if (!user.admin) throw new Error('directory down'); return true; } })
  raise() {}

  @level.transition({ source: 'low', target: 'high', conditions: [(_p: Pad, payment: { amount: number }) => payment.amount > 0] })
  pay(_payment: { amount: number }) {}

  @level.transition({ source: 'low', target: 'high', conditions: [(() => 'yes') as never] })
  odd() {}
}

const ann: User = { name: 'ann', admin: false };
const root: User = { name: 'root', admin: true };

describe('State#transitions(Class)', () => {
  test('the contract example, in declaration order, with the documented shape', () => {
    const defs = stage.transitions(ReviewFlow);
    assert.deepEqual(defs.map((d) => d.name), ['submit', 'publish', 'fastTrack', 'remove']);
    const [submit, publish, fastTrack, remove] = defs;
    assert.deepEqual(
      { ...submit!, conditions: [...submit!.conditions] },
      {
        ...submit!,
        name: 'submit',
        source: [Stage.New],
        target: Stage.Review,
        targets: [Stage.Review],
        label: 'Send to review',
        conditions: [],
        permission: undefined,
        onError: undefined,
        rewind: false,
        meta: undefined,
      },
    );
    assert.equal(publish!.conditions.length, 1);
    assert.equal(publish!.label, 'Publish');
    assert.deepEqual(fastTrack!.source, [Stage.New, Stage.Review]);
    assert.equal(fastTrack!.target, Stage.Published);
    assert.equal(fastTrack!.label, 'Fast track');
    assert.equal(remove!.source, State.ANY);
    assert.equal(remove!.target, Stage.Removed);
  });

  test('only the documented fields are enumerable (what the runtime adds is hidden)', () => {
    for (const d of stage.transitions(ReviewFlow)) {
      assert.deepEqual(Object.keys(d).sort(), ['after', 'conditions', 'input', 'label', 'meta', 'name', 'onError', 'permission', 'rewind', 'source', 'target', 'targets']);
    }
  });

  test('every documented field is present', () => {
    for (const d of stage.transitions(ReviewFlow)) {
      for (const key of ['name', 'source', 'target', 'targets', 'label', 'conditions', 'permission', 'onError', 'rewind', 'meta', 'input']) {
        assert.ok(key in d, `${d.name} lacks ${key}`);
      }
    }
  });

  test('inherited transitions are included', () => {
    assert.deepEqual(stage.transitions(GuestReviewFlow).map((d) => d.name), ['submit', 'publish', 'fastTrack', 'remove']);
  });

  test('label defaults to the method name in sentence case', () => {
    const byName = new Map(level.transitions(Gauge).map((d) => [d.name, d]));
    assert.equal(byName.get('raise')!.label, 'Raise');
    assert.equal(byName.get('maxOut')!.label, 'Max out');
    assert.equal(byName.get('resetNow')!.label, 'Back to low');
    assert.equal(byName.get('neverEver')!.label, 'Never ever');
  });

  test('target is undefined for a transition without target; onError, permission and meta are reported as given', () => {
    const byName = new Map(level.transitions(Gauge).map((d) => [d.name, d]));
    assert.equal(byName.get('inspect')!.target, undefined);
    assert.equal('target' in byName.get('inspect')!, true);
    assert.equal(byName.get('resetNow')!.onError, 'high');
    assert.equal(byName.get('maxOut')!.permission, isAdmin);
    assert.equal(byName.get('raise')!.meta, meta);
  });

  test('a class without transitions of that State gives an empty list', () => {
    class Nothing {}
    assert.deepEqual(level.transitions(Nothing), []);
    assert.deepEqual(level.transitions(ReviewFlow), []);
  });
});

describe('State#get', () => {
  test('reads through the getter, with the default for undefined', () => {
    const flow = new ReviewFlow({});
    assert.equal(stage.get(flow), Stage.New);
    flow.submit();
    assert.equal(stage.get(flow), Stage.Review);
  });
});

describe('State#can', () => {
  test('answers for the source check and the conditions, without changing anything', () => {
    const review = trackedReview(Stage.Review);
    const flow = new ReviewFlow(review);
    assert.equal(stage.can(flow, 'submit'), false);
    assert.equal(stage.can(flow, 'publish'), false);
    review.approver = 'ann';
    assert.equal(stage.can(flow, 'publish'), true);
    assert.equal(stage.can(flow, 'remove'), true);
    assert.deepEqual(review.writes, []);
    assert.equal(review.approver, 'ann');
  });

  test('passes its extra arguments to the conditions', () => {
    const gauge = new Gauge();
    assert.equal(level.can(gauge, 'maxOut', 'no'), false);
    assert.equal(level.can(gauge, 'maxOut', 'yes'), true);
    assert.deepEqual(gauge.calls, ['no', 'yes']);
    assert.deepEqual(gauge.writes, []);
  });

  test('a { ok: false } condition makes it false', () => {
    const gauge = new Gauge();
    gauge.level = 'high';
    assert.equal(level.can(gauge, 'neverEver'), false);
  });

  test('does not consult permissions', () => {
    const gauge = new Gauge();
    assert.equal(level.can(gauge, 'maxOut'), true);
  });

  test('a condition that reads its argument gets it; called without, one that throws counts as failing', () => {
    const pad = new Pad();
    assert.equal(level.can(pad, 'pay', { amount: 10 }), true);
    assert.equal(level.can(pad, 'pay', { amount: 0 }), false);
    assert.equal(level.can(pad, 'pay'), false, 'payment.amount of undefined throws: refusing, not throwing');
    assert.deepEqual(pad.writes, []);
  });

  test('a condition that returns something else than a boolean or { ok } counts as failing', () => {
    const pad = new Pad();
    assert.equal(level.can(pad, 'odd'), false);
  });

  test('a method that is not a transition of that State is a TypeError', () => {
    assert.throws(() => level.can(new Gauge(), 'plain'), TypeError);
  });
});

describe('State#available', () => {
  test('args are passed to the conditions; without them a condition that throws leaves its transition out', () => {
    const pad = new Pad();
    assert.deepEqual(level.available(pad).map((d) => d.name), ['raise']);
    assert.deepEqual(level.available(pad, { args: [{ amount: 5 }] }).map((d) => d.name), ['raise', 'pay']);
    assert.deepEqual(level.available(pad, { args: [{ amount: -1 }] }).map((d) => d.name), ['raise']);
    assert.deepEqual(pad.writes, []);
  });

  test('a permission that throws counts as refusing', () => {
    const pad = new Pad();
    assert.deepEqual(level.available(pad, { user: ann }).map((d) => d.name), []);
    assert.equal(level.hasPermission(pad, 'raise', ann), false);
    assert.deepEqual(level.available(pad, { user: root, args: [{ amount: 1 }] }).map((d) => d.name), ['raise', 'pay']);
  });

  test('{ user: undefined } is an anonymous user: permissions are asked with undefined', () => {
    const asked: unknown[] = [];
    class Kiosk {
      @level.transition({ source: 'low', target: 'mid', permission: (_k: Kiosk, user: unknown) => (asked.push(user), user === undefined) })
      anonymousOnly() {}
      @level.transition({ source: 'low', target: 'high', permission: (_k: Kiosk, user: User | undefined) => (asked.push(user), user?.admin === true) })
      adminOnly() {}
      @level.transition({ source: 'low', target: 'high' })
      anyone() {}
    }
    const kiosk = new Kiosk();
    assert.deepEqual(level.available(kiosk, { user: undefined }).map((d) => d.name), ['anonymousOnly', 'anyone']);
    assert.deepEqual(asked, [undefined, undefined], 'both permissions asked, with undefined');
    asked.length = 0;
    assert.deepEqual(level.available(kiosk).map((d) => d.name), ['anonymousOnly', 'adminOnly', 'anyone'], 'no user key: permissions not consulted');
    assert.deepEqual(asked, []);
    assert.deepEqual(level.available(kiosk, { user: root }).map((d) => d.name), ['adminOnly', 'anyone']);
    assert.deepEqual(level.available(kiosk, {}).map((d) => d.name), ['anonymousOnly', 'adminOnly', 'anyone'], '{} has no user key either');
  });

  test('args must be an array', () => {
    assert.throws(() => level.available(new Pad(), { args: 'x' as never }), { name: 'TypeError', message: /args must be an array/ });
  });

  test('without a user: every transition that can run now, permissions not consulted', () => {
    const gauge = new Gauge();
    assert.deepEqual(level.available(gauge).map((d) => d.name), ['raise', 'maxOut', 'resetNow']);
    gauge.level = 'mid';
    assert.deepEqual(level.available(gauge).map((d) => d.name), ['maxOut', 'resetNow', 'inspect']);
    gauge.level = 'high';
    assert.deepEqual(level.available(gauge).map((d) => d.name), ['resetNow']);
  });

  test('with a user: only those whose permission allows that user', () => {
    const gauge = new Gauge();
    gauge.level = 'mid';
    assert.deepEqual(level.available(gauge, { user: ann }).map((d) => d.name), ['resetNow', 'inspect']);
    assert.deepEqual(level.available(gauge, { user: root }).map((d) => d.name), ['maxOut', 'resetNow']);
  });

  test('reports the definition that applies from the current state', () => {
    const gauge = new Gauge();
    const [raise] = level.available(gauge);
    assert.equal(raise!.name, 'raise');
    assert.equal(raise!.target, 'mid');
  });

  test('the contract example: what a reviewer may do now', () => {
    const flow = new ReviewFlow({ stage: Stage.Review });
    assert.deepEqual(stage.available(flow).map((d) => d.name), ['fastTrack', 'remove']);
    flow.review.approver = 'ann';
    assert.deepEqual(stage.available(flow).map((d) => d.name), ['publish', 'fastTrack', 'remove']);
  });

  test('changes nothing', () => {
    const gauge = new Gauge();
    level.available(gauge, { user: root });
    assert.deepEqual(gauge.writes, []);
  });
});

describe('State#hasPermission', () => {
  test('a transition without permission allows everyone', () => {
    const gauge = new Gauge();
    assert.equal(level.hasPermission(gauge, 'raise', ann), true);
    assert.equal(level.hasPermission(gauge, 'raise', undefined), true);
  });

  test('asks the permission with the flow and the user', () => {
    const gauge = new Gauge();
    assert.equal(level.hasPermission(gauge, 'maxOut', ann), false);
    assert.equal(level.hasPermission(gauge, 'maxOut', root), true);
    gauge.level = 'mid';
    assert.equal(level.hasPermission(gauge, 'inspect', ann), true);
    assert.equal(level.hasPermission(gauge, 'inspect', root), false);
  });

  test('a method that is not a transition of that State is a TypeError', () => {
    assert.throws(() => level.hasPermission(new Gauge(), 'plain', ann), TypeError);
  });
});
