/**
 * The peers suite: the same cache hits measured through cachefs and through the alternatives a Node
 * program has, in the same process and the same harness, so that the ratios mean something.
 *
 * Benchmarks (each op is one call; every variant reads the same bytes):
 * - `ReadHit`: the whole content of a 1 KiB file that is already cached.
 * - `ReadHit_64KiB`: the same with a 64 KiB file.
 * - `MetadataCache_Hit`: `stat` of that 1 KiB file, already cached.
 *
 * Variants:
 * - `cachefs`: `readFile(path)` (`stat(path)`) of a CacheFS over `memoryBackend` with default options
 *   (`metadataCache: true` for `stat`), the entry warm.
 * - `cachefs-handle`: a handle opened once; per op `handle.read(buf, 0, len, 0)` into a reused buffer.
 * - `limit`: a `Map` lookup plus a copy into a fresh buffer (for `stat`, a fresh copy of a plain stats
 *   object): what any in-memory cache has to do at least, with no promise in between.
 * - `limit-reuse`: a `Map` lookup plus a copy into a reused buffer (for `stat`, the shared object).
 * - `lru-cache`: `LRUCache.fetch(path)` whose `fetchMethod` is memfs's `promises.readFile` (`stat`); a hit
 *   hands out the cached Buffer itself, not a copy.
 * - `enhanced-resolve`: `CachedInputFileSystem` over node's `fs` on a tmpfs file, its callback
 *   `readFile` (`stat`) promisified once; like lru-cache, a hit hands out the shared Buffer.
 * - `memfs`: memfs's `promises.readFile` (`stat`) directly, no cache in front.
 * - `node-fs-sync`, `node-fs-promises`: `fs.readFileSync` / `fs.promises.readFile` (`stat`) of a file on
 *   tmpfs (`/dev/shm` when it exists): the kernel's page cache, no cache of ours.
 */
import * as nodeFs from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { LRUCache } from 'lru-cache';
import { memfs } from 'memfs';
import { CacheFS, memoryBackend } from '../src/index.js';
import { caseKey, measureAll, type BenchCase, type Row } from './harness.js';
import type { Suite, SuiteOptions } from './suite.js';
import { formatPeersTable } from './table.js';

// enhanced-resolve is CommonJS with `export =`; requiring it keeps its own typings.
const require = createRequire(import.meta.url);
const { CachedInputFileSystem } = require('enhanced-resolve') as typeof import('enhanced-resolve');

/** The peers' variants, in the order they are printed. */
export const PEER_VARIANTS = [
  'cachefs', 'cachefs-handle', 'limit', 'limit-reuse', 'lru-cache', 'enhanced-resolve', 'memfs',
  'node-fs-sync', 'node-fs-promises',
] as const;
/** One of {@link PEER_VARIANTS}. */
export type PeerVariant = (typeof PEER_VARIANTS)[number];

/** A file every variant reads: its virtual path (in-memory file systems) and its bytes. */
export interface PeerFile {
  /** The benchmark's name in the tables. */
  name: string;
  path: string;
  data: Buffer;
}

