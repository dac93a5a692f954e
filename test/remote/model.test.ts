// The model test over the network stores: random sequences of file-system operations run against
// cachefs over a real sshd (sftpBackend) and a real Apache mod_dav (webdavBackend), in every write mode,
// and against the reference: Node's own fs.promises on a real temporary directory, no cache. Any
// difference in bytes, sizes, types or error codes is a bug.
//
// Its operations are those of test/model.test.ts before that file moved to mock timers and began to
// compare modes and mtimes: network clients run on real timers, and these stores keep no modes
// (WebDAV) and whole-second times (SFTP), so a separate, lighter model runs here.
// MODEL_REMOTE_RUNS sets the runs per store and write mode; a failure prints FC_SEED/FC_PATH to replay it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chown, mkdtemp, mkdir, rm, stat as statPath, writeFile } from 'node:fs/promises';
import * as nodeFs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheFS, sftpBackend, webdavBackend } from '../../src/index.js';
import type { Backend } from '../../src/backend/backend.js';
import type { CacheFSOptions, WriteMode } from '../../src/options.js';
import { assertProperty } from '../seeds.js';
import { missingServers, startApache, startSshd, type DavServer, type SshServer } from './servers.js';

const PATHS = ['/a', '/b', '/d', '/d/a', '/d/b', '/d/e', '/d/e/f', '/x'];
const DIRS = ['/d', '/d/e', '/x', '/a'];
/** Runs per network store and write mode (light: every operation is a round trip to a real server). */
const REMOTE_RUNS = Number(process.env.MODEL_REMOTE_RUNS ?? (process.env.CI ? 6 : 4));

type Op =
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
  | { op: 'invalidate'; path: string }
  | { op: 'invalidatePrefix'; path: string }
  | { op: 'invalidatePattern'; pattern: string }
  | { op: 'clear' }
  | { op: 'flush' };

const path = fc.constantFrom(...PATHS);
const dir = fc.constantFrom(...DIRS);
const data = fc.string({ maxLength: 40 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('readFile' as const), path }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('writeFile' as const), path, data }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('appendFile' as const), path, data }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('writeAt' as const), path, data, position: fc.nat(60) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('readAt' as const), path, position: fc.nat(60), length: fc.nat(30) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), path, len: fc.nat(50) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('rename' as const), from: path, to: path }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unlink' as const), path }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('mkdir' as const), path: dir }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('rmdir' as const), path: dir }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('rmrf' as const), path: dir }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('stat' as const), path }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('readdir' as const), path: fc.constantFrom('/', '/d', '/d/e', '/x') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('copyFile' as const), from: path, to: path }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('invalidate' as const), path }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('invalidatePrefix' as const), path: fc.constantFrom('/', '/d', '/d/e') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('invalidatePattern' as const), pattern: fc.constantFrom('/*', '/d/**', '/[ab]', '/?') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('flush' as const) }) },
);

const optionsArb: fc.Arbitrary<CacheFSOptions> = fc.record({
  writeMode: fc.constantFrom('write-through', 'write-back', 'write-around'),
  eviction: fc.constantFrom('lru', 'lfu', 'ttl', 'hybrid', 'tinylfu', 'sieve'),
  maxBytes: fc.constantFrom(0, 16, 64, 200),
  maxEntries: fc.constantFrom(0, 1, 3),
  metadataCache: fc.boolean(),
  pool: fc.boolean(),
  // In write-back mode, 1 and 5 ms make background flushes land at random moments between operations.
  flushInterval: fc.constantFrom(0, 1, 5),
});

/** The outcome of one operation: a value to compare, or the error code. */
type Outcome = { ok: unknown } | { code: string };

async function outcome(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: await run() };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (typeof code !== 'string') throw err;
    return { code };
  }
}

/** Node's fs.promises surface, as both the cache and the reference offer it. */
interface FsLike {
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
  stat(p: string): Promise<{ size: number; isFile(): boolean; isDirectory(): boolean }>;
  readdir(p: string): Promise<unknown[]>;
  copyFile(a: string, b: string): Promise<void>;
}

async function apply(fs: FsLike, op: Op): Promise<Outcome | undefined> {
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
        return { size: s.isFile() ? s.size : -1, file: s.isFile(), dir: s.isDirectory() };
      });
    case 'readdir':
      return outcome(async () => (await fs.readdir(op.path)).map(String).sort());
    case 'copyFile':
      // libuv truncates and then unlinks the destination when the source is a directory; cachefs
      // leaves the destination alone. Both fail with EISDIR; only that platform artifact is skipped.
      if (await fs.stat(op.from).then((s) => s.isDirectory(), () => false)) return { code: 'EISDIR' };
      return outcome(() => fs.copyFile(op.from, op.to));
    default:
      return undefined; // cache-only operations: no counterpart in the reference
  }
}

