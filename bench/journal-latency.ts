/**
 * What the journal costs a write: `writeFile` latency, 1 KiB and 64 KiB, over `nodeBackend` on a
 * temporary directory, in four configurations:
 *
 * - `write-through`: the write reaches the disk before it resolves;
 * - `write-back`: the write lands in memory; the disk gets it at the next flush;
 * - `write-back+journal`: plus one append to the journal (survives kill -9);
 * - `write-back+journal+fsync`: plus an fdatasync of the journal per append (survives power loss).
 *
 * Each round times a batch of writes to 16 files, then flushes outside the timed part (so write-back
 * keeps measuring writes, not a growing dirty set); the variants take turns round by round, and the
 * figure is the median of the rounds' mean latencies.
 *
 * Run: `node dist/bench/journal-latency.js` (after `tsc -p .`); prints a Markdown table. The module
 * exports {@link runJournalLatency} for the benchmark suite.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CacheFS } from '../src/fs/cachefs.js';
import { nodeBackend } from '../src/backend/node.js';
import type { CacheFSOptions } from '../src/options.js';
import type { Suite } from './suite.js';

/** One measured case, in the benchmark suite's row shape. */
export interface JournalLatencyRow {
  suite: 'journal';
  /** `WriteFile_1KiB` or `WriteFile_64KiB`. */
  name: string;
  /** `write-through`, `write-back`, `write-back+journal` or `write-back+journal+fsync`. */
  variant: string;
  /** Mean wall time of one `writeFile`, in nanoseconds (median over rounds). */
  nsPerOp: number;
}

const FILES = 16;
const ROUNDS = 7;
/** Time budget of one round of one case. */
const ROUND_MS = 150;

interface Variant {
  name: string;
  options(journalDir: string): CacheFSOptions;
}

const VARIANTS: Variant[] = [
  { name: 'write-through', options: () => ({ writeMode: 'write-through' }) },
  { name: 'write-back', options: () => ({ writeMode: 'write-back', flushInterval: 0 }) },
  { name: 'write-back+journal', options: (journal) => ({ writeMode: 'write-back', flushInterval: 0, journal }) },
  { name: 'write-back+journal+fsync', options: (journal) => ({ writeMode: 'write-back', flushInterval: 0, journal, journalSync: true }) },
];

const SIZES: Array<[string, number]> = [
  ['WriteFile_1KiB', 1024],
  ['WriteFile_64KiB', 64 * 1024],
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

interface Case {
  row: Omit<JournalLatencyRow, 'nsPerOp'>;
  fs: CacheFS;
  data: Buffer;
  samples: number[];
  next: number;
}

/** Measures every variant at both sizes; resolves with one row per (size, variant). */
export async function runJournalLatency(): Promise<JournalLatencyRow[]> {
  const scratch = await mkdtemp(join(tmpdir(), 'cachefs-journal-bench-'));
  const cases: Case[] = [];
  try {
    for (const [name, size] of SIZES) {
      for (const variant of VARIANTS) {
        const dir = join(scratch, `${name}-${variant.name}`);
        const data = join(dir, 'data');
        await mkdir(data, { recursive: true });
        const fs = new CacheFS(nodeBackend(data), { maxBytes: 0, ...variant.options(join(dir, 'journal')) });
        await fs.ready();
        const payload = Buffer.alloc(size, 0x61);
        for (let i = 0; i < FILES; i++) await fs.writeFile(`/f${i}`, payload); // create the files once
        await fs.flush();
        cases.push({ row: { suite: 'journal', name, variant: variant.name }, fs, data: payload, samples: [], next: 0 });
      }
    }
    for (let round = 0; round <= ROUNDS; round++) {
      for (const c of cases) {
        let ops = 0;
        const started = process.hrtime.bigint();
        const deadline = started + BigInt(ROUND_MS * 1e6);
        let now = started;
        while (now < deadline) {
          await c.fs.writeFile(`/f${c.next++ % FILES}`, c.data);
          ops++;
          now = process.hrtime.bigint();
        }
        if (round > 0) c.samples.push(Number(now - started) / ops); // round 0 warms up
        await c.fs.flush();
      }
    }
    return cases.map((c) => ({ ...c.row, nsPerOp: Math.round(median(c.samples)) }));
  } finally {
    for (const c of cases) await c.fs.close().catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await runJournalLatency();
  console.log('| write | variant | µs per writeFile |');
  console.log('| --- | --- | ---: |');
  for (const r of rows) console.log(`| ${r.name} | ${r.variant} | ${(r.nsPerOp / 1000).toFixed(1)} |`);
}

/** `npm run bench -- journal`: write latency with and without the journal, with and without fsync. */
export const journalSuite: Suite<JournalLatencyRow> = {
  name: 'journal',
  description: 'writeFile latency: write-through, write-back, with the journal, with journal + fsync (nodeBackend)',
  inDefaultRun: false,
  async run(opts) {
    const rows = await runJournalLatency();
    return opts.filter ? rows.filter((r) => opts.filter!.test(`${r.suite}/${r.name}/${r.variant}`)) : rows;
  },
  format(rows) {
    const lines = ['| write | variant | µs per writeFile |', '| --- | --- | ---: |'];
    for (const r of rows) lines.push(`| ${r.name} | ${r.variant} | ${(r.nsPerOp / 1000).toFixed(1)} |`);
    return lines.join('\n');
  },
};
