/**
 * The public traces of the hit-ratio simulator (see `bench/traces/README.md` for where they come from
 * and their licence): gzipped LIRS traces, one block number per line, read into dense key ids.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Trace } from './traces.js';

/** A public trace and the cache sizes (in entries) it is replayed at. */
export interface PublicTraceSpec {
  name: string;
  file: string;
  sizes: readonly number[];
}

/**
 * glimpse at the sizes of Caffeine's published chart; the others at about 5%, 10%, 20% and 40% of their
 * distinct keys (rounded), where the policies differ most.
 */
export const PUBLIC_TRACES: readonly PublicTraceSpec[] = [
  { name: 'gli', file: 'gli.trace.gz', sizes: [250, 500, 750, 1000, 1250, 1500, 1750] },
  { name: 'cs', file: 'cs.trace.gz', sizes: [70, 140, 280, 560] },
  { name: 'multi1', file: 'multi1.trace.gz', sizes: [130, 260, 520, 1040] },
  { name: 'sprite', file: 'sprite.trace.gz', sizes: [350, 700, 1400, 2800] },
  { name: '2_pools', file: '2_pools.trace.gz', sizes: [500, 1000, 2000, 4000] },
];

/** W-TinyLFU's hit ratio (%) on glimpse as published on Caffeine's wiki (Efficiency page, read off its chart). */
export const CAFFEINE_GLIMPSE: Readonly<Record<number, number>> = { 250: 15.8, 500: 33.4, 750: 43.7, 1000: 50.8, 1250: 51.8 };

/** The directory of the trace files: the source tree's bench/traces, also when run from dist/bench. */
function tracesDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = here.endsWith(join('dist', 'bench')) ? join(here, '..', '..') : join(here, '..');
  return join(root, 'bench', 'traces');
}

/** Reads a LIRS trace; keys are numbered densely in order of first appearance. `limit` keeps a prefix. */
export function loadLirsTrace(file: string, limit = Infinity): Trace {
  const text = gunzipSync(readFileSync(join(tracesDir(), file))).toString('latin1');
  const ids = new Map<string, number>();
  const keys: number[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line === '*') continue;
    let id = ids.get(line);
    if (id === undefined) ids.set(line, (id = ids.size));
    keys.push(id);
    if (keys.length >= limit) break;
  }
  return { keys: Int32Array.from(keys), keySpace: ids.size };
}