async function applyCacheOnly(cfs: CacheFS, op: Op): Promise<void> {
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

async function seededDir(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'cachefs-model-'));
  for (const [p, content] of Object.entries(files)) {
    await mkdir(join(root, p, '..'), { recursive: true });
    await writeFile(join(root, p), content);
  }
  return root;
}

/** Node's fs.promises with every path taken below `root` (the reference file system). */
function rooted(root: string): FsLike {
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
  };
}

/** Every file's bytes and every directory under `/`, read through `fs`. */
async function snapshot(fs: FsLike, dir = '/', into: Record<string, string> = {}): Promise<Record<string, string>> {
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

/** A backend to run the model over, and a second one on the same store to check it after close. */
interface Store {
  backend: Backend;
  /** A backend over the same files (the first is closed with its cache). */
  reopen(): Backend;
  remove(): Promise<void>;
}

type Kind = 'sftp' | 'webdav';
let sshd: SshServer | undefined;
let httpd: DavServer | undefined;
let storeCounter = 0;

async function makeStore(kind: Kind, seed: Record<string, string>): Promise<Store> {
  const server = kind === 'sftp' ? sshd! : httpd!;
  const name = `model-${++storeCounter}`;
  const root = join(server.data, name);
  await mkdir(root);
  for (const [p, content] of Object.entries(seed)) {
    await mkdir(join(root, p, '..'), { recursive: true });
    await writeFile(join(root, p), content);
  }
  if (kind === 'webdav') {
    // Apache writes as its own user: the seeded tree must be its.
    const { uid, gid } = await statPath(server.data);
    for (const p of ['', ...Object.keys(seed), '/d']) await chown(join(root, p), uid, gid);
  }
  const make = (): Backend => kind === 'sftp'
    ? sftpBackend({ host: '127.0.0.1', port: sshd!.port, username: sshd!.username, privateKey: sshd!.privateKey, root, connections: 2 })
    : webdavBackend(`${httpd!.url}/${name}`, { username: httpd!.username, password: httpd!.password });
  return { backend: make(), reopen: make, remove: () => rm(root, { recursive: true, force: true }) };
}

async function runModel(options: CacheFSOptions, kind: Kind, ops: Op[]): Promise<void> {
      const seed = { '/a': 'alpha', '/d/a': 'delta-a' };
      const refRoot = await seededDir(seed);
      const store = await makeStore(kind, seed);
      const backend = store.backend;
      const cfs = new CacheFS(backend, options);
      const reference = rooted(refRoot);
      const cached = cfs as unknown as FsLike;
      try {
      for (const [i, op] of ops.entries()) {
        const expected = await apply(reference, op);
        if (expected === undefined) {
          await applyCacheOnly(cfs, op);
          continue;
        }
        const actual = await apply(cached, op);
        assert.deepEqual(actual, expected, `step ${i}: ${JSON.stringify(op)} with ${JSON.stringify(options)}`);
        const limits = cfs.stats();
        if (options.maxEntries && cfs.detailedStats().dirtyEntries === 0) assert.ok(limits.entries <= options.maxEntries, 'maxEntries holds');
        if (options.maxBytes && cfs.detailedStats().dirtyEntries === 0) assert.ok(limits.bytesUsed <= options.maxBytes, 'maxBytes holds');
      }
      // Everything read back through the cache, then (after close flushed) the backend itself.
      assert.deepEqual(await snapshot(cached), await snapshot(reference), 'whole tree through the cache');
      await cfs.close();
      const verifier = new CacheFS(store.reopen(), { maxBytes: 0 });
      const fresh = verifier as unknown as FsLike;
      assert.deepEqual(await snapshot(fresh), await snapshot(reference), 'whole backend after close');
      await verifier.close();
      } finally {
        await cfs.close().catch(() => undefined);
        await rm(refRoot, { recursive: true, force: true });
        await store.remove();
      }
}


// The network stores, on real servers: fewer, shorter runs (each operation is a round trip), but
// every write mode over each of them. MODEL_REMOTE_RUNS sets the runs per store and mode.
const remoteSkip = missingServers();
if (remoteSkip) console.log(`# skipping the model over SFTP and WebDAV: ${remoteSkip}`);
describe('the model over the network stores', { skip: remoteSkip }, () => {
  before(async () => {
    [sshd, httpd] = await Promise.all([startSshd(), startApache()]);
  });
  after(async () => {
    await Promise.all([sshd?.stop(), httpd?.stop()]);
  });
  for (const kind of ['sftp', 'webdav'] as const) {
    for (const writeMode of ['write-through', 'write-back', 'write-around'] as WriteMode[]) {
      test(`cachefs over ${kind} in ${writeMode} behaves like the bare backend over ${REMOTE_RUNS} sequences`, async () => {
        await assertProperty(
          fc.asyncProperty(optionsArb.map((o) => ({ ...o, writeMode })), fc.array(opArb, { minLength: 1, maxLength: 25 }), (options, ops) =>
            runModel(options, kind, ops)),
          { numRuns: REMOTE_RUNS, minRunsPerSeed: 1 },
        );
      });
    }
  }
});
