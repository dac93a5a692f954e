// Issue 17, items 2, 5, 6, 7, 9: each call is made twice, on node:fs/promises over a real temporary
// directory and on a CacheFS over nodeBackend of a second one with the same files, and the answers are
// compared (result, error code, syscall, errno) together with what is on disk afterwards.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import { constants } from 'node:fs';
import { CacheFS, nodeBackend } from '../../src/index.js';
import type { WriteMode } from '../../src/options.js';
import { tempDirs } from '../support.js';

const MODES: WriteMode[] = ['write-through', 'write-back', 'write-around'];
const dirs = tempDirs();
after(() => dirs.cleanup());

/** What either side answered, reduced to what must agree. */
type Outcome = { ok: true; value: unknown } | { ok: false; code: unknown; syscall: unknown; errno: unknown; name: string };

async function outcome(fn: () => unknown): Promise<Outcome> {
  try {
    const value = await fn();
    return { ok: true, value: comparable(value) };
  } catch (err) {
    const e = err as { code?: unknown; syscall?: unknown; errno?: unknown; name: string };
    return { ok: false, code: e.code, syscall: e.syscall, errno: e.errno, name: e.name };
  }
}

function comparable(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (value && typeof value === 'object' && 'isDirectory' in value) {
    const st = value as { isDirectory(): boolean; isFile(): boolean; size: number };
    return { dir: st.isDirectory(), file: st.isFile(), size: st.isDirectory() ? 0 : st.size };
  }
  if (value && typeof value === 'object' && 'close' in value) return 'handle';
  return value;
}

/** Names, kinds and contents of everything below `dir`. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    for (const e of await fsp.readdir(dir + rel, { withFileTypes: true })) {
      const p = `${rel}/${e.name}`;
      if (e.isDirectory()) {
        out[p] = 'dir';
        await walk(p);
      } else if (e.isSymbolicLink()) out[p] = `link -> ${await fsp.readlink(dir + p)}`;
      else out[p] = (await fsp.readFile(dir + p)).toString('latin1');
    }
  };
  await walk('');
  return out;
}

async function seed(dir: string): Promise<void> {
  await fsp.writeFile(`${dir}/f`, 'hello world');
  await fsp.mkdir(`${dir}/d`);
  await fsp.writeFile(`${dir}/d/inner`, 'inner');
}

/**
 * A call made on either side: `p` turns a cache path into that side's path (`/f` → `<tmp>/f` for
 * Node), `fs` is node:fs/promises or the cache.
 */
type Call = (fs: any, p: (path: string) => string) => unknown;

async function compare(mode: WriteMode, call: Call, options: { warm?: boolean } = {}): Promise<void> {
  const nodeDir = await dirs.make('cachefs-node-');
  const cacheDir = await dirs.make('cachefs-cache-');
  await seed(nodeDir);
  await seed(cacheDir);
  const cache = new CacheFS(nodeBackend(cacheDir), { writeMode: mode, metadataCache: true });
  try {
    if (options.warm) await cache.readFile('/f'); // so that the cache's hit path answers
    const expected = await outcome(() => call(fsp, (x) => nodeDir + x));
    const actual = await outcome(() => call(cache, (x) => x));
    assert.deepEqual(actual, expected, `${mode}: ${call.toString()}`);
    await cache.flush();
    assert.deepEqual(await snapshot(cacheDir), await snapshot(nodeDir), `${mode}: on disk after ${call.toString()}`);
  } finally {
    await cache.close();
  }
}

