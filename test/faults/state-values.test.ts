/**
 * README, Guarantees: state values are well-formed strings (no lone surrogates) or finite numbers;
 * anything else is a `TypeError` when the `State` is created — before a value that no database
 * can store faithfully (a lone surrogate comes back as U+FFFD) reaches one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { State } from 'transitional';

test('a state value with a lone surrogate is a TypeError when the State is created', () => {
  for (const values of [['x\uD800'], ['ok', '\uDC00y'], ['a\uD83D']]) {
    assert.throws(() => new State(values), TypeError, JSON.stringify(values));
  }
  enum Broken {
    A = 'a',
    B = 'b\uDFFF',
  }
  assert.throws(() => new State(Broken), TypeError, 'an enum with a lone surrogate');
});

test('a state value that is not a finite number is a TypeError when the State is created', () => {
  for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
    assert.throws(() => new State([1, value] as never), TypeError, String(value));
  }
});

test('well-formed strings, surrogate pairs included, and finite numbers are accepted', () => {
  assert.doesNotThrow(() => new State(['off', '💡 on', 'ünïcode', ''] as const));
  assert.doesNotThrow(() => new State([0, -1, 2.5, Number.MAX_SAFE_INTEGER] as const));
});
