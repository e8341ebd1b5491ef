/**
 * persistTransitions options (field inference, custom history, no history), the SQLite dialect,
 * misuse errors, and that importing 'transitional' alone does not load MikroORM.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MikroORM, defineEntity, p, type InferEntity } from '@mikro-orm/sql';
import type { EntityManager, MikroORM as Orm } from '@mikro-orm/core';
import { State } from 'transitional';
import { ConcurrentTransition, TransitionLog, TransitionNotPersisted, history, persistTransitions, sqliteOptions } from 'transitional/mikro-orm';
import { persisted } from './fixtures.ts';

const Order = defineEntity({
  name: 'Order',
  tableName: 'orders',
  properties: {
    id: p.integer().primary(),
    step: p.string().nullable(),
    previous: p.string().nullable(),
    note: p.string().nullable(),
  },
});
type Order = InferEntity<typeof Order>;

const AuditEntry = defineEntity({
  name: 'AuditEntry',
  properties: {
    id: p.integer().primary(),
    entity: p.string(),
    entityId: p.string(),
    field: p.string(),
    transition: p.string(),
    source: p.string(),
    target: p.string(),
    actor: p.string().nullable(),
    createdAt: p.datetime(),
  },
});

const Mapped = defineEntity({
  name: 'Mapped',
  properties: {
    id: p.integer().primary(),
    orderId: p.string(),
    move: p.string(),
    by: p.string(),
  },
});

const phase = new State(['draft', 'sent', 'paid'] as const, { name: 'phase', default: 'draft' });
type Phase = 'draft' | 'sent' | 'paid';

/** A flow over an Order whose state property is `step`, in five persistence variants. */
function orderFlow() {
  class OrderFlow {
    constructor(
      readonly order: Order,
      readonly em: EntityManager,
    ) {}
    @phase.getter() getPhase() {
      return this.order.step as Phase | null;
    }
    @phase.setter() setPhase(value: Phase) {
      this.order.step = value;
    }
    @phase.transition({ source: 'draft', target: 'sent' })
    async send() {
      this.order.note = 'sent by post';
    }
    @phase.transition({ source: 'sent', target: 'paid' })
    async pay() {}
  }
  return OrderFlow;
}

const Inferred = orderFlow();
persistTransitions(phase, Inferred, { em: (f) => f.em, entity: (f) => f.order });
const InferredAfter = orderFlow();
persistTransitions(phase, InferredAfter, { em: (f) => f.em, entity: (f) => f.order });
const Audited = orderFlow();
persistTransitions(phase, Audited, { em: (f) => f.em, entity: (f) => f.order, field: 'step', log: AuditEntry, actor: () => 42 });
const MappedLog = orderFlow();
persistTransitions(phase, MappedLog, {
  em: (f) => f.em,
  entity: (f) => f.order,
  log: { entity: Mapped, row: (r, flow) => ({ orderId: r.entityId, move: `${r.source}->${r.target}`, by: flow.constructor.name }) },
});
const Unlogged = orderFlow();
persistTransitions(phase, Unlogged, { em: (f) => f.em, entity: (f) => f.order, log: false });
const WrongField = orderFlow();
persistTransitions(phase, WrongField, { em: (f) => f.em, entity: (f) => f.order, field: 'stepp' });

/** A flow that keeps its state on itself, not on the entity: the field cannot be inferred. */
class Detached {
  constructor(
    readonly order: Order,
    readonly em: EntityManager,
  ) {}
  @phase.transition({ source: 'draft', target: 'sent' })
  async send() {
    this.order.note = 'tried';
  }
}
persistTransitions(phase, Detached, { em: (f) => f.em, entity: (f) => f.order });

/** Runs a callback inside its transition's body. */
class Nesting {
  constructor(
    readonly order: Order,
    readonly em: EntityManager,
  ) {}
  @phase.getter() getPhase() {
    return this.order.step as Phase;
  }
  @phase.setter() setPhase(value: Phase) {
    this.order.step = value;
  }
  @phase.transition({ source: 'draft', target: 'sent' })
  async send(during: () => Promise<void>) {
    await during();
  }
}
persistTransitions(phase, Nesting, { em: (f) => f.em, entity: (f) => f.order });

/** A setter that writes the state into two properties: which one is the column cannot be told. */
class Mirrored {
  constructor(
    readonly order: Order,
    readonly em: EntityManager,
  ) {}
  @phase.getter() getPhase() {
    return this.order.step as Phase;
  }
  @phase.setter() setPhase(value: Phase) {
    this.order.step = value;
    this.order.previous = value;
  }
  @phase.transition({ source: 'draft', target: 'sent' })
  async send() {}
}
persistTransitions(phase, Mirrored, { em: (f) => f.em, entity: (f) => f.order });

