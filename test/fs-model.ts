// The reference model the model tests share (not a test file itself): the operations drawn, how each is
// applied to an fs.promises-shaped file system, the reference (Node's own fs.promises on a real
// temporary directory, no cache) and the comparison of outcomes and whole trees. test/model.test.ts runs
// it over the memory and disk backends with mock timers; test/remote/model.test.ts over real SFTP and
// WebDAV servers on real timers.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import * as nodeFs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CacheFS } from '../src/index.js';
import type { CacheFSOptions } from '../src/options.js';

/** The names operations draw from: two files exist at the start, the rest come and go. */
export const PATHS = ['/a', '/b', '/d', '/d/a', '/d/b', '/d/e', '/d/e/f', '/x'];
export const DIRS = ['/d', '/d/e', '/x', '/a'];
/** The tree every run starts from, in the reference and in the backend alike. */
export const SEED: Record<string, string> = { '/a': 'alpha', '/d/a': 'delta-a' };

export type Op =
  | { op: 'readFile'; path: string }
  | { op: 'writeFile'; path: string; data: string }
  | { op: 'appendFile'; path: string; data: string }
  | { op: 'writeAt'; path: string; data: string; position: number }
  | { op: 'readAt'; path: string; position: number; length: number }
  | { op: 'truncate'; path: string; len: number }
  | { op: 'rename'; from: string; to: string }
  | { op: 'unlink'; path: string }
  | { op: 'mkdir'; path: string }
  | { op: 'rmdir'; path: string }
  | { op: 'rmrf'; path: string }
  | { op: 'stat'; path: string }
  | { op: 'readdir'; path: string }
  | { op: 'copyFile'; from: string; to: string }
  | { op: 'renameOver'; from: string; to: string }
  | { op: 'copyOver'; from: string; to: string }
  | { op: 'chmod'; path: string; mode: number }
  | { op: 'advance'; ms: number }
  | { op: 'external'; path: string; data: string }
  | { op: 'invalidate'; path: string }
  | { op: 'invalidatePrefix'; path: string }
  | { op: 'invalidatePattern'; pattern: string }
  | { op: 'clear' }
  | { op: 'flush' };

/** Any of {@link PATHS}. */
export const anyPath = fc.constantFrom(...PATHS);
const anyDir = fc.constantFrom(...DIRS);
/** File contents (up to 40 characters). */
export const anyData = fc.string({ maxLength: 40 });

/** The operations every model draws: Node's calls on files and directories, and the cache's own. */
export const COMMON_OPS: fc.WeightedArbitrary<Op>[] = [
  { weight: 4, arbitrary: fc.record({ op: fc.constant('readFile' as const), path: anyPath }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('writeFile' as const), path: anyPath, data: anyData }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('appendFile' as const), path: anyPath, data: anyData }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('writeAt' as const), path: anyPath, data: anyData, position: fc.nat(60) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('readAt' as const), path: anyPath, position: fc.nat(60), length: fc.nat(30) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), path: anyPath, len: fc.nat(50) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('rename' as const), from: anyPath, to: anyPath }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unlink' as const), path: anyPath }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('mkdir' as const), path: anyDir }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('rmdir' as const), path: anyDir }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('rmrf' as const), path: anyDir }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('stat' as const), path: anyPath }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('readdir' as const), path: fc.constantFrom('/', '/d', '/d/e', '/x') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('copyFile' as const), from: anyPath, to: anyPath }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('invalidate' as const), path: anyPath }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('invalidatePrefix' as const), path: fc.constantFrom('/', '/d', '/d/e') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('invalidatePattern' as const), pattern: fc.constantFrom('/*', '/d/**', '/[ab]', '/?') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('flush' as const) }) },
];

/** The options every model draws; each test adds its own (flush intervals, TTLs, revalidation). */
export const COMMON_OPTIONS = {
  writeMode: fc.constantFrom('write-through' as const, 'write-back' as const, 'write-around' as const),
  eviction: fc.constantFrom('lru' as const, 'lfu' as const, 'ttl' as const, 'hybrid' as const, 'tinylfu' as const, 'sieve' as const),
  maxBytes: fc.constantFrom(0, 16, 64, 200),
  maxEntries: fc.constantFrom(0, 1, 3),
  metadataCache: fc.boolean(),
  pool: fc.boolean(),
};

