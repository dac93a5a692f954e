// Issue 17 item 6 (API.md 1.3 §1): a Buffer path names its exact bytes, also when they are not UTF-8,
// end to end on nodeBackend. Each scenario runs on node:fs/promises over a real temporary directory and
// on a CacheFS over nodeBackend of a second one, and the answers and the bytes on disk are compared;
// then the parts that keep names apart on their own: invalidation, warming, the watcher, the node:fs
// drop-in, the write-back journal across a SIGKILL, the shared tier in a real Redis, the memory backend,
// and a backend that cannot name bytes (EINVAL, never another file).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import * as nodeFs from 'node:fs';
import fsp from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CacheFS, decodeBytePath, encodeBytePath, fsBackend, memoryBackend, nodeBackend, toNodeFs, type Backend } from '../../src/index.js';
import type { WriteMode } from '../../src/options.js';
import { TierKeys, decodeRawMessage, encodeMessage } from '../../src/tier/codec.js';
import { decodeSegment, encodeRecord, SEGMENT_MAGIC, type JournalRecord } from '../../src/write/back/journal-format.js';
import { RedisServer, redisUnavailable } from '../tier/redis-server.js';
import { nextEvent, tempDirs, until } from '../support.js';

const MODES: WriteMode[] = ['write-through', 'write-back', 'write-around'];
const WRITER = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'byte-name-writer.js');
const dirs = tempDirs();
after(() => dirs.cleanup());

/** A path of raw bytes: `'/'` then each argument, a number as one byte, a string as its UTF-8. */
function bytes(...parts: (number | string)[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'number' ? Buffer.of(p) : Buffer.from(p, 'utf8'))));
}
const FF = bytes('/', 0xff);
const FE = bytes('/', 0xfe);
const FD = bytes('/', 0xfd);

/** Every name below `dir`, as the hex of its bytes relative to `dir`, with what it is (file content, link target). */
async function disk(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (at: Buffer, rel: Buffer): Promise<void> => {
    for (const e of await fsp.readdir(at, { withFileTypes: true, encoding: 'buffer' })) {
      const full = Buffer.concat([at, bytes('/'), e.name]);
      const name = Buffer.concat([rel, bytes('/'), e.name]);
      if (e.isDirectory()) {
        out[name.toString('hex')] = 'dir';
        await walk(full, name);
      } else if (e.isSymbolicLink()) {
        out[name.toString('hex')] = `link ${(await fsp.readlink(full, 'buffer')).toString('hex')}`;
      } else {
        out[name.toString('hex')] = `file ${(await fsp.readFile(full)).toString('latin1')}`;
      }
    }
  };
  await walk(Buffer.from(dir), Buffer.alloc(0));
  return out;
}

/** Sorted by bytes (Node lists in the kernel's order), so that two listings compare. */
function sortedNames(list: (string | Buffer)[]): string[] {
  return list.map((n) => (Buffer.isBuffer(n) ? `buf:${n.toString('hex')}` : `str:${n}`)).sort();
}

/** What the program does, given a file system and the way it spells a path below its root. */
type Program = (fs: typeof fsp, at: (path: Buffer | string) => Buffer | string) => Promise<unknown>;

/**
 * Runs `program` on node:fs over one real directory and on a CacheFS (over nodeBackend of another, in
 * `mode`) and checks the results and the disks are the same.
 */
async function sameAsNode(mode: WriteMode, program: Program): Promise<CacheFS> {
  const nodeDir = await dirs.make('cachefs-bytes-node-');
  const cacheDir = await dirs.make('cachefs-bytes-cache-');
  const viaNode = await program(fsp, (p) => (typeof p === 'string' ? nodeDir + p : Buffer.concat([Buffer.from(nodeDir), p])));
  const cache = new CacheFS(nodeBackend(cacheDir), { writeMode: mode, flushInterval: 0, metadataCache: true });
  try {
    const viaCache = await program(cache as unknown as typeof fsp, (p) => p);
    assert.deepEqual(viaCache, viaNode, `${mode}: the answers differ from node:fs`);
    await cache.flush();
    assert.deepEqual(await disk(cacheDir), await disk(nodeDir), `${mode}: the disks differ`);
  } finally {
    await cache.close();
  }
  return cache;
}

