/**
 * The `transitional` command line (package `bin`, see `src/bin.ts`): draws and lists the transitions
 * of a flow class exported by a TypeScript or JavaScript module.
 *
 *   transitional diagram <module>#<export> [--state <name>] [--format mermaid|dot]
 *   transitional transitions <module>#<export> [--state <name>]
 *   transitional admin <module>#<export> [--port <n>] [--host <h>]
 *
 * `admin` lives in `admin/cli.ts`, a layer above this one: `bin.ts` passes it in as an extra
 * command (loaded only when it runs), so this module never imports upward.
 *
 * Bad input (a missing module or export, something that is not a flow class, an ambiguous State,
 * an unknown command, option or format) prints one line on stderr and exits with code 2.
 */

import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { flowClassName, hasLabel, labelOf, statesOf, targetsOf, toDot, toMermaid, type ReadableState } from './diagram.ts';
import type { StateValue } from '../core/errors.ts';

/** Where the CLI writes; `run` returns the exit code instead of exiting, so it can be embedded. */
export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly cwd: string;
}

/** Bad input: reported as one line on stderr, exit code 2. */
export class UsageError extends Error {}

/** A command given to `run` from outside this module (`admin`): its arguments after the command name. */
export type CliCommand = (args: readonly string[], io: CliIO) => Promise<number>;

const HELP = `Usage: transitional <command> [options]

Draw and list the transitions of a flow class exported by a TypeScript or JavaScript module.

Commands:
  diagram <module>#<export>      Print its state diagram (Mermaid or Graphviz DOT)
  transitions <module>#<export>  Print a table of its transitions
  admin <module>#<export>        Serve the admin view for the options the module
                                 exports (see transitional admin --help)

Options:
  -h, --help     Show this help; \`transitional <command> --help\` shows a command's
                 options and examples
  -v, --version  Print the version

<module> is a file path relative to the current directory (TypeScript files load
through tsx, no build step); <export> is the name the flow class is exported as
(left out: the module's default export).`;

const DIAGRAM_HELP = `Usage: transitional diagram <module>#<export> [--state <name>] [--format mermaid|dot]

Print the state diagram of the flow class <export> of <module>.

Options:
  --state <name>           The State to draw, by its \`name\` option (needed when
                           the class uses several States)
  -f, --format <format>    mermaid (default: a stateDiagram-v2) or dot (Graphviz)
  -h, --help               Show this help

Examples:
  npx transitional diagram src/review-flow.ts#ReviewFlow
  npx transitional diagram src/review-flow.ts#ReviewFlow --format dot | dot -Tsvg > review.svg`;

const TRANSITIONS_HELP = `Usage: transitional transitions <module>#<export> [--state <name>]

Print a table of the transitions of the flow class <export> of <module>, inherited
ones included: name, label, sources, target (every possible one for a computed
target), the state an error moves to, conditions (count and names) and whether
a permission check applies. Labelled states show their label in parentheses.

Options:
  --state <name>   The State to list, by its \`name\` option (needed when the class
                   uses several States)
  -h, --help       Show this help

Example:
  npx transitional transitions src/review-flow.ts#ReviewFlow`;

/**
 * Runs the CLI with `argv` (without `node` and the script) and returns the exit code: 0 on
 * success, 2 on bad input, 1 on an unexpected failure.
 *
 * @example
 * const code = await run(['diagram', 'src/flow.ts#OrderFlow', '--format', 'dot']);
 */
