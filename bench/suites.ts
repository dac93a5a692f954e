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
import { hitRatioSuite } from './hit-ratio-suite.js';
import { journalSuite } from './journal-latency.js';
import { serveSuite } from './serve.js';
import { coldSuite } from './cold.js';
import { remoteSuite } from './remote.js';
import { tierSuite } from './tier.js';
import { nodefsSuite } from './nodefs.js';

/** What a suite receives from the command line. */
export interface SuiteOptions extends HarnessOptions {
  /** Only cases whose `suite/name/variant` matches run (`--filter`). */
  filter?: RegExp;
  /** Positional words after the suite's name, for suites that take arguments. */
  args: readonly string[];
}

/** What every row of every suite has; timed suites add ns/op and bytes/op, others their own figures. */
export interface ReportRow {
  suite: string;
  name: string;
  variant: string;
}

/** A named group of benchmarks. */
export interface Suite<R extends ReportRow = Row> {
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

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- suites differ in their row type
const registry = new Map<string, Suite<any>>();

/** Adds a suite; a name can be registered once. */
export function registerSuite<R extends ReportRow>(suite: Suite<R>): void {
  if (registry.has(suite.name)) throw new Error(`bench: suite ${suite.name} registered twice`);
  registry.set(suite.name, suite);
}

/** The suite called `name`, if any. */
export function getSuite(name: string): Suite<ReportRow> | undefined {
  return registry.get(name);
}

/** Every registered suite, in registration order. */
export function allSuites(): Suite<ReportRow>[] {
  return [...registry.values()];
}

/** The suites of a run without a suite name. */
export function defaultSuites(): Suite<ReportRow>[] {
  return allSuites().filter((s) => s.inDefaultRun);
}

registerSuite(seedSuite);
registerSuite(peersSuite);
registerSuite(batchSuite);
registerSuite(coherenceSuite);
registerSuite(hitRatioSuite);
registerSuite(journalSuite);
registerSuite(serveSuite);
registerSuite(coldSuite);
registerSuite(remoteSuite);
registerSuite(tierSuite);
registerSuite(nodefsSuite);