/** Deterministic, non-repeating-looking content, so that no layer can special-case zeros. */
export function fileContent(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

/** The file of `ReadHit` (and of `MetadataCache_Hit`'s `stat`). */
export const FILE_1K: PeerFile = { name: 'ReadHit', path: '/read-1k.bin', data: fileContent(1024) };
/** The file of `ReadHit_64KiB`. */
export const FILE_64K: PeerFile = { name: 'ReadHit_64KiB', path: '/read-64k.bin', data: fileContent(64 * 1024) };
/** `MetadataCache_Hit` stats the 1 KiB file. */
export const STAT_NAME = 'MetadataCache_Hit';

/** Real files on tmpfs for the variants that go through node's `fs`; removed by `dispose`. */
export interface TmpfsFiles {
  dir: string;
  /** The real path of a {@link PeerFile}. */
  real(file: PeerFile): string;
  dispose(): void;
}

/** Writes the peer files below `/dev/shm` when it exists (a RAM file system), else below `os.tmpdir()`. */
export function makeTmpfsFiles(files: readonly PeerFile[]): TmpfsFiles {
  const base = nodeFs.existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dir = mkdtempSync(join(base, 'cachefs-bench-'));
  for (const f of files) nodeFs.writeFileSync(join(dir, f.path), f.data);
  return {
    dir,
    real: (file) => join(dir, file.path),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A memfs volume holding the peer files at their virtual paths. */
function memfsWith(files: readonly PeerFile[]): ReturnType<typeof memfs>['fs'] {
  const { fs } = memfs();
  for (const f of files) fs.writeFileSync(f.path, f.data);
  return fs;
}

/** The stats fields a cache would keep, as a plain object (what `limit` copies for `stat`). */
function plainStats(s: nodeFs.Stats): Record<string, number> {
  return {
    dev: s.dev, ino: s.ino, mode: s.mode, nlink: s.nlink, uid: s.uid, gid: s.gid, rdev: s.rdev,
    size: s.size, blksize: s.blksize, blocks: s.blocks, atimeMs: s.atimeMs, mtimeMs: s.mtimeMs,
    ctimeMs: s.ctimeMs, birthtimeMs: s.birthtimeMs,
  };
}

/** Throws unless `got` holds exactly `want`: a peer that reads the wrong bytes would measure nothing. */
function check(label: string, got: Uint8Array, want: Uint8Array): void {
  if (Buffer.compare(got, want) !== 0) throw new Error(`${label}: read the wrong bytes`);
}

/** The read cases of one file, for every variant that needs no cachefs. */
function readCases(file: PeerFile, tmp: () => TmpfsFiles): BenchCase[] {
  const suite = 'peers';
  const name = file.name;
  const len = file.data.length;
  return [
    {
      suite, name, variant: 'cachefs',
      setup: async () => {
        const cfs = new CacheFS(memoryBackend({ [file.path]: file.data }));
        check('cachefs', await cfs.readFile(file.path), file.data);
        return { kind: 'async', op: () => cfs.readFile(file.path), teardown: () => cfs.close() };
      },
    },
    {
      suite, name, variant: 'cachefs-handle',
      setup: async () => {
        const cfs = new CacheFS(memoryBackend({ [file.path]: file.data }));
        const handle = await cfs.open(file.path, 'r');
        const buf = Buffer.allocUnsafe(len);
        await handle.read(buf, 0, len, 0);
        check('cachefs-handle', buf, file.data);
        return {
          kind: 'async',
          op: () => handle.read(buf, 0, len, 0),
          teardown: async () => {
            await handle.close();
            await cfs.close();
          },
        };
      },
    },
    {
      suite, name, variant: 'limit',
      setup: () => {
        const map = new Map<string, Uint8Array>([[file.path, file.data]]);
        const path = file.path;
        return {
          kind: 'sync',
          op: () => {
            const src = map.get(path)!;
            const out = Buffer.allocUnsafe(src.length);
            out.set(src);
            return out;
          },
        };
      },
    },
    {
      suite, name, variant: 'limit-reuse',
      setup: () => {
        const map = new Map<string, Uint8Array>([[file.path, file.data]]);
        const path = file.path;
        const out = Buffer.allocUnsafe(len);
        return {
          kind: 'sync',
          op: () => {
            const src = map.get(path)!;
            out.set(src);
            return out;
          },
        };
      },
    },
    {
      suite, name, variant: 'lru-cache',
      setup: async () => {
        const fs = memfsWith([file]);
        const cache = new LRUCache<string, Buffer>({
          max: 1000,
          fetchMethod: (key) => fs.promises.readFile(key) as Promise<Buffer>,
        });
        check('lru-cache', (await cache.fetch(file.path))!, file.data);
        return { kind: 'async', op: () => cache.fetch(file.path) };
      },
    },
    {
      suite, name, variant: 'enhanced-resolve',
      setup: async () => {
        // Infinity: entries never decay, so every op is a hit (webpack uses 60 s; a task lasts < 1 s).
        const cifs = new CachedInputFileSystem(nodeFs, Infinity);
        const readFile = promisify(cifs.readFile) as (path: string) => Promise<Buffer>;
        const real = tmp().real(file);
        check('enhanced-resolve', await readFile(real), file.data);
        return { kind: 'async', op: () => readFile(real), teardown: () => cifs.purge() };
      },
    },
    {
      suite, name, variant: 'memfs',
      setup: async () => {
        const fs = memfsWith([file]);
        check('memfs', (await fs.promises.readFile(file.path)) as Buffer, file.data);
        return { kind: 'async', op: () => fs.promises.readFile(file.path) };
      },
    },
    {
      suite, name, variant: 'node-fs-sync',
      setup: () => {
        const real = tmp().real(file);
        check('node-fs-sync', nodeFs.readFileSync(real), file.data);
        return { kind: 'sync', op: () => nodeFs.readFileSync(real) };
      },
    },
    {
      suite, name, variant: 'node-fs-promises',
      setup: async () => {
        const real = tmp().real(file);
        check('node-fs-promises', await nodeFs.promises.readFile(real), file.data);
        return { kind: 'async', op: () => nodeFs.promises.readFile(real) };
      },
    },
  ];
}

/** The `stat` cases, for every variant that needs no cachefs. */
function statCases(file: PeerFile, tmp: () => TmpfsFiles): BenchCase[] {
  const suite = 'peers';
  const name = STAT_NAME;
  return [
    {
      suite, name, variant: 'cachefs',
      setup: async () => {
        const cfs = new CacheFS(memoryBackend({ [file.path]: file.data }), { metadataCache: true });
        if ((await cfs.stat(file.path)).size !== file.data.length) throw new Error('cachefs: wrong size');
        return { kind: 'async', op: () => cfs.stat(file.path), teardown: () => cfs.close() };
      },
    },
    {
      suite, name, variant: 'limit',
      setup: () => {
        const map = new Map([[file.path, plainStats(nodeFs.statSync(tmp().real(file)))]]);
        const path = file.path;
        return { kind: 'sync', op: () => ({ ...map.get(path)! }) };
      },
    },
    {
      suite, name, variant: 'limit-reuse',
      setup: () => {
        const map = new Map([[file.path, plainStats(nodeFs.statSync(tmp().real(file)))]]);
        const path = file.path;
        return { kind: 'sync', op: () => map.get(path)! };
      },
    },
    {
      suite, name, variant: 'lru-cache',
      setup: async () => {
        const fs = memfsWith([file]);
        const cache = new LRUCache<string, object>({
          max: 1000,
          fetchMethod: (key) => fs.promises.stat(key) as Promise<object>,
        });
        await cache.fetch(file.path);
        return { kind: 'async', op: () => cache.fetch(file.path) };
      },
    },
    {
      suite, name, variant: 'enhanced-resolve',
      setup: async () => {
        const cifs = new CachedInputFileSystem(nodeFs, Infinity);
        const stat = promisify(cifs.stat) as unknown as (path: string) => Promise<nodeFs.Stats>;
        const real = tmp().real(file);
        await stat(real);
        return { kind: 'async', op: () => stat(real), teardown: () => cifs.purge() };
      },
    },
    {
      suite, name, variant: 'memfs',
      setup: () => {
        const fs = memfsWith([file]);
        return { kind: 'async', op: () => fs.promises.stat(file.path) };
      },
    },
    {
      suite, name, variant: 'node-fs-sync',
      setup: () => {
        const real = tmp().real(file);
        return { kind: 'sync', op: () => nodeFs.statSync(real) };
      },
    },
    {
      suite, name, variant: 'node-fs-promises',
      setup: () => {
        const real = tmp().real(file);
        return { kind: 'async', op: () => nodeFs.promises.stat(real) };
      },
    },
  ];
}

/** Orders cases by benchmark, then by {@link PEER_VARIANTS}. */
function ordered(cases: BenchCase[]): BenchCase[] {
  const names = [FILE_1K.name, FILE_64K.name, STAT_NAME];
  const rank = (c: BenchCase): number =>
    names.indexOf(c.name) * 100 + PEER_VARIANTS.indexOf(c.variant as PeerVariant);
  return [...cases].sort((a, b) => rank(a) - rank(b));
}

/** Every peers case, in print order; `tmp` supplies the tmpfs files on first use. */
export function peerCases(tmp: () => TmpfsFiles): BenchCase[] {
  return ordered([
    ...readCases(FILE_1K, tmp),
    ...readCases(FILE_64K, tmp),
    ...statCases(FILE_1K, tmp),
  ]);
}

/** The peers suite (part of the default run). */
export const peersSuite: Suite = {
  name: 'peers',
  description: 'cachefs against the limit, lru-cache, enhanced-resolve, memfs and node:fs (ReadHit 1 KiB/64 KiB, MetadataCache_Hit)',
  inDefaultRun: true,
  async run(opts: SuiteOptions): Promise<Row[]> {
    let files: TmpfsFiles | undefined;
    const tmp = (): TmpfsFiles => (files ??= makeTmpfsFiles([FILE_1K, FILE_64K]));
    try {
      const cases = peerCases(tmp).filter((c) => !opts.filter || opts.filter.test(caseKey(c)));
      return await measureAll(cases, opts);
    } finally {
      files?.dispose();
    }
  },
  format: (rows) => formatPeersTable(rows),
};