const FLAG_CASES: Call[] = [
  (fs, p) => fs.writeFile(p('/f'), 'YY', { flag: 'r+' }),
  (fs, p) => fs.writeFile(p('/f'), 'YY', { flag: 'r' }),
  (fs, p) => fs.writeFile(p('/missing'), 'YY', { flag: 'r+' }),
  (fs, p) => fs.writeFile(p('/f'), 'AA', { flag: 'a+' }),
  (fs, p) => fs.writeFile(p('/f'), 'x', { flag: constants.O_WRONLY }),
  (fs, p) => fs.writeFile(p('/f'), 'x', { flag: 'wx' }),
  (fs, p) => fs.writeFile(p('/f'), 'x', { flag: 1.5 }),
  (fs, p) => fs.writeFile(p('/f'), 'x', { flag: 'zz' }),
  (fs, p) => fs.writeFile(p('/f'), 'x', { mode: 'zzz' }),
  (fs, p) => fs.appendFile(p('/f'), 'YY', { flag: 'r' }),
  (fs, p) => fs.appendFile(p('/f'), 'ZZ', { flag: 'r+' }),
  (fs, p) => fs.appendFile(p('/f'), 'ZZ', { flag: 'w' }),
  (fs, p) => fs.appendFile(p('/missing'), 'ZZ', { flag: 'r+' }),
  (fs, p) => fs.appendFile(p('/f'), 'ZZ', { flag: 'ax' }),
  (fs, p) => fs.readFile(p('/f'), { flag: 'zz' }),
  (fs, p) => fs.readFile(p('/f'), { flag: 'w' }),
  (fs, p) => fs.readFile(p('/f'), { flag: 'a+' }),
  (fs, p) => fs.readFile(p('/f'), { flag: 'r+' }),
  (fs, p) => fs.readFile(p('/f'), { flag: 'wx' }),
  (fs, p) => fs.readFile(p('/nope'), { flag: 'w+' }),
  (fs, p) => fs.readFile(p('/nope'), { flag: 'r' }),
  // A create through a link whose target is missing creates the target.
  (fs, p) => fs.symlink('d/target', p('/dl')).then(() => fs.writeFile(p('/dl'), 'via link')).then(() => fs.readFile(p('/d/target'))),
  (fs, p) => fs.symlink('target', p('/dl')).then(() => fs.appendFile(p('/dl'), 'via link')),
];

const SLASH_CASES: Call[] = [
  (fs, p) => fs.readFile(p('/f/')),
  (fs, p) => fs.readFile(p('/f/.')),
  (fs, p) => fs.stat(p('/f/')),
  (fs, p) => fs.lstat(p('/f/')),
  (fs, p) => fs.unlink(p('/f/')),
  (fs, p) => fs.open(p('/f/')),
  (fs, p) => fs.open(p('/f/'), 'r+'),
  (fs, p) => fs.open(p('/new/'), 'w'),
  (fs, p) => fs.writeFile(p('/f/'), 'x'),
  (fs, p) => fs.writeFile(p('/new/'), 'x'),
  (fs, p) => fs.appendFile(p('/new/'), 'x'),
  (fs, p) => fs.writeFile(p('/d/'), 'x'),
  (fs, p) => fs.rename(p('/f/'), p('/z')),
  (fs, p) => fs.rename(p('/f'), p('/z/')),
  (fs, p) => fs.truncate(p('/f/')),
  (fs, p) => fs.access(p('/f/')),
  (fs, p) => fs.chmod(p('/f/'), 0o600),
  (fs, p) => fs.rm(p('/f/')),
  (fs, p) => fs.readdir(p('/f/')),
  (fs, p) => fs.copyFile(p('/f/'), p('/c')),
  (fs, p) => fs.copyFile(p('/f'), p('/c/')),
  (fs, p) => fs.symlink('f', p('/l/')),
  (fs, p) => fs.stat(p('/d/')),
  (fs, p) => fs.readdir(p('/d/')),
  (fs, p) => fs.mkdir(p('/m/')),
  (fs, p) => fs.rmdir(p('/d/')).catch((e: Error) => e.message.split(':')[0]),
  (fs, p) => fs.stat(p('/nope/')),
];

