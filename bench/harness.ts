/** A small timing harness: same-run comparisons only, medians of several rounds, no assertions. */

export interface Case {
  readonly name: string;
  /** Performs `n` transitions. */
  readonly run: (n: number) => void;
}

function timeOnce(c: Case, n: number): number {
  const t0 = process.hrtime.bigint();
  c.run(n);
  return Number(process.hrtime.bigint() - t0) / n;
}

/** ns per transition for every case: warm up, then the median of `rounds` interleaved rounds. */
export function measure(cases: readonly Case[], { n = 200_000, rounds = 9 } = {}): Map<string, number> {
  for (const c of cases) for (let i = 0; i < 3; i++) timeOnce(c, n); // warm-up: let the JIT settle
  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) for (const c of cases) samples.get(c.name)!.push(timeOnce(c, n));
  const out = new Map<string, number>();
  for (const [name, s] of samples) out.set(name, s.sort((a, b) => a - b)[Math.floor(s.length / 2)]!);
  return out;
}

/** Bytes per object made by `make`, measured over `count` live objects with a forced GC around. */
export function bytesPerObject(make: (i: number) => object, count = 200_000): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const keep: object[] = new Array(count);
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i++) keep[i] = make(i);
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  if (keep.length !== count) throw new Error('unreachable');
  return (after - before) / count;
}

export function table(rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? c.toFixed(c < 10 ? 2 : c < 100 ? 1 : 0) : c)));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

/** What one timed stretch of an asynchronous step measured. */
export interface StepSample {
  /** Steps per second. */
  readonly perSecond: number;
  /** Process CPU time per step, µs. */
  readonly cpu: number;
}

/**
 * Runs `step` over and over for `ms` milliseconds, cycling its argument through 1..`rows`, and
 * measures steps per second and the process's CPU time per step.
 */
export async function measureStep(step: (id: number) => unknown, ms: number, rows: number): Promise<StepSample> {
  let n = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    await step((n % rows) + 1);
    n++;
  }
  const used = process.cpuUsage(cpu);
  return { perSecond: (n * 1000) / (performance.now() - start), cpu: (used.user + used.system) / n };
}

/**
 * Warms every case up, then runs them interleaved `rounds` times for `ms` each; returns the median
 * of a measure per case (so a drift of the machine touches every case alike).
 */
export async function interleavedMedians(
  cases: ReadonlyArray<readonly [string, (id: number) => unknown]>,
  rounds: number,
  ms: number,
  rows: number,
): Promise<(name: string, key: keyof StepSample) => number> {
  for (const [, step] of cases) await measureStep(step, 300, rows);
  const samples = new Map<string, StepSample[]>(cases.map(([name]) => [name, []]));
  for (let round = 0; round < rounds; round++) for (const [name, step] of cases) samples.get(name)!.push(await measureStep(step, ms, rows));
  return (name, key) => {
    const values = samples.get(name)!.map((s) => s[key]).sort((a, b) => a - b);
    return values[Math.floor(values.length / 2)]!;
  };
}