describe('names that are not UTF-8 through the cache, compared with node:fs on a real directory', () => {
  test('/\\xff and /\\xfe are two files with their own bytes, read back as written (every write mode)', async () => {
    for (const mode of MODES) {
      await sameAsNode(mode, async (fs, at) => {
        await fs.writeFile(at(FF), 'first');
        await fs.writeFile(at(FE), 'second');
        await fs.appendFile(at(FF), '+');
        return [
          (await fs.readFile(at(FF))).toString(),
          (await fs.readFile(at(FE))).toString(),
          (await fs.stat(at(FF))).size,
          (await fs.stat(at(FE))).size,
          // A real U+FFFD (valid UTF-8) is a third name, not either of them.
          await fs.readFile(at(bytes('/\uFFFD'))).then(() => 'found', (e: { code: string }) => e.code),
        ];
      });
    }
  });

  test('readdir answers as Node: U+FFFD strings by default, the exact bytes with encoding buffer', async () => {
    for (const mode of MODES) {
      await sameAsNode(mode, async (fs, at) => {
        await fs.writeFile(at(FF), 'a');
        await fs.writeFile(at(FE), 'b');
        await fs.mkdir(at(FD));
        await fs.writeFile(at(bytes('/', 0xfd, '/', 0xe9, 'x')), 'c');
        await fs.writeFile(at('/plain'), 'd');
        const root = at('/');
        const inner = at(FD);
        const typed = await fs.readdir(inner, { withFileTypes: true, encoding: 'buffer' });
        return {
          utf8: sortedNames(await fs.readdir(root)),
          buffer: sortedNames(await fs.readdir(root, { encoding: 'buffer' })),
          bufferString: sortedNames(await fs.readdir(root, 'buffer')),
          latin1: sortedNames(await fs.readdir(root, { encoding: 'latin1' })),
          hex: sortedNames(await fs.readdir(inner, 'hex')),
          typed: typed.map((e) => [Buffer.from(e.name).toString('hex'), e.isFile(), Buffer.isBuffer(e.name)]),
          bad: await fs.readdir(root, { encoding: 'zz' as BufferEncoding }).then(() => 'ok', (e: { code: string }) => e.code),
        };
      });
    }
  });

  test('rename and unlink of such names, a directory named by bytes included', async () => {
    for (const mode of MODES) {
      await sameAsNode(mode, async (fs, at) => {
        await fs.writeFile(at(FF), 'moved');
        await fs.writeFile(at(FE), 'removed');
        await fs.mkdir(at(FD));
        await fs.rename(at(FF), at(bytes('/', 0xfd, '/', 0xfc)));
        await fs.unlink(at(FE));
        await fs.rename(at(FD), at(bytes('/', 0xfb)));
        return [
          (await fs.readFile(at(bytes('/', 0xfb, '/', 0xfc)))).toString(),
          await fs.readFile(at(FF)).then(() => 'found', (e: { code: string }) => e.code),
          await fs.stat(at(FE)).then(() => 'found', (e: { code: string }) => e.code),
          sortedNames(await fs.readdir(at('/'), 'buffer')),
        ];
      });
    }
  });

  test('readlink, realpath and mkdtemp give the exact bytes with encoding buffer', async () => {
    for (const mode of MODES) {
      await sameAsNode(mode, async (fs, at) => {
        // node:fs answers disk paths, the cache paths of its own: compare what lies below the root.
        const given = String(at(''));
        const below = (root: string) => (p: Buffer | string): Buffer => {
          const b = Buffer.isBuffer(p) ? p : Buffer.from(p);
          const r = Buffer.from(root);
          return b.subarray(0, r.length).equals(r) ? b.subarray(r.length) : b;
        };
        const prefixOf = below(given);
        const realOf = below(given === '' ? '' : nodeFs.realpathSync(given));
        await fs.writeFile(at(FE), 'target');
        await fs.symlink(bytes(0xfe), at('/rel'));
        await fs.mkdir(at(FF));
        const temp = await fs.mkdtemp(at(bytes('/', 0xff, '/', 0xfa, '-')) as string, { encoding: 'buffer' }); // @types/node says string; Node takes a Buffer
        const tempText = await fs.mkdtemp(at(bytes('/', 0xff, '/', 0xfa, '-')) as string);
        return {
          link: (await fs.readlink(at('/rel'), 'buffer')).toString('hex'),
          linkText: await fs.readlink(at('/rel')),
          linkHex: await fs.readlink(at('/rel'), { encoding: 'hex' }),
          real: realOf(await fs.realpath(at('/rel'), { encoding: 'buffer' })).toString('hex'),
          realText: realOf(await fs.realpath(at('/rel'))).toString(),
          read: (await fs.readFile(at('/rel'))).toString(),
          temp: [Buffer.isBuffer(temp), prefixOf(temp).subarray(0, 4).toString('hex'), prefixOf(temp).length],
          tempText: [typeof tempText, prefixOf(tempText).toString().slice(0, 4), prefixOf(tempText).toString().length],
          tempIsDir: (await fs.stat(temp)).isDirectory(),
          // The random names removed (by their bytes: the UTF-8 answer lost them), so that the disks compare.
          removed: await Promise.all((await fs.readdir(at(FF), 'buffer')).map((n) => fs.rmdir(at(Buffer.concat([FF, bytes('/'), n]))))).then((r) => r.length),
        };
      });
    }
  });
});

