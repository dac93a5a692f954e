/**
 * The seed suite: the Go library's benchmarks (the rows of its POOLING_RESULTS.md and the other
 * benchmarks of its `*_bench_test.go` files), each measured with `pool: false` (`unpooled`) and
 * `pool: true` (`pooled`), printed in the seed's layout.
 *
 * Every case builds a fresh CacheFS over `memoryBackend` and closes it afterwards. The shape of each one
 * (what one operation does) is written next to it; "read" below always means what the Go benchmarks did
 * with a file: open it read-only, read it into a freshly made buffer of its size, close it.
 *
 * Where the port departs from the Go original:
 * - Go stored each file into its mock backend's map before every read (`backing.files[name] = data`, a
 *   ~20 ns store that changed nothing). The files are written into the backend once here: a memfs write
 *   per operation would dominate the figure and measure memfs, not the cache.
 * - Go's mock `Stat` always failed, so its `MetadataCache_Hit` and `_Miss` timed an error path. Here the
 *   files exist: `MetadataCache_Hit` is a genuine metadata-cache hit, and `MetadataCache_Miss` cycles over
 *   100 files with `metadataMaxEntries: 10` so that every `stat` misses (and evicts one entry).
 * - Go's writes opened with `O_WRONLY|O_CREATE`; here the flag is `'w'` (which also truncates), so that
 *   every operation leaves the same 20-byte file.
 * - Go's `ReadMiss` deleted the file from the backend after each read; here the 10 files stay, and the
 *   `invalidate` that Go also did is what makes the next read of the same name miss.
 */
import { CacheFS, memoryBackend } from '../src/index.js';
import { caseKey, measureAll, type AsyncBody, type BenchCase, type Row } from './harness.js';
import type { Suite, SuiteOptions } from './suite.js';
import { formatSeedTable } from './table.js';
import { formatAgainstGo, limitCases, storeOnlyCases } from './seed-go.js';
import { floorCases } from './seed-floor.js';

