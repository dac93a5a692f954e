/**
 * How should a write-back flush reach the backend: the whole file (`writeFile`), or only the byte ranges
 * that changed (`write` at positions, then a `truncate` to the size when the file was cut)? This measures
 * the backend calls each strategy makes, over `nodeBackend` on a temporary directory, for three shapes of
 * dirty data:
 *
 * - `one-write`: one 100-byte write somewhere in the file since the last flush;
 * - `scattered`: 200 writes of 16 bytes at random positions (coalesced as the flusher does);
 * - `rewrite`: the whole file replaced.
 *
 * Run: `node dist/bench/flush-strategy.js` (after `tsc -p .`). Prints one Markdown table; figures are µs
 * per flush, the median of several rounds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nodeBackend } from '../src/backend/node.js';
import { DirtyRanges } from '../src/write/back/dirty-ranges.js';

const SIZES = [4 * 1024, 64 * 1024, 1024 * 1024, 16 * 1024 * 1024];
type Shape = 'one-write' | 'scattered' | 'rewrite';
const SHAPES: Shape[] = ['one-write', 'scattered', 'rewrite'];

export interface FlushStrategyRow {
  size: number;
  shape: Shape;
  wholeUs: number;
  rangesUs: number;
  backendCallsRanges: number;
}

function dirtyFor(shape: Shape, size: number, random: () => number): DirtyRanges {
  const ranges = new DirtyRanges();
  if (shape === 'rewrite') {
    ranges.replaced(size);
  } else if (shape === 'one-write') {
    const at = Math.floor(random() * (size - 100));
    ranges.wrote(at, at + 100, size);
  } else {
    for (let i = 0; i < 200; i++) {
      const at = Math.floor(random() * (size - 16));
      ranges.wrote(at, at + 16, size);
    }
  }
  return ranges;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Measures both strategies for every size and shape; returns one row per (size, shape). */
export async function runFlushStrategy(rounds = 7): Promise<FlushStrategyRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'cachefs-flush-'));
  const backend = nodeBackend(dir);
  let seed = 42;
  const random = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
  const rows: FlushStrategyRow[] = [];
  try {
    for (const size of SIZES) {
      const content = Buffer.alloc(size, 7);
      await backend.writeFile('/f', content);
      const iterations = Math.max(3, Math.min(200, Math.floor((64 * 1024 * 1024) / size / 4)));
      for (const shape of SHAPES) {
        const whole: number[] = [];
        const ranged: number[] = [];
        let calls = 0;
        for (let round = 0; round < rounds; round++) {
          const plans = Array.from({ length: iterations }, () => dirtyFor(shape, size, random));
          let started = performance.now();
          for (let i = 0; i < iterations; i++) await backend.writeFile('/f', content);
          whole.push(((performance.now() - started) * 1000) / iterations);
          calls = 0;
          started = performance.now();
          for (const plan of plans) {
            for (const [start, end] of plan.list(size)) {
              await backend.write!('/f', content.subarray(start, end), start);
              calls++;
            }
            // As the flusher does: a file that was cut is written in place, then cut to its size
            // (truncating to 0 first would make the file system free and reallocate every block).
            if (plan.cut !== Infinity) {
              await backend.truncate('/f', size);
              calls++;
            }
          }
          ranged.push(((performance.now() - started) * 1000) / iterations);
        }
        rows.push({ size, shape, wholeUs: median(whole), rangesUs: median(ranged), backendCallsRanges: calls / iterations });
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}

function formatSize(n: number): string {
  return n >= 1024 * 1024 ? `${n / 1024 / 1024} MiB` : `${n / 1024} KiB`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await runFlushStrategy();
  console.log('| file | dirty data | whole file (µs/flush) | dirty ranges (µs/flush) | backend calls (ranges) |');
  console.log('| ---: | --- | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(`| ${formatSize(r.size)} | ${r.shape} | ${r.wholeUs.toFixed(1)} | ${r.rangesUs.toFixed(1)} | ${r.backendCallsRanges.toFixed(1)} |`);
  }
}