/** A flow whose `entity` option gives a plain object, not an entity. */
class OverPlainObject {
  readonly order = { step: 'draft' as Phase };
  constructor(readonly em: EntityManager) {}
  @phase.getter() getPhase() {
    return this.order.step;
  }
  @phase.setter() setPhase(value: Phase) {
    this.order.step = value;
  }
  @phase.transition({ source: 'draft', target: 'sent' })
  async send() {}
}
persistTransitions(phase, OverPlainObject, { em: (f) => f.em, entity: (f) => f.order });

describe('persistTransitions options (SQLite)', () => {
  let dir: string;
  let orm: Orm;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'transitional-options-'));
    orm = await MikroORM.init({ ...sqliteOptions(join(dir, 'options.sqlite')), entities: [Order, AuditEntry, Mapped, TransitionLog] });
    await orm.schema.create();
  });
  after(async () => {
    await orm?.close(true);
    rmSync(dir, { recursive: true, force: true });
  });

  async function seed(data: Partial<Order>): Promise<{ em: EntityManager; order: Order }> {
    const em = orm.em.fork();
    const order = em.create(Order, { ...data } as never);
    await em.flush();
    return { em, order };
  }

  test('without `field`, the state property is the one the first change writes', async () => {
    const { em, order } = await seed({ step: 'draft', note: 'x' });
    await new Inferred(order, em).send();
    const [row] = await history(em, order);
    assert.equal(row?.field, 'step');
    // The compare-and-set uses it: a stale copy loses on `step`.
    const em2 = orm.em.fork();
    const stale = await em2.findOneOrFail(Order, order.id);
    await new Inferred(order, em).pay();
    await assert.rejects(persisted(new Inferred(stale, em2).pay()), (e: unknown) => e instanceof ConcurrentTransition && e.field === 'step' && e.actual === 'paid');
  });

  test('a NULL state column (the State’s default) is recognised, and another property holding the same value is not mistaken for it', async () => {
    const { em, order } = await seed({ step: null, previous: 'draft' });
    await new InferredAfter(order, em).send();
    assert.equal(order.step, 'sent');
    const [row] = await history(em, order);
    assert.deepEqual([row?.field, row?.source, row?.target], ['step', 'draft', 'sent']);
    const stored = await orm.em.fork().findOneOrFail(Order, order.id);
    assert.deepEqual([stored.step, stored.previous], ['sent', 'draft']);
  });

  test('a state the entity does not hold cannot be persisted: a TypeError asks for `field`, nothing is written', async () => {
    const { em, order } = await seed({ step: 'draft' });
    const flow = new Detached(order, em);
    await assert.rejects(persisted(flow.send()), { name: 'TypeError', message: /Detached\.send\(\): cannot tell which property of Order holds State\(phase\).*field: 'yourProperty'/ });
    assert.equal(phase.get(flow), 'draft');
    assert.equal(order.note ?? null, null);
    assert.equal((await orm.em.fork().findOneOrFail(Order, order.id)).note, null);
    assert.deepEqual(await history(em, order), []);
  });

  test('two properties that change alike cannot be told apart: a TypeError asks for `field`', async () => {
    const { em, order } = await seed({ step: 'draft', previous: 'draft' });
    await assert.rejects(persisted(new Mirrored(order, em).send()), { name: 'TypeError', message: /not exactly one property went from "draft" to "sent"/ });
    assert.deepEqual([order.step, order.previous], ['draft', 'draft']);
    const stored = await orm.em.fork().findOneOrFail(Order, order.id);
    assert.deepEqual([stored.step, stored.previous], ['draft', 'draft']);
  });

  test('a `field` the entity does not have is a TypeError naming its properties', async () => {
    const { em, order } = await seed({ step: 'draft' });
    await assert.rejects(persisted(new WrongField(order, em).send()), { name: 'TypeError', message: /\{ field: 'stepp' \}\): Order has no property 'stepp' \(it has id, step, previous, note\)/ });
    assert.equal(order.step, 'draft');
  });

  test('history goes to the user’s own log entity', async () => {
    const { em, order } = await seed({ step: 'draft' });
    await new Audited(order, em).send();
    const rows = await history(em, order, { log: AuditEntry });
    assert.deepEqual(rows.map((r) => [r.entity, r.entityId, r.field, r.transition, r.source, r.target, r.actor]), [['Order', String(order.id), 'step', 'send', 'draft', 'sent', '42']]);
    assert.deepEqual(await history(em, order), []);
  });

  test('history rows can be mapped to any shape', async () => {
    const { em, order } = await seed({ step: 'draft' });
    await new MappedLog(order, em).send();
    const rows = await orm.em.fork().find(Mapped, { orderId: String(order.id) });
    assert.deepEqual(rows.map((r) => [r.move, r.by]), [['draft->sent', 'OrderFlow']]);
  });

  test('log: false writes no history', async () => {
    const { em, order } = await seed({ step: 'draft' });
    await new Unlogged(order, em).send();
    assert.equal((await orm.em.fork().findOneOrFail(Order, order.id)).step, 'sent');
    assert.deepEqual(await history(em, order), []);
  });

  test('an entity option that gives a plain object is refused clearly', async () => {
    const flow = new OverPlainObject(orm.em.fork());
    await assert.rejects(persisted(flow.send()), { name: 'TransitionNotPersisted', reason: 'unmanaged', message: /OverPlainObject\.send\(\): the entity option returned an instance of Object, not a MikroORM entity/ });
    assert.equal(flow.order.step, 'draft');
  });

  test('the global entity manager is refused with a hint to fork', async () => {
    const { order } = await seed({ step: 'draft' });
    await assert.rejects(persisted(new Inferred(order, orm.em).send()), { name: 'TypeError', message: /global EntityManager; give each flow a fork/ });
    assert.equal(order.step, 'draft');
  });

  test('on SQLite, a persisted transition on another entity manager inside a body is refused instead of waiting forever', async () => {
    const a = await seed({ step: 'draft' });
    const b = await seed({ step: 'draft' });
    const inner = new Inferred(b.order, b.em);
    let refused: unknown;
    await new Nesting(a.order, a.em).send(async () => {
      refused = await persisted(inner.send()).then(() => 'committed', (e: unknown) => e);
    });
    assert.ok(refused instanceof TransitionNotPersisted, String(refused));
    assert.match(refused.message, /Inferred|OrderFlow/);
    assert.match(refused.message, /another entity manager of the same SQLite database.*would wait forever/);
    assert.equal(b.order.step, 'draft');
    assert.equal((await orm.em.fork().findOneOrFail(Order, a.order.id)).step, 'sent');

    // The same through a second MikroORM instance on the same file.
    const other = await MikroORM.init({ ...sqliteOptions(join(dir, 'options.sqlite')), entities: [Order, AuditEntry, Mapped, TransitionLog] });
    try {
      const c = await seed({ step: 'draft' });
      const em = other.em.fork();
      const copy = await em.findOneOrFail(Order, b.order.id);
      let refusedToo: unknown;
      await new Nesting(c.order, c.em).send(async () => {
        refusedToo = await persisted(new Inferred(copy, em).send()).then(() => 'committed', (e: unknown) => e);
      });
      assert.ok(refusedToo instanceof TransitionNotPersisted, String(refusedToo));
      // Outside any transition, the two instances take turns.
      await new Inferred(copy, em).send();
      assert.equal((await orm.em.fork().findOneOrFail(Order, b.order.id)).step, 'sent');
    } finally {
      await other.close(true);
    }
  });

  test('sqliteOptions opens the file in WAL mode with a busy timeout', async () => {
    const rows = await orm.em.getConnection().execute('pragma journal_mode');
    assert.equal(rows[0]?.journal_mode, 'wal');
    const timeout = await orm.em.getConnection().execute('pragma busy_timeout');
    assert.equal(Object.values(timeout[0] ?? {})[0], 5000);
  });
});