export async function run(argv: readonly string[], io: CliIO = processIO(), commands: Readonly<Record<string, CliCommand>> = {}): Promise<number> {
  try {
    const [command, ...rest] = argv;
    if (command !== undefined && Object.hasOwn(commands, command)) return await commands[command]!(rest, io);
    switch (command) {
      case 'diagram':
        return await diagramCommand(rest, io);
      case 'transitions':
        return await transitionsCommand(rest, io);
      case '-h':
      case '--help':
      case 'help':
        io.stdout(HELP + '\n');
        return 0;
      case '-v':
      case '--version':
        io.stdout(version() + '\n');
        return 0;
      case undefined:
        throw new UsageError(`missing command (${commandNames(commands)}); see transitional --help`);
      default:
        throw new UsageError(
          command.startsWith('-')
            ? `unknown option ${command}; see transitional --help`
            : `unknown command "${command}" (expected ${commandNames(commands)}); see transitional --help`,
        );
    }
  } catch (error) {
    io.stderr(`transitional: ${firstLine(error)}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}

function commandNames(commands: Readonly<Record<string, CliCommand>>): string {
  const names = ['diagram', 'transitions', ...Object.keys(commands)];
  return `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

function processIO(): CliIO {
  return { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), cwd: process.cwd() };
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The message's first line; one that announces details ("Transform failed with 1 error:") takes the next one along. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const first = lines[0] ?? 'failed';
  return first.endsWith(':') && lines[1] !== undefined ? `${first} ${lines[1]}` : first;
}

// ---------------------------------------------------------------------------------------------
// Commands

type Options = { state?: string | undefined; format?: string | undefined; help?: boolean | undefined };

/** The command's options and its one `<module>#<export>`; no target means `--help` was asked for. */
function parse(args: readonly string[], command: string, withFormat: boolean): { target: string | undefined; options: Options } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        state: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...(withFormat ? { format: { type: 'string', short: 'f' } } : {}),
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    // node:util's messages are long ("To specify a positional argument starting with a '-' ..."):
    // keep their first sentence.
    const message = firstLine(error).replace(/\. .*$/, '');
    throw new UsageError(`${command}: ${message.charAt(0).toLowerCase()}${message.slice(1)}; see transitional ${command} --help`);
  }
  const options = parsed.values as Options;
  if (options.help) return { target: undefined, options };
  if (parsed.positionals.length === 0) throw new UsageError(`${command}: missing <module>#<export>; see transitional ${command} --help`);
  if (parsed.positionals.length > 1) {
    throw new UsageError(`${command}: expected one <module>#<export>, got ${parsed.positionals.length} arguments (${parsed.positionals.join(' ')})`);
  }
  return { target: parsed.positionals[0], options };
}

async function diagramCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { target, options } = parse(args, 'diagram', true);
  if (target === undefined) {
    io.stdout(DIAGRAM_HELP + '\n');
    return 0;
  }
  const format = options.format ?? 'mermaid';
  if (format !== 'mermaid' && format !== 'dot') throw new UsageError(`unknown format "${format}" (expected mermaid or dot)`);
  const { flowClass, state } = await loadFlow(target, options.state, io.cwd);
  io.stdout((format === 'dot' ? toDot(flowClass, state) : toMermaid(flowClass, state)) + '\n');
  return 0;
}

async function transitionsCommand(args: readonly string[], io: CliIO): Promise<number> {
  const { target, options } = parse(args, 'transitions', false);
  if (target === undefined) {
    io.stdout(TRANSITIONS_HELP + '\n');
    return 0;
  }
  const { flowClass, state } = await loadFlow(target, options.state, io.cwd);
  io.stdout(transitionsTable(flowClass, state) + '\n');
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Loading the flow class

type FlowClass = abstract new (...args: any[]) => object;

/**
 * `path/to/module.ts#Export` → that export of the module (`default` without `#Export`), and how
 * to name it in messages. A module that cannot be found or loaded, or lacks the export, is a
 * `UsageError`.
 */
export async function loadExport(spec: string, cwd: string): Promise<{ value: unknown; where: string }> {
  const hash = spec.lastIndexOf('#');
  const modulePath = hash === -1 ? spec : spec.slice(0, hash);
  const exportName = hash === -1 ? 'default' : spec.slice(hash + 1);
  if (modulePath === '') throw new UsageError(`expected <module>#<export>, got "${spec}"`);
  if (exportName === '') throw new UsageError(`missing export name after "#" in "${spec}"`);

  const mod = await importModule(modulePath, cwd);
  if (!(exportName in mod)) {
    const names = Object.keys(mod).sort();
    const known = names.length ? `its exports: ${names.join(', ')}` : 'it exports nothing';
    throw new UsageError(`${modulePath} has no export named "${exportName}" (${known})`);
  }
  return { value: mod[exportName], where: `${modulePath}#${exportName}` };
}

/** `path/to/module.ts#Export` → the exported flow class and the State to show. */
async function loadFlow(spec: string, stateName: string | undefined, cwd: string): Promise<{ flowClass: FlowClass; state: ReadableState }> {
  const { value, where } = await loadExport(spec, cwd);
  if (typeof value !== 'function') {
    const what = value === null ? 'null' : isStateLike(value) ? 'a State; pass the class whose methods it decorates' : `${typeof value === 'object' || typeof value === 'undefined' ? 'an' : 'a'} ${typeof value}`;
    throw new UsageError(`${where} is not a flow class (it is ${what})`);
  }
  const flowClass = value as FlowClass;
  const states = statesOf(flowClass);
  if (states.length === 0) throw new UsageError(`${where} is not a flow class (it declares no State transitions, accessors or hooks)`);
  return { flowClass, state: chooseState(flowClassName(flowClass), states, stateName) };
}

function isStateLike(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { key?: unknown }).key === 'symbol' && Array.isArray((value as { values?: unknown }).values);
}