/** The outcome of one operation: a value to compare, or the error code. */
export type Outcome = { ok: unknown } | { code: string };

export async function outcome(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: await run() };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (typeof code !== 'string') throw err;
    return { code };
  }
}

/** Node's fs.promises surface, as both the cache and the reference offer it. */
export interface FsLike {
  readFile(p: string): Promise<Buffer | string | Uint8Array>;
  writeFile(p: string, d: string): Promise<void>;
  appendFile(p: string, d: string): Promise<void>;
  open(p: string, flags: string): Promise<{
    write(d: Buffer, o: number, l: number, p: number): Promise<unknown>;
    read(b: Buffer, o: number, l: number, p: number): Promise<{ bytesRead: number }>;
    close(): Promise<void>;
  }>;
  truncate(p: string, len: number): Promise<void>;
  rename(a: string, b: string): Promise<void>;
  unlink(p: string): Promise<void>;
  mkdir(p: string): Promise<unknown>;
  rmdir(p: string): Promise<void>;
  rm(p: string, o: { recursive: boolean; force: boolean }): Promise<void>;
  stat(p: string): Promise<{ size: number; mode: number; mtimeMs: number; isFile(): boolean; isDirectory(): boolean }>;
  readdir(p: string): Promise<unknown[]>;
  copyFile(a: string, b: string): Promise<void>;
  chmod(p: string, mode: number): Promise<void>;
}

/**
 * Applies `op` to `fs`; undefined for the operations that have no counterpart in the reference (the
 * cache's own, and the steps of the model itself). `modes`: whether stat results carry the mode (the
 * network stores keep none, or none that Node's umask would give).
 */
export async function apply(fs: FsLike, op: Op, modes = true): Promise<Outcome | undefined> {
  switch (op.op) {
    case 'readFile':
      return outcome(async () => Buffer.from(await fs.readFile(op.path)).toString('latin1'));
    case 'writeFile':
      return outcome(() => fs.writeFile(op.path, op.data));
    case 'appendFile':
      return outcome(() => fs.appendFile(op.path, op.data));
    case 'writeAt':
      return outcome(async () => {
        const h = await fs.open(op.path, 'r+');
        try {
          const bytes = Buffer.from(op.data);
          await h.write(bytes, 0, bytes.length, op.position);
        } finally {
          await h.close();
        }
      });
    case 'readAt':
      return outcome(async () => {
        const h = await fs.open(op.path, 'r');
        try {
          const buf = Buffer.alloc(op.length);
          const { bytesRead } = await h.read(buf, 0, op.length, op.position);
          return buf.subarray(0, bytesRead).toString('latin1');
        } finally {
          await h.close();
        }
      });
    case 'truncate':
      return outcome(() => fs.truncate(op.path, op.len));
    case 'rename':
      return outcome(() => fs.rename(op.from, op.to));
    case 'unlink':
      return outcome(() => fs.unlink(op.path));
    case 'mkdir':
      return outcome(async () => void (await fs.mkdir(op.path)));
    case 'rmdir':
      return outcome(() => fs.rmdir(op.path));
    case 'rmrf':
      return outcome(() => fs.rm(op.path, { recursive: true, force: true }));
    case 'stat':
      return outcome(async () => {
        const s = await fs.stat(op.path);
        const seen = { size: s.isFile() ? s.size : -1, file: s.isFile(), dir: s.isDirectory() };
        return modes ? { ...seen, mode: s.mode } : seen;
      });
    case 'readdir':
      return outcome(async () => (await fs.readdir(op.path)).map(String).sort());
    case 'copyFile':
      // libuv truncates and then unlinks the destination when the source is a directory; cachefs
      // leaves the destination alone. Both fail with EISDIR; only that platform artifact is skipped.
      if (await fs.stat(op.from).then((s) => s.isDirectory(), () => false)) return { code: 'EISDIR' };
      return outcome(() => fs.copyFile(op.from, op.to));
    case 'renameOver':
    case 'copyOver': {
      const stats = [await apply(fs, { op: 'stat', path: op.from }, modes), await apply(fs, { op: 'stat', path: op.to }, modes)];
      const moved = await apply(fs, { op: op.op === 'renameOver' ? 'rename' : 'copyFile', from: op.from, to: op.to }, modes);
      return { ok: [stats, moved] };
    }
    case 'chmod':
      return outcome(() => fs.chmod(op.path, op.mode));
    default:
      return undefined;
  }
}

