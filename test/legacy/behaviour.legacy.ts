/**
 * Entry of the experimentalDecorators run: the shared behaviour suite against flows compiled with
 * test/legacy/tsconfig.json. Not named *.test.ts, so `npm test` does not run it under the standard
 * config; test/modes/legacy.test.ts runs it in a child process with TSX_TSCONFIG_PATH set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as flows from '../modes/fixtures/flows.ts';
import { describeBehaviour } from '../modes/behaviour.ts';

let arity = 0;
function probe(...args: unknown[]): void {
  arity = args.length;
}
class Probe {
  @probe
  method(): void {}
}
void Probe;

test('this entry is compiled with experimentalDecorators (a method decorator gets 3 arguments)', () => {
  assert.equal(arity, 3);
  assert.equal(flows.decoratorMode, 'legacy');
});

describeBehaviour('legacy', flows);