describe('the cache keeps such names apart', () => {
  test('invalidatePrefix by a byte name covers the paths below it and no other; patterns match byte names', async () => {
    const dir = await dirs.make('cachefs-bytes-inv-');
    const cache = new CacheFS(nodeBackend(dir));
    try {
      const inner = bytes('/', 0xfd, '/', 0xff);
      const plain = bytes('/', 0xfd, '/a');
      const sibling = bytes('/', 0xfd, 'x');
      await cache.mkdir(FD);
      for (const p of [inner, plain, sibling, FE]) await cache.writeFile(p, `old ${p.toString('hex')}`);
      for (const p of [inner, plain, sibling, FE]) await cache.readFile(p);
      assert.equal(cache.batchStats([inner, plain, sibling, FE]).size, 4, 'one entry per name');
      assert.ok([...cache.batchStats([inner, plain, sibling, FE]).values()].every((s) => s.cached));
      // Changed behind the cache: only an invalidation brings the new bytes.
      const diskOf = (p: Buffer) => Buffer.concat([Buffer.from(dir), p]);
      for (const p of [inner, plain, sibling, FE]) await fsp.writeFile(diskOf(p), `new ${p.toString('hex')}`);
      const event = nextEvent(cache, 'invalidate');
      assert.equal(await cache.invalidatePrefix(FD), 2, 'the two files below /\\xfd');
      assert.equal((await event).path, decodeBytePath(FD), 'the event names the prefix by its key');
      assert.equal((await cache.readFile(inner)).toString(), `new ${inner.toString('hex')}`);
      assert.equal((await cache.readFile(plain)).toString(), `new ${plain.toString('hex')}`);
      assert.equal((await cache.readFile(sibling)).toString(), `old ${sibling.toString('hex')}`, '/\\xfdx is not below /\\xfd');
      assert.equal((await cache.readFile(FE)).toString(), `old ${FE.toString('hex')}`);
      assert.equal(await cache.invalidatePattern('/?'), 1, "'?' matches the one-byte name /\\xfe");
      assert.equal((await cache.readFile(FE)).toString(), `new ${FE.toString('hex')}`);
      // A string with the escape's code unit is made well-formed (U+FFFD), as Node encodes it: it names no byte file.
      assert.equal(await cache.invalidate('/\uDCFE'), false);
      assert.equal(await cache.invalidatePattern('/\uDCFE'), 0);
      assert.equal(await cache.invalidate(FE), true);
    } finally {
      await cache.close();
    }
  });

  test('a string with a lone surrogate never names the byte file its code unit stands for in a key', async () => {
    for (const mode of MODES) {
      await sameAsNode(mode, async (fs, at) => {
        await fs.writeFile(at(FF), 'bytes');
        await fs.writeFile(at('/\uDCFF'), 'text'); // Node: the file named U+FFFD
        await fs.symlink('\uDCFF', at('/l'));
        return [(await fs.readFile(at(FF))).toString(), (await fs.readFile(at('/\uFFFD'))).toString(), (await fs.readlink(at('/l'), 'buffer')).toString('hex')];
      });
    }
  });

  test('warm, warmFromDir, prefetch and batchStats take byte names as themselves', async () => {
    const dir = await dirs.make('cachefs-bytes-warm-');
    const inner = bytes('/', 0xfd, '/', 0xfc);
    await fsp.mkdir(Buffer.concat([Buffer.from(dir), FD]));
    for (const p of [FF, FE, inner]) await fsp.writeFile(Buffer.concat([Buffer.from(dir), p]), `content ${p.toString('hex')}`);
    const cache = new CacheFS(nodeBackend(dir));
    try {
      const cached = (paths: Buffer[]) => [...cache.batchStats(paths).values()].map((s) => [s.cached, s.size]);
      const warmed = await cache.warm([FF, FE]);
      assert.deepEqual([warmed.completed, warmed.errors], [2, 0]);
      assert.deepEqual(cached([FF, FE, inner]), [[true, 12], [true, 12], [false, 0]]);
      await cache.clear();
      const fromDir = await cache.warmFromDir('/');
      assert.deepEqual([fromDir.completed, fromDir.errors], [3, 0], 'every file below /, /\\xfd/\\xfc included');
      assert.deepEqual(cached([FF, FE, inner]), [[true, 12], [true, 12], [true, 16]]);
      await cache.clear();
      const fetched = await cache.prefetch([inner, FE]);
      assert.deepEqual([fetched.loaded, fetched.failed], [2, []]);
      const hits = cache.stats().hits;
      assert.equal((await cache.readFile(inner)).toString(), `content ${inner.toString('hex')}`);
      assert.equal(cache.stats().hits, hits + 1, 'served from what the prefetch loaded');
    } finally {
      await cache.close();
    }
  });

  test('the watcher invalidates a byte name changed on disk', async () => {
    const dir = await dirs.make('cachefs-bytes-watch-');
    const onDisk = Buffer.concat([Buffer.from(dir), FF]);
    await fsp.writeFile(onDisk, 'before');
    await fsp.writeFile(Buffer.concat([Buffer.from(dir), FE]), 'other');
    const cache = new CacheFS(nodeBackend(dir), { watch: true });
    try {
      assert.equal((await cache.readFile(FF)).toString(), 'before');
      assert.equal((await cache.readFile(FE)).toString(), 'other');
      await fsp.writeFile(onDisk, 'after');
      await until(async () => (await cache.readFile(FF)).toString() === 'after', 'the cache sees the new bytes of /\\xff');
      assert.equal((await cache.readFile(FE)).toString(), 'other');
    } finally {
      await cache.close();
    }
  });

  test('the node:fs drop-in: readdirSync, readlinkSync and realpathSync with encoding buffer', async () => {
    const dir = await dirs.make('cachefs-bytes-nodefs-');
    const cache = new CacheFS(nodeBackend(dir));
    try {
      const fs = toNodeFs(cache);
      fs.writeFileSync(FF, 'x');
      fs.symlinkSync(bytes(0xff), '/l');
      assert.deepEqual(sortedNames(fs.readdirSync('/', { encoding: 'buffer' }) as Buffer[]), sortedNames([bytes(0xff), bytes('l')]));
      assert.deepEqual(fs.readlinkSync('/l', 'buffer'), bytes(0xff));
      assert.deepEqual(fs.realpathSync('/l', { encoding: 'buffer' }), FF);
      assert.equal(fs.readFileSync(FF, 'utf8'), 'x');
      assert.deepEqual(nodeFs.readdirSync(dir, 'buffer').map((b) => b.toString('hex')).sort(), ['6c', 'ff']);
    } finally {
      await cache.close();
    }
  });
});