const ARG_CASES: Call[] = [
  (fs, p) => fs.open(p('/f'), 1.5),
  (fs, p) => fs.open(p('/f'), NaN),
  (fs, p) => fs.open(p('/f'), 2 ** 40),
  (fs, p) => fs.open(p('/f'), 'zz'),
  (fs, p) => fs.open(p('/f'), {}),
  (fs, p) => fs.open(p('/f'), 'r', 'zzz'),
  (fs, p) => fs.open(p('/f'), 'r', -1),
  (fs, p) => fs.open(p('/g'), 'w', '640').then((h: { close(): Promise<void> }) => h.close()),
  (fs, p) => fs.truncate(p('/f'), NaN),
  (fs, p) => fs.truncate(p('/f'), 1.5),
  (fs, p) => fs.truncate(p('/f'), '1'),
  (fs, p) => fs.truncate(p('/f'), -1),
  (fs, p) => fs.truncate(p('/f'), 3),
  (fs, p) => fs.chmod(p('/f'), -1),
  (fs, p) => fs.chmod(p('/f'), 1.5),
  (fs, p) => fs.chmod(p('/f'), 'zzz'),
  (fs, p) => fs.chmod(p('/f'), 2 ** 32),
  (fs, p) => fs.mkdir(p('/m'), { mode: 'zzz' }),
  (fs, p) => fs.mkdir(p('/m'), { mode: -1 }),
  (fs, p) => fs.mkdir(p('/m'), { mode: '755' }),
  (fs) => fs.readFile(''),
  (fs) => fs.stat(''),
  (fs) => fs.lstat(''),
  (fs) => fs.mkdir(''),
  (fs) => fs.unlink(''),
  (fs) => fs.writeFile('', 'x'),
  (fs) => fs.readFile(new URL('http://example.invalid/f')),
  (fs) => fs.stat(new URL('https://example.invalid/f')),
  (fs) => fs.readFile(new URL('file://host/f')),
  (fs) => fs.readFile(new URL('file:///a%2Fb')),
  // (a file: URL as a link target: see the next suite; nodeBackend stores absolute targets below its root)
  (fs, p) => fs.symlink(new URL('file:///t').pathname.slice(1), p('/l')).then(() => fs.readlink(p('/l'))),
  (fs, p) => fs.symlink(new URL('http://example.invalid/t'), p('/l')),
  (fs, p) => fs.readFile(p('/f\u0000')),
  (fs, p) => fs.readFile(p('/f'), 'bogus'),
  (fs, p) => fs.readFile(p('/f'), { encoding: 'bogus' }),
  (fs, p) => fs.writeFile(p('/f'), 'x', 'bogus'),
  (fs, p) => fs.copyFile(p('/f'), p('/g'), 'x'),
  (fs, p) => fs.copyFile(p('/f'), p('/g'), 99),
  (fs, p) => fs.access(p('/f'), 8),
  (fs, p) => fs.access(p('/f'), 'r'),
  (fs, p) => fs.readFile(p('/f'), { signal: AbortSignal.abort() }).catch((e: { name: string; code: string }) => [e.name, e.code]),
  (fs, p) => fs.writeFile(p('/f'), 'x', { signal: AbortSignal.abort() }).catch((e: { name: string; code: string }) => [e.name, e.code]),
];

for (const [name, cases, warm] of [
  ['flag of writeFile, appendFile, readFile (item 2)', FLAG_CASES, false],
  ['a trailing slash (item 5)', SLASH_CASES, false],
  ['a trailing slash on a cached file (item 5)', SLASH_CASES.slice(0, 8), true],
  ['argument errors, empty paths and URLs (items 7, 9)', ARG_CASES, false],
] as const) {
  describe(name, () => {
    for (const mode of MODES) {
      test(mode, async () => {
        for (const call of cases) await compare(mode, call, { warm });
      });
    }
  });
}

describe('file: URLs name the same file as their path (item 7)', () => {
  test('readFile, writeFile and symlink targets through file: URLs', async () => {
    const dir = await dirs.make();
    await seed(dir);
    const cache = new CacheFS(nodeBackend(dir));
    try {
      assert.equal((await cache.readFile(new URL('file:///f'))).toString(), 'hello world');
      await cache.writeFile(new URL('file:///d/u'), 'via url');
      assert.equal(await fsp.readFile(`${dir}/d/u`, 'utf8'), 'via url');
      await cache.symlink(new URL('file:///d/u'), '/lu');
      assert.equal(await cache.readlink('/lu'), '/d/u', 'the target is the URL\'s path, as Node stores it');
      await fsp.symlink(new URL('file:///t'), `${dir}/node-link`);
      assert.equal(await fsp.readlink(`${dir}/node-link`), '/t', 'what Node stores for the same URL');
      assert.equal((await cache.readFile('/lu')).toString(), 'via url');
    } finally {
      await cache.close();
    }
  });
});

