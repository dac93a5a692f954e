/**
 * Runs the hit-ratio simulator on its own: prints the table (and the byte hit ratio of the size-mix
 * trace), the checks of issue 16, and writes `bench/results/hit-ratio.svg`. `--quick` runs the tenfold
 * smaller traces; `--json` prints the rows as one JSON array at the end.
 *
 * For a fast loop while tuning a policy, `HIT_RATIO_ONLY` (a regular expression over `trace@size`, e.g.
 * `'^(zipf\+scan|shifting)@'`) keeps only the matching rows and `HIT_RATIO_POLICIES` (comma-separated,
 * e.g. `lru,sieve,tinylfu`) only those policies; the chart is then not written, so a partial run never
 * replaces the full one.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { POLICY_NAMES, type PolicyName } from '../src/policy/policy.js';
import { formatHitRatioTable, runHitRatio, summarizeHitRatio } from './hit-ratio.js';
import { renderHitRatioSvg } from './hit-ratio-chart.js';

const quick = process.argv.includes('--quick');
const only = process.env['HIT_RATIO_ONLY'] ? new RegExp(process.env['HIT_RATIO_ONLY']) : undefined;
const policies = process.env['HIT_RATIO_POLICIES']?.split(',').map((name) => {
  if (!(POLICY_NAMES as readonly string[]).includes(name)) throw new Error(`HIT_RATIO_POLICIES: unknown policy ${name}`);
  return name as PolicyName;
});
const partial = only !== undefined || policies !== undefined;
const started = performance.now();
const rows = await runHitRatio({ quick, only, policies });
const seconds = (performance.now() - started) / 1000;

console.log(`hit ratio (%)${quick ? ' [quick]' : ''}`);
console.log(formatHitRatioTable(rows));
console.log('\nbyte hit ratio (%), size-mix trace');
console.log(formatHitRatioTable(rows.filter((r) => r.name.startsWith('size-mix@')), 'byteHitRatio'));
console.log(`\n${summarizeHitRatio(rows)}`);
if (process.argv.includes('--json')) console.log(`\n${JSON.stringify(rows)}`);

// Compiled to dist/bench/, the results belong in the source tree's bench/results/.
const here = dirname(fileURLToPath(import.meta.url));
const root = here.endsWith(join('dist', 'bench')) ? join(here, '..', '..') : join(here, '..');
const out = join(root, 'bench', 'results', 'hit-ratio.svg');
if (partial) {
  console.log(`\n${rows.length} rows in ${seconds.toFixed(1)} s (partial run: chart not written)`);
} else {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, renderHitRatioSvg(rows));
  console.log(`\n${rows.length} rows in ${seconds.toFixed(1)} s; chart written to ${out}`);
}
