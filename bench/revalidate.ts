/**
 * The coherence suite: what revalidation costs a cache hit.
 *
 * Every case reads one 19-byte file that is already cached (`readFile`, whole), through its own CacheFS,
 * with the file dated an hour ago so that its identity is settled (a file changed within the last few
 * milliseconds is reloaded at its next check, see src/coherence/identity.ts):
 *
 * - `ReadHit_revalidate_off_*`: `revalidate: 'never'` (the default): a hit never asks the backend.
 * - `ReadHit_revalidate_always_*`: `revalidate: 'always'`: every hit first `stat`s the file and compares
 *   size, mtime, ctime and inode with what the entry was loaded with.
 * - `ReadHit_revalidate_1000ms_*`: `revalidate: 1000`: a hit reads the clock, and one hit per second
 *   pays for a `stat`.
 * - `ReadHit_watch_node`: `watch: true` over nodeBackend: changes arrive as events, hits pay nothing.
 *
 * `_memory` rows run over memoryBackend (a `stat` is a memfs call), `_node` rows over nodeBackend in a
 * temp directory (a `stat` is a real system call, plus nodeBackend's confinement check of the path).
 * The cases of one backend form one group of the harness, so they share their budget in alternating
 * rounds. `npm run bench -- coherence` runs this suite alone.
 */
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheFS, memoryBackend, nodeBackend, type Backend, type CacheFSOptions } from '../src/index.js';
import { caseKey, DEFAULT_HARNESS_OPTIONS, measureGroup, type BenchCase, type HarnessOptions, type Row } from './harness.js';
import type { Suite, SuiteOptions } from './suite.js';

const FILE = '/bench.txt';
const DATA = new TextEncoder().encode('benchmark test data'); // 19 bytes, as the seed's ReadHit
const SETTLED = new Date(Date.now() - 3_600_000);

interface Spec {
  name: string;
  backend: 'memory' | 'node';
  options: CacheFSOptions;
}

const SPECS: Spec[] = [
  { name: 'ReadHit_revalidate_off_memory', backend: 'memory', options: { revalidate: 'never' } },
  { name: 'ReadHit_revalidate_always_memory', backend: 'memory', options: { revalidate: 'always' } },
  { name: 'ReadHit_revalidate_1000ms_memory', backend: 'memory', options: { revalidate: 1000 } },
  { name: 'ReadHit_revalidate_off_node', backend: 'node', options: { revalidate: 'never' } },
  { name: 'ReadHit_revalidate_always_node', backend: 'node', options: { revalidate: 'always' } },
  { name: 'ReadHit_revalidate_1000ms_node', backend: 'node', options: { revalidate: 1000 } },
  { name: 'ReadHit_watch_node', backend: 'node', options: { watch: true } },
];

/** A backend holding {@link FILE}; a disk one gets a directory of its own below `dir`. */
async function makeBackend(spec: Spec, dir: string): Promise<Backend> {
  if (spec.backend === 'memory') {
    const backend = memoryBackend({ [FILE]: DATA });
    await backend.utimes(FILE, SETTLED.getTime(), SETTLED.getTime());
    return backend;
  }
  // Not shared between cases: rewriting it for one would be a change that another detects.
  dir = join(dir, spec.name);
  await mkdir(dir);
  await writeFile(join(dir, FILE), DATA);
  await utimes(join(dir, FILE), SETTLED, SETTLED);
  return nodeBackend(dir);
}

function benchCase(spec: Spec, dir: string): BenchCase {
  return {
    suite: 'coherence',
    name: spec.name,
    variant: 'cachefs',
    setup: async () => {
      const fs = new CacheFS(await makeBackend(spec, dir), spec.options);
      const first = await fs.readFile(FILE);
      if (first.length !== DATA.length) throw new Error(`coherence bench: read ${first.length} bytes of ${FILE}`);
      const misses = fs.stats().misses;
      return {
        kind: 'async',
        op: () => fs.readFile(FILE),
        teardown: async () => {
          // Every read must have been a hit, or the row measured reloads.
          const extra = fs.stats().misses - misses;
          await fs.close();
          if (extra !== 0) throw new Error(`coherence bench: ${spec.name} missed ${extra} times`);
        },
      };
    },
  };
}

/**
 * Measures the ReadHit rows (`suite: 'coherence'`, `variant: 'cachefs'`) over memoryBackend and
 * nodeBackend. `filter` is matched against `suite/name/variant`.
 */
export async function runRevalidateBench(opts: HarnessOptions & { filter?: RegExp } = DEFAULT_HARNESS_OPTIONS): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'cachefs-bench-'));
  try {
    const rows: Row[] = [];
    for (const backend of ['memory', 'node'] as const) {
      const cases = SPECS.filter((s) => s.backend === backend)
        .map((s) => benchCase(s, dir))
        .filter((c) => !opts.filter || opts.filter.test(caseKey(c)));
      if (cases.length > 0) rows.push(...(await measureGroup(cases, opts)));
    }
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The suite as registered in `suites.ts`. */
export const coherenceSuite: Suite = {
  name: 'coherence',
  description: "what revalidation costs a hit: ReadHit with revalidate 'never', 'always', 1000 ms, and watch",
  inDefaultRun: true,
  run: (opts: SuiteOptions) => runRevalidateBench(opts),
};
