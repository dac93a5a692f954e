/**
 * Runs the hit-ratio simulator on its own: prints the table (and the byte hit ratio of the size-mix
 * trace), the checks of issue 16, and writes `bench/results/hit-ratio.svg`. `--quick` runs the tenfold
 * smaller traces; `--json` prints the rows as one JSON array at the end.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatHitRatioTable, renderHitRatioSvg, runHitRatio, summarizeHitRatio } from './hit-ratio.js';

const quick = process.argv.includes('--quick');
const started = performance.now();
const rows = await runHitRatio({ quick });
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
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, renderHitRatioSvg(rows));
console.log(`\n${rows.length} rows in ${seconds.toFixed(1)} s; chart written to ${out}`);
