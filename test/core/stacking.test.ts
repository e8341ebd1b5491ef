/**
 * Several transitions on one method (stacked decorators), several States on one class, and one
 * method carrying transitions of two States (README, Transitions).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { State, TransitionNotAllowed } from 'transitional';
import { thrown } from './fixtures.ts';

const power = new State(['off', 'on', 'broken'] as const, { default: 'off', name: 'power' });
type Power = (typeof power.values)[number];
const door = new State(['closed', 'open', 'locked'] as const, { default: 'closed', name: 'door' });
type Door = (typeof door.values)[number];

describe('stacked transitions on one method', () => {
  class Lamp {
    power: Power | undefined = undefined;
    readonly writes: Power[] = [];
    @power.getter() g() { return this.power; }
    @power.setter() s(v: Power) { this.writes.push(v); this.power = v; }

    @power.transition({ source: 'off', target: 'on', label: 'Switch on' })
    @power.transition({ source: 'on', target: 'off', label: 'Switch off' })
    toggle() {
      return power.get(this);
    }
  }

  test('a toggle goes A to B and B to A, each from its own source', () => {
    const lamp = new Lamp();
    assert.equal(lamp.toggle(), 'on');
    assert.equal(lamp.toggle(), 'off');
    assert.equal(lamp.toggle(), 'on');
    assert.deepEqual(lamp.writes, ['on', 'off', 'on']);
  });

  test('a state none of them starts from is refused, naming the method', () => {
    const lamp = new Lamp();
    lamp.power = 'broken';
    const e = thrown(() => lamp.toggle());
    assert.ok(e instanceof TransitionNotAllowed);
    assert.equal(e.transition, 'toggle');
    assert.equal(e.state, 'broken');
    assert.equal(e.reason, 'source');
    assert.deepEqual(lamp.writes, []);
  });

  test('each stacked transition is reported separately', () => {
    const defs = power.transitions(Lamp);
    assert.equal(defs.length, 2);
    assert.deepEqual(
      defs.map((d) => [d.name, d.source, d.target, d.label]).sort(),
      [
        ['toggle', ['off'], 'on', 'Switch on'],
        ['toggle', ['on'], 'off', 'Switch off'],
      ],
    );
  });

  test('each stacked transition keeps its own conditions', () => {
    class Guarded {
      allowOff = false;
      @power.transition({ source: 'off', target: 'on' })
      @power.transition({ source: 'on', target: 'off', conditions: [(g: Guarded) => g.allowOff] })
      toggle() {}
    }
    const g = new Guarded();
    g.toggle();
    const e = thrown(() => g.toggle());
    assert.ok(e instanceof TransitionNotAllowed);
    assert.equal(e.reason, 'condition');
    assert.equal(power.get(g), 'on');
    g.allowOff = true;
    g.toggle();
    assert.equal(power.get(g), 'off');
  });

  test('two transitions with the same source on one method: TypeError at class definition', () => {
    assert.throws(
      () => {
        class Twice {
          @power.transition({ source: 'off', target: 'on' })
          @power.transition({ source: 'off', target: 'broken' })
          flip() {}
        }
        return Twice;
      },
      (e: unknown) => e instanceof TypeError && /flip/.test(e.message) && /"off"/.test(e.message),
    );
  });

  test('overlapping source arrays on one method: TypeError naming the shared value', () => {
    assert.throws(
      () => {
        class Overlap {
          @power.transition({ source: ['off', 'on'], target: 'broken' })
          @power.transition({ source: ['on'], target: 'off' })
          flip() {}
        }
        return Overlap;
      },
      (e: unknown) => e instanceof TypeError && /flip/.test(e.message) && /"on"/.test(e.message),
    );
  });

  test('State.ANY stacked with any other source on one method: TypeError', () => {
    assert.throws(() => {
      class AnyAndOne {
        @power.transition({ source: State.ANY, target: 'broken' })
        @power.transition({ source: 'off', target: 'on' })
        flip() {}
      }
      return AnyAndOne;
    }, TypeError);
  });
});

describe('two States on one class', () => {
  class Room {
    power: Power | undefined = undefined;
    door: Door | undefined = undefined;
    @power.getter() gp() { return this.power; }
    @power.setter() sp(v: Power) { this.power = v; }
    @door.getter() gd() { return this.door; }
    @door.setter() sd(v: Door) { this.door = v; }

    @power.transition({ source: 'off', target: 'on' }) switchOn() {}
    @door.transition({ source: 'closed', target: 'open' }) openDoor() {}
    @door.transition({ source: 'open', target: 'closed' }) closeDoor() {}
  }

  test('each State reads and writes its own field', () => {
    const room = new Room();
    room.switchOn();
    assert.equal(power.get(room), 'on');
    assert.equal(door.get(room), 'closed');
    room.openDoor();
    assert.equal(room.door, 'open');
    assert.equal(room.power, 'on');
  });

  test('a refusal on one State does not depend on the other', () => {
    const room = new Room();
    room.switchOn();
    assert.throws(() => room.closeDoor(), TransitionNotAllowed);
    assert.equal(room.power, 'on');
  });

  test('transitions() of each State lists only its own transitions', () => {
    assert.deepEqual(power.transitions(Room).map((d) => d.name), ['switchOn']);
    assert.deepEqual(door.transitions(Room).map((d) => d.name).sort(), ['closeDoor', 'openDoor']);
  });
});

describe('one method carrying transitions of two States', () => {
  class Vault {
    power: Power | undefined = undefined;
    door: Door | undefined = undefined;
    readonly writes: string[] = [];
    readonly seen: string[] = [];
    pinOk = true;
    failDoorWrites = false;
    @power.getter() gp() { return this.power; }
    @power.setter() sp(v: Power) { this.writes.push(`power:${v}`); this.power = v; }
    @door.getter() gd() { return this.door; }
    @door.setter() sd(v: Door) {
      if (this.failDoorWrites) throw new Error('door jammed');
      this.writes.push(`door:${v}`);
      this.door = v;
    }

    @power.transition({ source: 'off', target: 'on' })
    @door.transition({ source: 'closed', target: 'open', conditions: [(v: Vault) => ({ ok: v.pinOk, reason: 'wrong pin' })] })
    unlock(fail?: Error) {
      this.seen.push(`${power.get(this)}/${door.get(this)}`);
      if (fail) throw fail;
      return 'unlocked';
    }

    @power.transition({ source: 'on', target: 'broken', onError: 'off' })
    @door.transition({ source: 'open' })
    smash(fail?: Error) {
      if (fail) throw fail;
    }
  }

  test('both States change before the body runs', () => {
    const vault = new Vault();
    assert.equal(vault.unlock(), 'unlocked');
    assert.deepEqual(vault.seen, ['on/open']);
    assert.equal(vault.power, 'on');
    assert.equal(vault.door, 'open');
  });

  test('both roll back when the body throws, and the same error is rethrown', () => {
    const vault = new Vault();
    const error = new Error('alarm');
    assert.throws(() => vault.unlock(error), (e) => e === error);
    assert.equal(vault.power, 'off');
    assert.equal(vault.door, 'closed');
    assert.deepEqual(vault.writes.slice(2).sort(), ['door:closed', 'power:off']);
  });

  test('if one State refuses its source, nothing changes on either', () => {
    const vault = new Vault();
    vault.door = 'locked';
    const e = thrown(() => vault.unlock());
    assert.ok(e instanceof TransitionNotAllowed);
    assert.equal(e.reason, 'source');
    assert.equal(e.transition, 'unlock');
    assert.equal(e.state, 'locked');
    assert.deepEqual(vault.writes, []);
    assert.deepEqual(vault.seen, []);
    assert.equal(vault.power, undefined);
  });

  test('if the other State refuses its source, nothing changes either', () => {
    const vault = new Vault();
    vault.power = 'broken';
    const e = thrown(() => vault.unlock());
    assert.ok(e instanceof TransitionNotAllowed);
    assert.equal(e.state, 'broken');
    assert.deepEqual(vault.writes, []);
  });

  test('if one State\'s condition fails, nothing changes on either', () => {
    const vault = new Vault();
    vault.pinOk = false;
    const e = thrown(() => vault.unlock());
    assert.ok(e instanceof TransitionNotAllowed);
    assert.equal(e.reason, 'condition');
    assert.match((e as Error).message, /wrong pin/);
    assert.deepEqual(vault.writes, []);
  });

  test('a setter that throws on the second State: the first is put back and the error propagates', () => {
    const vault = new Vault();
    vault.failDoorWrites = true;
    assert.throws(() => vault.unlock(), /door jammed/);
    assert.deepEqual(vault.seen, []);
    assert.equal(power.get(vault), 'off');
    assert.equal(door.get(vault), 'closed');
  });

  test('onError applies to its own State; a no-target lane keeps its value', () => {
    const vault = new Vault();
    vault.unlock();
    assert.throws(() => vault.smash(new Error('too strong')), /too strong/);
    assert.equal(vault.power, 'off');
    assert.equal(vault.door, 'open');
    vault.power = 'on';
    vault.smash();
    assert.equal(vault.power, 'broken');
    assert.equal(vault.door, 'open');
  });

  test('a rollback write that fails does not hide the body\'s error', () => {
    const vault = new Vault();
    const error = new Error('alarm');
    let calls = 0;
    vault.sd = function (this: Vault, v: Door) {
      if (++calls === 2) throw new Error('rollback write failed');
      this.door = v;
    };
    assert.throws(() => vault.unlock(error), (e) => e === error);
  });

  test('can and available consult both States', () => {
    const vault = new Vault();
    assert.equal(power.can(vault, 'unlock'), true);
    assert.deepEqual(power.available(vault).map((d) => d.name), ['unlock']);
    vault.door = 'locked';
    assert.equal(power.can(vault, 'unlock'), false);
    assert.equal(door.can(vault, 'unlock'), false);
    assert.deepEqual(power.available(vault), []);
    vault.door = 'closed';
    vault.pinOk = false;
    assert.equal(power.can(vault, 'unlock'), false);
    assert.deepEqual(vault.writes, []);
  });

  test('both States report the method in transitions()', () => {
    assert.deepEqual(power.transitions(Vault).map((d) => d.name), ['unlock', 'smash']);
    assert.deepEqual(door.transitions(Vault).map((d) => d.name), ['unlock', 'smash']);
  });
});
