import { test } from 'node:test';
import assert from 'node:assert/strict';
import { State } from 'transitional';

test('a transition moves the state before its body runs', () => {
  const light = new State(['off', 'on'] as const, { default: 'off' });
  class Switch {
    seen: string | undefined;
    @light.transition({ source: 'off', target: 'on' })
    turnOn() {
      this.seen = light.get(this);
    }
  }
  const s = new Switch();
  s.turnOn();
  assert.equal(s.seen, 'on');
  assert.equal(light.get(s), 'on');
});
