/**
 * `npm run bench -- hit-ratio`: the hit-ratio simulator as a suite of the benchmark command, so its rows
 * land in the same `--json` file as the timed ones. Not in the default run (it replays public traces
 * through CacheFS and 3M-request synthetic traces for every policy: minutes). Writes the SVG chart to `bench/results/hit-ratio.svg`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatHitRatioTable, runHitRatio, summarizeHitRatio, type HitRatioRow } from './hit-ratio.js';
import { renderHitRatioSvg } from './hit-ratio-chart.js';
import type { Suite } from './suite.js';

/** Where the chart goes: the source tree's bench/results, also when run from dist/bench. */
export function chartPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = here.endsWith(join('dist', 'bench')) ? join(here, '..', '..') : join(here, '..');
  return join(root, 'bench', 'results', 'hit-ratio.svg');
}

export const hitRatioSuite: Suite<HitRatioRow> = {
  name: 'hit-ratio',
  description: 'every policy, the paper\'s SIEVE and Belady\'s optimum over public traces (through CacheFS) and synthetic ones (add "quick" for a small run)',
  inDefaultRun: false,
  async run(opts) {
    const rows = await runHitRatio({ quick: opts.args.includes('quick') });
    const kept = opts.filter ? rows.filter((r) => opts.filter!.test(`${r.suite}/${r.name}/${r.variant}`)) : rows;
    const out = chartPath();
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, renderHitRatioSvg(rows));
    process.stderr.write(`bench: chart written to ${out}\n`);
    return kept;
  },
  format(rows) {
    const bytes = rows.filter((r) => r.name.startsWith('size-mix@'));
    let out = `hit ratio (%)\n\n${formatHitRatioTable(rows)}`;
    if (bytes.length > 0) out += `\n\nbyte hit ratio (%), size-mix trace\n\n${formatHitRatioTable(bytes, 'byteHitRatio')}`;
    return `${out}\n\n${summarizeHitRatio(rows)}`;
  },
};