function chooseState(className: string, states: ReadableState[], name: string | undefined): ReadableState {
  const names = states.map((s) => s.name).join(', ');
  if (name === undefined) {
    if (states.length === 1) return states[0]!;
    throw new UsageError(`${className} uses ${states.length} States (${names}): choose one with --state <name>`);
  }
  const matching = states.filter((s) => s.name === name);
  if (matching.length === 0) throw new UsageError(`${className} has no State named "${name}" (its States: ${names})`);
  if (matching.length > 1) {
    throw new UsageError(`${className} has ${matching.length} States named "${name}": give them distinct names with new State(values, { name })`);
  }
  return matching[0]!;
}

const TYPESCRIPT_FILE = /\.(?:[cm]?ts|tsx)$/i;

async function importModule(modulePath: string, cwd: string): Promise<Record<string, unknown>> {
  const file = resolve(cwd, modulePath);
  let isFile = false;
  try {
    isFile = statSync(file).isFile();
  } catch {
    // missing: reported below
  }
  if (!isFile) throw new UsageError(`cannot find module ${modulePath} (no file at ${file})`);
  if (TYPESCRIPT_FILE.test(file)) await registerTypeScript(modulePath);
  // Whatever the module prints while it loads goes to stderr: stdout carries only our output,
  // so `transitional diagram x.ts#Flow > flow.mmd` stays clean for modules with side effects.
  const { log, info } = console;
  console.log = console.info = (...args: unknown[]) => console.error(...args);
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`cannot load ${modulePath}: ${firstLine(error)}`);
  } finally {
    console.log = log;
    console.info = info;
  }
}

let tsxRegistered = false;

/** TypeScript modules load through tsx's ESM hooks (decorators and enums need more than type stripping). */
async function registerTypeScript(modulePath: string): Promise<void> {
  if (tsxRegistered) return;
  let api: typeof import('tsx/esm/api');
  try {
    api = await import('tsx/esm/api');
  } catch {
    throw new UsageError(`loading the TypeScript module ${modulePath} needs tsx: npm install --save-dev tsx`);
  }
  api.register();
  tsxRegistered = true;
}

// ---------------------------------------------------------------------------------------------
// The transitions table

/** A state in the table: its value, and its label in parentheses when it has one. */
function showValue(state: ReadableState, value: StateValue): string {
  return hasLabel(state, value) ? `${String(value)} (${labelOf(state, value)})` : String(value);
}

/**
 * A plain-text table of the class's transitions for `state`, one row per transition definition:
 * its target (`a | b (computed)` for a dynamic target), its `onError` value (`-` without one).
 */
export function transitionsTable(flowClass: FlowClass, state: ReadableState): string {
  const header = ['name', 'label', 'sources', 'target', 'on error', 'conditions', 'permission'];
  const rows = state.transitions(flowClass).map((t) => {
    const named = t.conditions.map((c) => c.name).filter((n) => n !== '');
    const targets = targetsOf(t).map((v) => showValue(state, v));
    return [
      t.name,
      t.label,
      Array.isArray(t.source) ? t.source.map((v) => showValue(state, v)).join(', ') : 'any',
      t.target === undefined ? '(unchanged)' : typeof t.target === 'function' ? `${targets.join(' | ')} (computed)` : targets.join(''),
      t.onError === undefined ? '-' : showValue(state, t.onError),
      named.length ? `${t.conditions.length} (${named.join(', ')})` : String(t.conditions.length),
      t.permission === undefined ? 'no' : 'yes',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
