/**
 * Definition errors (README, States, Transitions, Ordered states): a bad `@s.transition` is a `TypeError` thrown while the
 * class is being defined, naming the method and the offending value.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { State } from 'transitional';

const light = new State(['red', 'amber', 'green'] as const, { default: 'red', name: 'light' });
const steps = new State(['one', 'two', 'three'] as const, { default: 'one', ordered: true, name: 'steps' });
const levels = new State([0, 1, 2] as const, { default: 0, ordered: true, name: 'levels' });

/** Asserts that defining a class throws a TypeError whose message matches every pattern. */
function definitionFails(define: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(define, (e: unknown) => {
    assert.ok(e instanceof TypeError, `expected a TypeError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}

describe('unknown values', () => {
  test('an unknown source, naming the value and the method', () => {
    definitionFails(() => {
      class Bad {
        @light.transition({ source: 'blue' as never, target: 'green' }) go() {}
      }
      return Bad;
    }, /"blue"/, /go/);
  });

  test('an unknown value inside a source array', () => {
    definitionFails(() => {
      class Bad {
        @light.transition({ source: ['red', 'purple' as never], target: 'green' }) go() {}
      }
      return Bad;
    }, /"purple"/, /go/);
  });

  test('an unknown target', () => {
    definitionFails(() => {
      class Bad {
        @light.transition({ source: 'red', target: 'violet' as never }) stop() {}
      }
      return Bad;
    }, /"violet"/, /stop/);
  });

  test('an unknown onError value', () => {
    definitionFails(() => {
      class Bad {
        @light.transition({ source: 'red', target: 'green', onError: 'black' as never }) flash() {}
      }
      return Bad;
    }, /"black"/, /flash/);
  });

  test('a number where strings are declared is unknown, and the other way round', () => {
    definitionFails(() => {
      class Bad {
        @light.transition({ source: 0 as never, target: 'green' }) go() {}
      }
      return Bad;
    }, /\b0\b/, /go/);
    definitionFails(() => {
      class Bad {
        @levels.transition({ source: '0' as never, target: 1 }) go() {}
      }
      return Bad;
    }, /"0"/, /go/);
  });

  test('the error comes while the class is being defined, before any code after it runs', () => {
    let defined = false;
    assert.throws(() => {
      class Bad {
        @light.transition({ source: 'nope' as never }) go() {}
      }
      defined = true;
      return Bad;
    }, TypeError);
    assert.equal(defined, false);
  });
});

describe('malformed sources', () => {
  test('an empty source array', () => {
    definitionFails(() => {
      class Bad {
        @light.transition({ source: [], target: 'green' }) go() {}
      }
      return Bad;
    }, /go/);
  });

  test('a missing source', () => {
    definitionFails(() => {
      class Bad {
        @light.transition({ target: 'green' } as never) go() {}
      }
      return Bad;
    }, /go/);
  });
});

describe('ordered States', () => {
  test('a target before its source without rewind, naming both values', () => {
    definitionFails(() => {
      class Bad {
        @steps.transition({ source: 'three', target: 'one' }) back() {}
      }
      return Bad;
    }, /back/, /"one"/, /"three"/, /rewind/);
  });

  test('one backward source in an array is enough', () => {
    definitionFails(() => {
      class Bad {
        @steps.transition({ source: ['one', 'three'], target: 'two' }) middle() {}
      }
      return Bad;
    }, /middle/, /"three"/);
  });

  test('numbers are ordered by declaration too', () => {
    definitionFails(() => {
      class Bad {
        @levels.transition({ source: 2, target: 0 }) drop() {}
      }
      return Bad;
    }, /drop/, /\b0\b/);
  });

  test('with rewind: true, going back is allowed and works', () => {
    class Wizard {
      @steps.transition({ source: 'one', target: 'two' }) next() {}
      @steps.transition({ source: 'two', target: 'two' }) stay() {}
      @steps.transition({ source: ['two', 'three'], target: 'one', rewind: true }) restart() {}
    }
    const w = new Wizard();
    w.next();
    w.stay();
    w.restart();
    assert.equal(steps.get(w), 'one');
    assert.equal(steps.transitions(Wizard).find((d) => d.name === 'restart')!.rewind, true);
  });

  test('forward targets and no-target transitions need no rewind', () => {
    class Wizard {
      @steps.transition({ source: 'one', target: 'three' }) skip() {}
      @steps.transition({ source: 'three' }) review() {}
    }
    const w = new Wizard();
    w.skip();
    w.review();
    assert.equal(steps.get(w), 'three');
  });

  test('rewind on an unordered State is a TypeError', () => {
    definitionFails(() => {
      class Bad {
        @light.transition({ source: 'green', target: 'red', rewind: true }) stop() {}
      }
      return Bad;
    }, /stop/, /rewind/);
  });
});

describe('other malformed options', () => {
  test('conditions must be functions', () => {
    definitionFails(() => {
      class Bad {
        @light.transition({ source: 'red', target: 'green', conditions: [true as never] }) go() {}
      }
      return Bad;
    }, /go/);
  });

  test('permission must be a function', () => {
    definitionFails(() => {
      class Bad {
        @light.transition({ source: 'red', target: 'green', permission: 'admins' as never }) go() {}
      }
      return Bad;
    }, /go/);
  });

  test('a static method cannot be a transition', () => {
    definitionFails(() => {
      class Bad {
        @light.transition({ source: 'red', target: 'green' }) static go() {}
      }
      return Bad;
    }, /go/, /static/);
  });

  test('a private method cannot be a transition (the runtime reaches transitions by name)', () => {
    definitionFails(() => {
      class Bad {
        @light.transition({ source: 'red', target: 'green' }) #go() {}
        run() { this.#go(); }
      }
      return Bad;
    }, /#go/);
  });
});