describe('Buffer paths name their exact bytes (item 6)', () => {
  test('a UTF-8 Buffer path is the same file as its string, as in Node', async () => {
    for (const mode of MODES) {
      await compare(mode, (fs, p) => fs.writeFile(Buffer.from(p('/é')), 'x').then(() => fs.readFile(p('/é'))));
    }
  });

  test('a string with a lone surrogate names the file Node names (U+FFFD): one file, never a stale twin', async () => {
    for (const mode of MODES) {
      // Node encodes '/\uDCFF' as UTF-8, i.e. as '/\uFFFD': a write through one spelling shows through the other.
      await compare(mode, async (fs, p) => {
        await fs.writeFile(p('/\uDCFF'), 'one');
        const first = (await fs.readFile(p('/\uFFFD'))).toString();
        await fs.writeFile(p('/\uFFFD'), 'two');
        return `${first} ${(await fs.readFile(p('/\uDCFF'))).toString()}`;
      });
    }
  });

  test('names that are not UTF-8 are never aliased: two Buffers, two files, as in Node (API 1.3 §1; more in byte-paths.test.ts)', async () => {
    const nodeDir = await dirs.make();
    const cacheDir = await dirs.make();
    const cache = new CacheFS(nodeBackend(cacheDir));
    try {
      for (const [fs, root] of [[fsp, nodeDir], [cache, '']] as const) {
        for (const [name, text] of [[[0xff], 'A'], [[0xfe], 'B'], [[0x61, 0xc3], 'C']] as const) {
          await (fs as typeof fsp).writeFile(Buffer.concat([Buffer.from(`${root}/`), Buffer.from(name)]), text);
        }
      }
      const names = async (dir: string) => (await fsp.readdir(dir, 'buffer')).map((n) => n.toString('hex')).sort();
      assert.deepEqual(await names(cacheDir), await names(nodeDir));
      assert.deepEqual(await names(cacheDir), ['61c3', 'fe', 'ff']);
      assert.equal((await cache.readFile(Buffer.from([0x2f, 0xff]))).toString(), 'A');
      assert.equal((await cache.readFile(Buffer.from([0x2f, 0xfe]))).toString(), 'B');
      // A real U+FFFD in a name is valid UTF-8 and a name of its own.
      await cache.writeFile(Buffer.from('/\uFFFD'), 'R');
      assert.equal(await fsp.readFile(`${cacheDir}/\uFFFD`, 'utf8'), 'R');
      assert.equal((await cache.readFile(Buffer.from([0x2f, 0xff]))).toString(), 'A');
    } finally {
      await cache.close();
    }
  });
});

describe('chdir answers with a Promise (item 9, API 1.3 §14)', () => {
  test('a bad path rejects and never throws', async () => {
    const cache = new CacheFS(nodeBackend(await dirs.make()));
    try {
      let result: Promise<void> | undefined;
      assert.doesNotThrow(() => {
        result = cache.chdir('/a\u0000');
      });
      assert.ok(result instanceof Promise);
      await assert.rejects(result!, { code: 'ERR_INVALID_ARG_VALUE' });
      await assert.rejects(cache.chdir(''), { code: 'ENOENT', syscall: 'chdir' });
      await assert.rejects(cache.chdir(new URL('http://example.invalid/')), { code: 'ERR_INVALID_URL_SCHEME' });
      assert.equal(cache.cwd(), '/');
    } finally {
      await cache.close();
    }
  });
});

describe('durations beyond what a Node timer keeps (item 8, API 1.3 §14)', () => {
  test('2^31 ms or more is refused, naming the option; 2^31 - 1 is accepted', async () => {
    // Node's own answer: a timer of 2^31 ms fires after 1 ms, with a TimeoutOverflowWarning.
    const warned = new Promise<string>((resolve) => process.once('warning', (w) => resolve(w.name)));
    const fired = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(true), 2 ** 31);
      setTimeout(() => {
        clearTimeout(t);
        resolve(false);
      }, 200);
    });
    assert.equal(fired, true, 'Node turns 2^31 ms into a short timer');
    assert.equal(await warned, 'TimeoutOverflowWarning');
    const backend = nodeBackend(await dirs.make());
    for (const option of ['flushInterval', 'ttl', 'revalidate'] as const) {
      for (const value of [2 ** 31, 2 ** 40]) {
        assert.throws(() => new CacheFS(backend, { [option]: value }), (err: Error & { code?: string }) => {
          assert.equal(err.code, 'ERR_INVALID_ARG_VALUE');
          assert.match(err.message, new RegExp(option));
          return true;
        });
      }
    }
    assert.throws(() => new CacheFS(backend, { ttlRules: [{ pattern: '*', ttl: 2 ** 31 }] }), /ttlRules\[0\]\.ttl/);
    const ok = new CacheFS(backend, { writeMode: 'write-back', flushInterval: 2 ** 31 - 1, ttl: 2 ** 31 - 1 });
    await ok.close();
  });
});