describe('write-back: the journal keeps the name across a crash', () => {
  test('a child killed with SIGKILL before any flush; the replay writes the files under their own bytes', async () => {
    const root = await dirs.make('cachefs-bytes-crash-root-');
    const journal = join(await dirs.make('cachefs-bytes-crash-journal-'), 'journal');
    const hex = (b: Buffer) => b.toString('hex');
    const steps = [
      `write:${hex(FF)}=A`, `write:${hex(FE)}=B`, `write:${hex(bytes('/', 0xfc))}=C`,
      `rename:${hex(bytes('/', 0xfc))}=${hex(bytes('/', 0xfb))}`, `write:${hex(FF)}=A2`,
    ];
    const child = fork(WRITER, [root, journal, ...steps], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      child.on('message', (m) => m === 'written' && resolve());
      void exited.then((code) => reject(new Error(`the writer exited (${code}) before it had written`)));
    });
    child.kill('SIGKILL');
    assert.equal(await exited, null, 'the writer was killed');
    // Write-back creates a new file at once and writes its bytes at a flush, which never came.
    const before = await disk(root);
    assert.ok([undefined, 'file '].includes(before[hex(FF)]), `/\\xff's bytes were not flushed before the kill (${before[hex(FF)]})`);
    assert.ok([undefined, 'file '].includes(before[hex(FE)]), `/\\xfe's bytes were not flushed before the kill (${before[hex(FE)]})`);

    const cache = new CacheFS(nodeBackend(root), { writeMode: 'write-back', journal, flushInterval: 0 });
    try {
      await cache.ready();
      const after = await disk(root);
      assert.deepEqual(after, { [hex(FF)]: 'file A2', [hex(FE)]: 'file B', [hex(bytes('/', 0xfb))]: 'file C' }, 'every name with its own bytes, nothing under U+FFFD');
      assert.equal((await cache.readFile(FF)).toString(), 'A2');
    } finally {
      await cache.close();
    }
  });

  test('a journal record round-trips a name that is not UTF-8 (and a valid one byte for byte)', () => {
    const names = [decodeBytePath(FF), decodeBytePath(FE), '/\uFFFD', '/é/ü', decodeBytePath(bytes('/', 0xe2, 0x82, 'a'))];
    const records: JournalRecord[] = names.map((path, i) => ({ type: 'write' as const, lsn: i + 1, path, data: Buffer.from(`d${i}`) }));
    records.push({ type: 'renameIntent', lsn: 99, from: names[0]!, to: names[1]! });
    const segment = Buffer.concat([SEGMENT_MAGIC, ...records.map(encodeRecord)]);
    const decoded = decodeSegment(segment);
    assert.equal(decoded.torn, false);
    assert.deepEqual(decoded.records, records);
    // On disk the path is the bytes themselves: 0xff, not U+FFFD's EF BF BD.
    assert.ok(segment.includes(FF) && segment.includes(FE));
  });
});

