/**
 * The shape of a benchmark suite, apart from the registry (`suites.ts`) that imports every suite: the
 * suites import these types from here, so no suite imports the registry that imports it.
 */
import type { HarnessOptions, Row } from './harness.js';

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
