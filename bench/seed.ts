/**
 * The seed suite: the Go library's benchmark table (POOLING_RESULTS.md), each row measured with
 * `pool: false` (`unpooled`) and `pool: true` (`pooled`). Filled in once CacheFS lands.
 */
import type { Row } from './harness.js';
import type { Suite, SuiteOptions } from './suites.js';
import { formatSeedTable } from './table.js';

/** The seed suite (part of the default run). */
export const seedSuite: Suite = {
  name: 'seed',
  description: "the Go seed's benchmarks, pooled against unpooled",
  inDefaultRun: true,
  async run(_opts: SuiteOptions): Promise<Row[]> {
    return [];
  },
  format: (rows) => formatSeedTable(rows),
};