type Options = NonNullable<ConstructorParameters<typeof CacheFS>[1]>;
type Variant = 'unpooled' | 'pooled';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** `/file0.txt` … `/file{n-1}.txt`, or zero-padded to two digits (`/file00.txt`) as Go's 20- and 100-file loops did. */
function names(prefix: string, n: number, pad: boolean): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${pad ? String(i).padStart(2, '0') : i}.txt`);
}

/** Go's 100-byte eviction payload: `A`…`Z` repeated. */
const EVICTION_DATA = Uint8Array.from({ length: 100 }, (_, i) => 65 + (i % 26));

/** Open read-only, read `len` bytes into a fresh buffer (Go's `make([]byte, len)`), close. */
async function openReadClose(cfs: CacheFS, path: string, len: number): Promise<number> {
  const handle = await cfs.open(path, 'r');
  const buf = new Uint8Array(len);
  const { bytesRead } = await handle.read(buf, 0, len);
  await handle.close();
  return bytesRead;
}

/** Reads `path` once and checks the length, so that a broken case fails instead of timing errors. */
async function readChecked(cfs: CacheFS, path: string, len: number): Promise<void> {
  const got = await openReadClose(cfs, path, len);
  if (got !== len) throw new Error(`seed: read ${got} bytes of ${path}, expected ${len}`);
}

/** Open for writing (`'w'`), write `data`, close. */
async function openWriteClose(cfs: CacheFS, path: string, data: Uint8Array): Promise<number> {
  const handle = await cfs.open(path, 'w');
  const { bytesWritten } = await handle.write(data);
  await handle.close();
  return bytesWritten;
}

/** One seed benchmark: the files it starts with, its options, and one operation. */
interface SeedSpec {
  name: string;
  files: Record<string, Uint8Array>;
  options?: Options;
  /** Builds the per-op functions once the cache exists (and warms it, where the Go benchmark did). */
  body(cfs: CacheFS): Promise<Omit<AsyncBody, 'kind' | 'teardown'>>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function specs(): SeedSpec[] {
  const benchData = bytes('benchmark test data'); // 19 bytes, as in Go
  const writeData = bytes('benchmark write data'); // 20 bytes
  const ten = names('/file', 10, false);
  const twenty = names('/file', 20, true);
  const hundred = names('/file', 100, true);
  const withData = (paths: string[], data: Uint8Array): Record<string, Uint8Array> =>
    Object.fromEntries(paths.map((p) => [p, data]));

  // LRU/LFU/TTL/Hybrid_Eviction share one shape: 20 files of 100 bytes through a 1000-byte cache, read
  // round-robin, so that about half of them fit and (for LRU-like orders) every read misses and evicts.
  const eviction = (name: string, options: Options): SeedSpec => ({
    name,
    files: withData(twenty, EVICTION_DATA),
    options: { maxBytes: 1000, ...options },
    body: async (cfs) => ({ op: (i) => openReadClose(cfs, twenty[i % 20]!, 100) }),
  });

  return [
    {
      // ReadHit: read the 19-byte /bench.txt, already cached by one read during setup.
      name: 'ReadHit',
      files: { '/bench.txt': benchData },
      body: async (cfs) => {
        await readChecked(cfs, '/bench.txt', benchData.length);
        return { op: () => openReadClose(cfs, '/bench.txt', benchData.length) };
      },
    },
    {
      // ReadMiss: read /bench{i%10}.txt (19 bytes, not cached), then invalidate it, all timed.
      name: 'ReadMiss',
      files: withData(names('/bench', 10, false), benchData),
      body: async (cfs) => {
        const paths = names('/bench', 10, false);
        await readChecked(cfs, paths[0]!, benchData.length);
        await cfs.invalidate(paths[0]!);
        return {
          op: async (i) => {
            const path = paths[i % 10]!;
            await openReadClose(cfs, path, benchData.length);
            return cfs.invalidate(path);
          },
        };
      },
    },
    {
      // WriteThrough: open /bench.txt for writing, write 20 bytes, close; write-through mode.
      name: 'WriteThrough',
      files: {},
      options: { writeMode: 'write-through' },
      body: async (cfs) => ({ op: () => openWriteClose(cfs, '/bench.txt', writeData) }),
    },
    {
      // WriteBack: the same in write-back mode, default flush settings (Go used its defaults too).
      name: 'WriteBack',
      files: {},
      options: { writeMode: 'write-back' },
      body: async (cfs) => ({ op: () => openWriteClose(cfs, '/bench.txt', writeData) }),
    },
    eviction('LRU_Eviction', { eviction: 'lru' }),
    eviction('LFU_Eviction', { eviction: 'lfu' }),
    // TTL_Eviction: as above with a 1 ms TTL, so entries also expire while the loop runs.
    eviction('TTL_Eviction', { eviction: 'ttl', ttl: 1 }),
    eviction('Hybrid_Eviction', { eviction: 'hybrid' }),
    {
      // MetadataCache_Hit: stat /file.txt, whose metadata one stat during setup cached.
      name: 'MetadataCache_Hit',
      files: { '/file.txt': benchData },
      options: { metadataCache: true, metadataMaxEntries: 100 },
      body: async (cfs) => {
        await cfs.stat('/file.txt');
        return { op: () => cfs.stat('/file.txt') };
      },
    },
    {
      // MetadataCache_Miss: stat /file{i%100}.txt through a 10-entry metadata cache: every stat misses.
      name: 'MetadataCache_Miss',
      files: withData(hundred, benchData),
      options: { metadataCache: true, metadataMaxEntries: 10 },
      body: async (cfs) => ({ op: (i) => cfs.stat(hundred[i % 100]!) }),
    },
    {
      // Invalidate: untimed, read /inv.txt (20 bytes) into the cache; timed, invalidate it.
      name: 'Invalidate',
      files: { '/inv.txt': bytes('invalidate benchmark') },
      body: async (cfs) => ({
        prepare: async () => void (await openReadClose(cfs, '/inv.txt', 20)),
        op: () => cfs.invalidate('/inv.txt'),
      }),
    },
    {
      // InvalidatePrefix: untimed, read /data/file0..9.txt (4 bytes each); timed, invalidatePrefix('/data').
      name: 'InvalidatePrefix',
      files: withData(names('/data/file', 10, false), bytes('test')),
      body: async (cfs) => {
        const paths = names('/data/file', 10, false);
        return {
          prepare: async () => {
            for (const p of paths) await openReadClose(cfs, p, 4);
          },
          op: () => cfs.invalidatePrefix('/data'),
        };
      },
    },
    {
      // InvalidatePattern: untimed, read /file0..9.txt (4 bytes each); timed, invalidatePattern('/*.txt').
      name: 'InvalidatePattern',
      files: withData(ten, bytes('test')),
      body: async (cfs) => ({
        prepare: async () => {
          for (const p of ten) await openReadClose(cfs, p, 4);
        },
        op: () => cfs.invalidatePattern('/*.txt'),
      }),
    },
    {
      // Clear: untimed, read /file0..9.txt (15 bytes each); timed, clear().
      name: 'Clear',
      files: withData(ten, bytes('clear benchmark')),
      body: async (cfs) => ({
        prepare: async () => {
          for (const p of ten) await openReadClose(cfs, p, 15);
        },
        op: () => cfs.clear(),
      }),
    },
    {
      // CleanExpired: 10 files read once with a 1 ms TTL, then 2 ms of sleep; timed, cleanExpired()
      // (the first call drops the 10 expired entries, every later one finds nothing: as in Go).
      name: 'CleanExpired',
      files: withData(ten, bytes('test')),
      options: { ttl: 1 },
      body: async (cfs) => {
        for (const p of ten) await readChecked(cfs, p, 4);
        await sleep(2);
        return { op: () => cfs.cleanExpired() };
      },
    },
    {
      // Sequential_Reads: read the 1024-byte /large.txt (bytes 0..255 repeated), cached after the first.
      name: 'Sequential_Reads',
      files: { '/large.txt': Uint8Array.from({ length: 1024 }, (_, i) => i % 256) },
      body: async (cfs) => ({ op: () => openReadClose(cfs, '/large.txt', 1024) }),
    },
    {
      // Random_Access: read /file{i%10}.txt (18 bytes each) round-robin, all cached after the first ten.
      name: 'Random_Access',
      files: withData(ten, bytes('test data for file')),
      body: async (cfs) => ({ op: (i) => openReadClose(cfs, ten[i % 10]!, 18) }),
    },
  ];
}

/** The seed's benchmarks as cases, `unpooled` then `pooled` for each, in the seed table's order. */
export function seedCases(): BenchCase[] {
  const cases: BenchCase[] = [];
  for (const spec of specs()) {
    for (const variant of ['unpooled', 'pooled'] as const satisfies readonly Variant[]) {
      cases.push({
        suite: 'seed',
        name: spec.name,
        variant,
        setup: async () => {
          const cfs = new CacheFS(memoryBackend(spec.files), { ...spec.options, pool: variant === 'pooled' });
          const body = await spec.body(cfs);
          return { kind: 'async', ...body, teardown: () => cfs.close() };
        },
      });
    }
  }
  return cases;
}

/** The seed suite (part of the default run). */
export const seedSuite: Suite = {
  name: 'seed',
  description: "the Go seed's benchmarks (POOLING_RESULTS.md), pooled against unpooled",
  inDefaultRun: true,
  async run(opts: SuiteOptions): Promise<Row[]> {
    // A row's limit and floor join its group (measured in alternating rounds with it), so that their
    // ratios to it cancel the load of the moment; the harness groups consecutive cases of one name.
    const groups = new Map<string, BenchCase[]>();
    for (const c of [...seedCases(), ...limitCases(), ...floorCases(), ...storeOnlyCases()]) {
      const group = groups.get(c.name);
      if (group === undefined) groups.set(c.name, [c]);
      else group.push(c);
    }
    const cases = [...groups.values()].flat().filter((c) => !opts.filter || opts.filter.test(caseKey(c)));
    return measureAll(cases, opts);
  },
  format: (rows) =>
    `${formatSeedTable(rows.filter((r) => r.variant === 'unpooled' || r.variant === 'pooled'))}\n\n` +
    `Against the Go original (issue 12):\n\n${formatAgainstGo(rows)}`,
};
