/**
 * The hot path: a two-state ping-pong, in one run, through transitional and its peers.
 *
 *   npm run bench
 *
 * Prints ns per transition and ratios against the hand-written version, then bytes per flow
 * instance against a plain class holding the same fields. Nothing here is asserted: numbers go
 * into notes and the CHANGELOG, never into tests.
 */

import { State } from 'transitional';
import { createActor, createMachine } from 'xstate';
import StateMachine from 'javascript-state-machine';
import { createMachine as robotMachine, interpret as robotInterpret, state as robotState, transition as robotTransition } from 'robot3';
import { bytesPerObject, measure, table, type Case } from './harness.ts';

type Side = 'a' | 'b';
interface Host {
  side: Side;
}

const side = new State(['a', 'b'] as const, { default: 'a', name: 'side' });

class PingPong {
  constructor(readonly host: Host) {}
  @side.getter() getSide() {
    return this.host.side;
  }
  @side.setter() setSide(value: Side) {
    this.host.side = value;
  }
  @side.transition({ source: 'a', target: 'b' }) ping() {}
  @side.transition({ source: 'b', target: 'a' }) pong() {}
}

/** What a careful person writes by hand: guard, state first, rollback on throw. */
class HandWritten {
  constructor(readonly host: Host) {}
  ping() {
    if (this.host.side !== 'a') throw new Error(`ping not allowed from ${this.host.side}`);
    this.host.side = 'b';
    try {
      // body
    } catch (e) {
      this.host.side = 'a';
      throw e;
    }
  }
  pong() {
    if (this.host.side !== 'b') throw new Error(`pong not allowed from ${this.host.side}`);
    this.host.side = 'a';
    try {
      // body
    } catch (e) {
      this.host.side = 'b';
      throw e;
    }
  }
}

/** The same flow with a `before` hook: the general (generator-driven) path. */
class Hooked extends PingPong {
  count = 0;
  @side.before() seen() {
    this.count++;
  }
}

class AsyncPingPong {
  constructor(readonly host: Host) {}
  @side.getter() getSide() {
    return this.host.side;
  }
  @side.setter() setSide(value: Side) {
    this.host.side = value;
  }
  @side.transition({ source: 'a', target: 'b' }) async ping() {}
  @side.transition({ source: 'b', target: 'a' }) async pong() {}
}

/** Hand-written async: guard, state first, await the body, roll back on rejection. */
class HandWrittenAsync {
  constructor(readonly host: Host) {}
  async ping() {
    if (this.host.side !== 'a') throw new Error(`ping not allowed from ${this.host.side}`);
    this.host.side = 'b';
    try {
      await this.body();
    } catch (e) {
      this.host.side = 'a';
      throw e;
    }
  }
  async pong() {
    if (this.host.side !== 'b') throw new Error(`pong not allowed from ${this.host.side}`);
    this.host.side = 'a';
    try {
      await this.body();
    } catch (e) {
      this.host.side = 'b';
      throw e;
    }
  }
  async body() {}
}

class Plain {
  constructor(readonly host: Host) {}
}

const flow = new PingPong({ side: 'a' });
const hand = new HandWritten({ side: 'a' });

const xstate = createActor(
  createMachine({ initial: 'a', states: { a: { on: { PING: 'b' } }, b: { on: { PONG: 'a' } } } }),
).start();
const PING = { type: 'PING' } as const;
const PONG = { type: 'PONG' } as const;

const jsm = new StateMachine({
  init: 'a',
  transitions: [
    { name: 'ping', from: 'a', to: 'b' },
    { name: 'pong', from: 'b', to: 'a' },
  ],
});

const robot = robotInterpret(
  robotMachine({ a: robotState(robotTransition('ping', 'b')), b: robotState(robotTransition('pong', 'a')) }),
  () => {},
);

const cases: Case[] = [
  { name: 'hand-written', run: (n) => { for (let i = 0; i < n; i += 2) { hand.ping(); hand.pong(); } } },
  { name: 'transitional', run: (n) => { for (let i = 0; i < n; i += 2) { flow.ping(); flow.pong(); } } },
  { name: 'robot3', run: (n) => { for (let i = 0; i < n; i += 2) { robot.send('ping'); robot.send('pong'); } } },
  { name: 'javascript-state-machine', run: (n) => { for (let i = 0; i < n; i += 2) { jsm.ping(); jsm.pong(); } } },
  { name: 'xstate', run: (n) => { for (let i = 0; i < n; i += 2) { xstate.send(PING); xstate.send(PONG); } } },
];

const hooked = new Hooked({ side: 'a' });
const asyncFlow = new AsyncPingPong({ side: 'a' });
const asyncHand = new HandWrittenAsync({ side: 'a' });

async function timeAsync(run: (n: number) => Promise<void>, n: number, rounds = 7): Promise<number> {
  for (let i = 0; i < 2; i++) await run(n);
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    await run(n);
    samples.push(Number(process.hrtime.bigint() - t0) / n);
  }
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

export async function runTransitionBench(extra: Case[] = []): Promise<void> {
  const all = [...cases, ...extra];
  const small = new Set(['robot3', 'javascript-state-machine', 'xstate']);
  const ns = new Map<string, number>();
  // Peers are 100-1000x slower: fewer iterations keep the run short without changing ns/op.
  for (const [k, v] of measure(all.filter((c) => !small.has(c.name)), { n: 2_000_000 })) ns.set(k, v);
  for (const [k, v] of measure(all.filter((c) => small.has(c.name)), { n: 40_000 })) ns.set(k, v);
  if (flow.host.side !== 'a' || hand.host.side !== 'a') throw new Error('benchmark flows ended in the wrong state');

  const base = ns.get('hand-written')!;
  const ours = ns.get('transitional')!;
  console.log(`Sync transition (two-state ping-pong), ns per transition, Node ${process.version}\n`);
  console.log(
    table([
      ['case', 'ns/transition', 'x hand-written', 'x transitional'],
      ...[...ns].map(([name, v]) => [name, v, v / base, v / ours] as const),
    ]),
  );

  const withHooks = measure([{ name: 'with a before hook', run: (n) => { for (let i = 0; i < n; i += 2) { hooked.ping(); hooked.pong(); } } }], { n: 400_000 });
  const hookNs = withHooks.get('with a before hook')!;
  const asyncOurs = await timeAsync(async (n) => { for (let i = 0; i < n; i += 2) { await asyncFlow.ping(); await asyncFlow.pong(); } }, 100_000);
  const asyncBase = await timeAsync(async (n) => { for (let i = 0; i < n; i += 2) { await asyncHand.ping(); await asyncHand.pong(); } }, 100_000);
  console.log(`\nOther paths, ns per transition\n`);
  console.log(
    table([
      ['case', 'ns/transition', 'ratio'],
      ['transitional, sync, one before hook', hookNs, hookNs / ours],
      ['hand-written async (await body)', asyncBase, 1],
      ['transitional async (async body)', asyncOurs, asyncOurs / asyncBase],
    ]),
  );

  const plain = bytesPerObject((i) => new Plain({ side: i & 1 ? 'a' : 'b' }));
  const flows = bytesPerObject((i) => new PingPong({ side: i & 1 ? 'a' : 'b' }));
  console.log(`\nMemory: bytes per instance (host object included)\n`);
  console.log(table([['class', 'bytes', 'ratio'], ['plain class', plain, 1], ['transitional flow', flows, flows / plain]]));
}

if (import.meta.url === `file://${process.argv[1]}`) await runTransitionBench();