describe('the byte-path codec', () => {
  test('decoding is injective and encoding its inverse, over random bytes; valid UTF-8 decodes as usual', () => {
    let seed = 17;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const seen = new Map<string, string>();
    const pieces = [[0xff], [0xfe], [0xc3], [0xc3, 0xa9], [0xe2, 0x82], [0xe2, 0x82, 0xac], [0xed, 0xa0, 0x80], [0xef, 0xbf, 0xbd], [0xf0, 0x9f, 0x98, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x61], [0x2f], [0x80], [0xc0, 0xaf]];
    for (let i = 0; i < 20000; i++) {
      const parts: number[] = [];
      const n = 1 + Math.floor(random() * 6);
      for (let k = 0; k < n; k++) parts.push(...(random() < 0.3 ? [Math.floor(random() * 256)] : pieces[Math.floor(random() * pieces.length)]!));
      const b = Buffer.from(parts);
      const text = decodeBytePath(b);
      assert.deepEqual(encodeBytePath(text), b, `round trip of ${b.toString('hex')}`);
      const other = seen.get(text);
      assert.ok(other === undefined || other === b.toString('hex'), `${b.toString('hex')} and ${other} decode alike`);
      seen.set(text, b.toString('hex'));
      const valid = Buffer.from(b.toString('utf8'), 'utf8').equals(b);
      assert.equal((text as unknown as { isWellFormed(): boolean }).isWellFormed(), valid, 'escapes appear exactly when the bytes are not UTF-8');
      if (valid) assert.equal(text, b.toString('utf8'));
    }
  });

  test('the tier keys and messages of two byte names differ and decode back', () => {
    const keys = new TierKeys('ns');
    const [ff, fe] = [decodeBytePath(bytes('/d', 0xff, '/f')), decodeBytePath(bytes('/d', 0xfe, '/f'))];
    const hex = (k: string | Buffer) => Buffer.from(k).toString('hex');
    assert.notEqual(hex(keys.data(ff)), hex(keys.data(fe)));
    assert.notDeepEqual(keys.versionKeys(ff).map(hex), keys.versionKeys(fe).map(hex));
    assert.equal(keys.data('/plain'), 'cfs:ns:d:/plain', 'plain names keep their text keys');
    for (const scope of [{ kind: 'path', path: ff }, { kind: 'prefix', prefix: fe }] as const) {
      const raw = encodeMessage('proc', scope, '17:x.18:y');
      assert.deepEqual(decodeRawMessage(Buffer.from(raw)), { from: 'proc', scope, version: '17:x.18:y' });
    }
    assert.deepEqual(decodeRawMessage(Buffer.from(encodeMessage('proc', { loaded: ff }))), { from: 'proc', loaded: ff });
  });
});