/** Applies one of the cache's own operations (invalidation, clear, flush); others are left alone. */
export async function applyCacheOnly(cfs: CacheFS, op: Op): Promise<void> {
  switch (op.op) {
    case 'invalidate':
      await cfs.invalidate(op.path);
      break;
    case 'invalidatePrefix':
      await cfs.invalidatePrefix(op.path);
      break;
    case 'invalidatePattern':
      await cfs.invalidatePattern(op.pattern);
      break;
    case 'clear':
      await cfs.clear();
      break;
    case 'flush':
      await cfs.flush();
      break;
    default:
      break;
  }
}

/** Writes `files` below `root` (their directories made as needed). */
export async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [p, content] of Object.entries(files)) {
    await mkdir(join(root, p, '..'), { recursive: true });
    await writeFile(join(root, p), content);
  }
}

/** A fresh temporary directory holding `files`. */
export async function seededDir(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'cachefs-model-'));
  await writeTree(root, files);
  return root;
}

/** Node's fs.promises with every path taken below `root` (the reference file system). */
export function rooted(root: string): FsLike {
  const at = (p: string): string => join(root, p);
  return {
    readFile: (p) => nodeFs.readFile(at(p)),
    writeFile: (p, d) => nodeFs.writeFile(at(p), d),
    appendFile: (p, d) => nodeFs.appendFile(at(p), d),
    open: (p, flags) => nodeFs.open(at(p), flags),
    truncate: (p, len) => nodeFs.truncate(at(p), len),
    rename: (a, b) => nodeFs.rename(at(a), at(b)),
    unlink: (p) => nodeFs.unlink(at(p)),
    mkdir: (p) => nodeFs.mkdir(at(p)),
    rmdir: (p) => nodeFs.rmdir(at(p)),
    rm: (p, o) => nodeFs.rm(at(p), o),
    stat: (p) => nodeFs.stat(at(p)),
    readdir: (p) => nodeFs.readdir(at(p)),
    copyFile: (a, b) => nodeFs.copyFile(at(a), at(b)),
    chmod: (p, mode) => nodeFs.chmod(at(p), mode),
  };
}

/** Every file's bytes and every directory under `/`, read through `fs`. */
export async function snapshot(fs: FsLike, dir = '/', into: Record<string, string> = {}): Promise<Record<string, string>> {
  for (const name of (await fs.readdir(dir)).map(String).sort()) {
    const p = dir === '/' ? `/${name}` : `${dir}/${name}`;
    const st = await fs.stat(p);
    if (st.isDirectory()) {
      into[p] = '<dir>';
      await snapshot(fs, p, into);
    } else {
      into[p] = Buffer.from(await fs.readFile(p)).toString('latin1');
    }
  }
  return into;
}

/** The cache as the FsLike it is (CacheFS offers every call of the surface). */
export function asFs(cfs: CacheFS): FsLike {
  return cfs as unknown as FsLike;
}

/** The limits hold whenever nothing is dirty (dirty data may exceed them until it is flushed). */
export function assertLimits(cfs: CacheFS, options: CacheFSOptions, what = ''): void {
  if (cfs.detailedStats().dirtyEntries > 0) return;
  const limits = cfs.stats();
  if (options.maxEntries) assert.ok(limits.entries <= options.maxEntries, `${what}: maxEntries holds (${limits.entries} files)`);
  if (options.maxBytes) assert.ok(limits.bytesUsed <= options.maxBytes, `${what}: maxBytes holds`);
}