test('persistTransitions checks its options when it is called', () => {
  class Bare {}
  assert.throws(() => persistTransitions(phase, Bare, undefined as never), { name: 'TypeError', message: /options \{ em, entity \} are required/ });
  assert.throws(() => persistTransitions(phase, Bare, { entity: () => ({}) } as never), { name: 'TypeError', message: /options\.em must be a function/ });
  assert.throws(() => persistTransitions(phase, Bare, { em: () => ({}) } as never), { name: 'TypeError', message: /options\.entity must be a function/ });
  assert.throws(() => persistTransitions(phase, Bare, { em: () => ({}) as never, entity: () => ({}), field: '' }), { name: 'TypeError', message: /options\.field must be a property name/ });
  assert.throws(() => persistTransitions(phase, Inferred, { em: (f) => f.em, entity: (f) => f.order }), { name: 'TypeError', message: /already persisted/ });
});

test('importing transitional does not load MikroORM; transitional/mikro-orm does', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const script = (specifier: string) => `
    import { registerHooks } from 'node:module';
    const seen = [];
    registerHooks({ resolve(s, c, next) { const r = next(s, c); seen.push(r.url); return r; } });
    await import(${JSON.stringify(specifier)});
    console.log(JSON.stringify(seen.filter((u) => u.includes('@mikro-orm') || u.includes('kysely')).length));`;
  const run = (specifier: string) => Number(execFileSync(join(root, 'node_modules/.bin/node'), ['--input-type=module', '-e', script(specifier)], { cwd: root, encoding: 'utf8' }).trim());
  assert.equal(run('transitional'), 0);
  assert.ok(run('transitional/mikro-orm') > 0);
});
