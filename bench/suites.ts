/**
 * The registry of benchmark suites. `node dist/bench/index.js WORD` runs the suite named WORD; with no
 * word, every suite marked `inDefaultRun` runs, in registration order (the seed's table, then the peers).
 *
 * To add a suite (`hit-ratio`, `serve`, …): write a module exporting a {@link Suite} and register it at
 * the bottom of this file. Suites are registered here rather than by side effects of imports so that the
 * order of the default run is written down in one place.
 */
import type { ReportRow, Suite } from './suite.js';
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

export type { ReportRow, Suite, SuiteOptions } from './suite.js';

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
