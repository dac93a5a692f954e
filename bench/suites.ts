/**
 * The registry of benchmark suites. `node dist/bench/index.js WORD` runs the suite named WORD; with no
 * word, every suite marked `inDefaultRun` runs, in registration order (the seed's table, then the peers).
 *
 * To add a suite (`hit-ratio`, `serve`, …): write a module exporting a {@link Suite} and register it at
 * the bottom of this file. Suites are registered here rather than by side effects of imports so that the
 * order of the default run is written down in one place.
 */
import type { HarnessOptions, Row } from './harness.js';
import { seedSuite } from './seed.js';
import { peersSuite } from './peers.js';
import { batchSuite } from './batch.js';
import { coherenceSuite } from './revalidate.js';
import { serveSuite, type ServeRow } from './serve.js';

/** A row of any suite: the harness's timing rows, or the serve suite's load rows (req/s, p99). */
export type SuiteRow = Row | ServeRow;

/** True for the harness's timing rows (those the generic table can show). */
export function isTimingRow(row: SuiteRow): row is Row {
  return 'nsPerOp' in row;
}

/** What a suite receives from the command line. */
export interface SuiteOptions extends HarnessOptions {
  /** Only cases whose `suite/name/variant` matches run (`--filter`). */
  filter?: RegExp;
  /** Positional words after the suite's name, for suites that take arguments. */
  args: readonly string[];
}

/**
 * A named group of benchmarks. `R` is the kind of row it produces: the harness's timing rows by
 * default; the serve suite's load rows (req/s, p99) come with their own `format`.
 */
export interface Suite<R extends SuiteRow = Row> {
  /** The word that selects it on the command line, and the `suite` of its rows. */
  readonly name: string;
  /** One line for `--help`. */
  readonly description: string;
  /** Whether a run without a suite name includes it. */
  readonly inDefaultRun: boolean;
  /** Measures; rows not matching `opts.filter` are skipped before anything is built. */
  run(opts: SuiteOptions): Promise<R[]>;
  /** Renders this suite's rows for the terminal (Markdown); a generic table is used when absent. */
  format?(rows: readonly R[]): string;
}

const registry = new Map<string, Suite<SuiteRow>>();

/** Adds a suite; a name can be registered once. */
export function registerSuite(suite: Suite<SuiteRow>): void {
  if (registry.has(suite.name)) throw new Error(`bench: suite ${suite.name} registered twice`);
  registry.set(suite.name, suite);
}

/** The suite called `name`, if any. */
export function getSuite(name: string): Suite<SuiteRow> | undefined {
  return registry.get(name);
}

/** Every registered suite, in registration order. */
export function allSuites(): Suite<SuiteRow>[] {
  return [...registry.values()];
}

/** The suites of a run without a suite name. */
export function defaultSuites(): Suite<SuiteRow>[] {
  return allSuites().filter((s) => s.inDefaultRun);
}

registerSuite(seedSuite);
registerSuite(peersSuite);
registerSuite(batchSuite);
registerSuite(coherenceSuite);
registerSuite(serveSuite);
