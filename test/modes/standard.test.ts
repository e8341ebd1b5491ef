/** The shared behaviour suite against flows compiled with standard (TC39) decorators. */
import * as flows from './fixtures/flows.ts';
import { describeBehaviour } from './behaviour.ts';

describeBehaviour('standard', flows);