describe('backends', () => {
  test('the memory backend names files by bytes the same way (Linux semantics)', async () => {
    const nodeDir = await dirs.make('cachefs-bytes-mem-');
    const cache = new CacheFS(memoryBackend());
    try {
      for (const [fs, at] of [[fsp, (p: Buffer) => Buffer.concat([Buffer.from(nodeDir), p])], [cache, (p: Buffer) => p]] as const) {
        await fs.writeFile(at(FF), 'A');
        await fs.writeFile(at(FE), 'B');
        await fs.symlink(bytes(0xff), at(bytes('/l')));
      }
      assert.deepEqual(sortedNames(await cache.readdir('/', 'buffer')), sortedNames(await fsp.readdir(nodeDir, 'buffer')));
      assert.deepEqual(sortedNames(await cache.readdir('/')), sortedNames(await fsp.readdir(nodeDir)));
      assert.equal((await cache.readFile(FF)).toString(), 'A');
      assert.equal((await cache.readFile(bytes('/l'))).toString(), 'A');
      assert.equal((await cache.lstat(bytes('/l'))).size, (await fsp.lstat(Buffer.concat([Buffer.from(nodeDir), bytes('/l')]))).size, 'a link is as long as its target\'s bytes');
    } finally {
      await cache.close();
    }
  });

  test('a backend that keys by text (fsBackend) fails with EINVAL and creates nothing under another name', async () => {
    const dir = await dirs.make('cachefs-bytes-fsb-');
    const backend: Backend = fsBackend(nodeFs, dir);
    const cache = new CacheFS(backend);
    try {
      for (const p of [FF, FE, bytes('/a', 0xc3)]) {
        await assert.rejects(cache.writeFile(p, 'x'), { code: 'EINVAL', syscall: 'open', path: p.toString() });
        await assert.rejects(cache.readFile(p), { code: 'EINVAL', syscall: 'open' });
        await assert.rejects(cache.stat(p), { code: 'EINVAL', syscall: 'stat' });
      }
      await assert.rejects(cache.symlink(bytes(0xff), '/l'), { code: 'EINVAL', syscall: 'symlink' });
      assert.deepEqual(await fsp.readdir(dir), [], 'nothing was created');
      await cache.writeFile(bytes('/\uFFFD'), 'R'); // a real U+FFFD is valid UTF-8
      assert.equal(await fsp.readFile(join(dir, '\uFFFD'), 'utf8'), 'R');
    } finally {
      await cache.close();
    }
  });
});

describe('the shared tier keeps byte names apart', { skip: redisUnavailable() }, () => {
  let redis: RedisServer;
  before(async () => {
    redis = await RedisServer.start();
  });
  after(async () => {
    await redis?.stop();
  });

  test('two processes\' caches: /\\xff and /\\xfe written through one are read right through the other', async () => {
    const dir = await dirs.make('cachefs-bytes-tier-');
    const namespace = `bytes${process.pid}`;
    const make = () => new CacheFS(nodeBackend(dir), { tier: { redis: redis.url, namespace } });
    const [a, b] = [make(), make()];
    try {
      await until(() => a.core.tierLink!.port.available() && b.core.tierLink!.port.available(), 'both tiers up');
      await a.writeFile(FF, 'from a');
      await b.writeFile(FE, 'from b');
      assert.equal((await b.readFile(FF)).toString(), 'from a');
      assert.equal((await a.readFile(FE)).toString(), 'from b');
      assert.equal((await b.readFile(FE)).toString(), 'from b');
      assert.equal((await a.readFile(FF)).toString(), 'from a');
      await a.writeFile(FF, 'again a');
      await until(async () => (await b.readFile(FF)).toString() === 'again a', 'b sees the new bytes of /\\xff');
      assert.equal((await b.readFile(FE)).toString(), 'from b', '/\\xfe is untouched by the write of /\\xff');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
