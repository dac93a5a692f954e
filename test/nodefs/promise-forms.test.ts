// The promise API (the drop-in's `promises`, the cache itself) in the forms Node accepts, against
// node:fs/promises on a twin tree in every write mode; and the deprecated recursive rmdir, which Node 20
// still takes in all three forms.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { bufferOf, differences, urlOf, type CallbackCase, type Fs, type SyncCase } from './compare.js';
import { WRITE_MODES } from './trees.js';

type Cb = (err: unknown, ...values: unknown[]) => void;
/** A promise call as a callback case: its value or its rejection. */
const p = (call: (f: Fs, b: string) => Promise<unknown>): CallbackCase => (f, b, cb: Cb) => {
  call(f, b).then((value) => cb(null, value), (err) => cb(err));
};
const sortedNames = (xs: unknown[]) => xs.map(String).sort();

const promiseCases: Record<string, CallbackCase> = {
  'writeFile of an array of chunks': p((f, b) => f.promises.writeFile(b + '/w1', ['a', Buffer.from('b'), new Uint8Array([99])]).then(() => f.promises.readFile(b + '/w1', 'utf8'))),
  'writeFile of an async generator, in an encoding': p((f, b) => f.promises.writeFile(b + '/w2', (async function* () {
    yield '6869';
    yield '21';
  })(), 'hex').then(() => f.promises.readFile(b + '/w2', 'utf8'))),
  'writeFile of a Readable': p((f, b) => f.promises.writeFile(b + '/w3', Readable.from(['one ', 'two'])).then(() => f.promises.readFile(b + '/w3', 'utf8'))),
  // By code: Node's message here is Buffer.from's.
  'writeFile of a bad chunk': p((f, b) => f.promises.writeFile(b + '/w4', [5 as never]).catch((err: NodeJS.ErrnoException) => err.code)),
  'FileHandle.writeFile of an async generator': p(async (f, b) => {
    const h = await f.promises.open(b + '/w5', 'w');
    await h.writeFile((async function* () {
      yield 'handle ';
      yield Buffer.from('chunks');
    })() as never);
    await h.close();
    return f.promises.readFile(b + '/w5', 'utf8');
  }),
  // Rollup's `fs` option takes an fs/promises-shaped module and destructures it ({ mkdir, writeFile }):
  // Node's functions do not need their module as `this`.
  'functions taken off promises and called alone': p(async (f, b) => {
    const { mkdir, writeFile, readFile, stat, lstat, realpath, readdir, rm } = f.promises;
    await mkdir(b + '/alone/x', { recursive: true });
    await writeFile(b + '/alone/x/f', 'v');
    const out = [await readFile(b + '/alone/x/f', 'utf8'), (await stat(b + '/alone/x/f')).size, (await lstat(b + '/link')).isSymbolicLink(), await realpath(b + '/dlink'), await readdir(b + '/alone')];
    await rm(b + '/alone', { recursive: true });
    return out;
  }),
  'readFile of a URL, a Buffer path; stat bigint; readdir recursive withFileTypes': p(async (f, b) => [
    await f.promises.readFile(urlOf(b, '/a.txt'), 'utf8'), await f.promises.readFile(bufferOf(b, '/a.txt')), await f.promises.stat(b + '/a.txt', { bigint: true }),
    (await f.promises.readdir(b + '/d', { recursive: true, withFileTypes: true })).map((e) => [e.name, e.parentPath, e.isFile()]).sort(),
    sortedNames(await f.promises.readdir(b + '/d', 'buffer')), await f.promises.readlink(b + '/link', 'buffer'), await f.promises.realpath(b + '/dlink/e', 'buffer'),
  ]),
  'readdir withFileTypes: parentPath as given (trailing slash, URL), in both async forms': p(async (f, b) => [
    (await f.promises.readdir(b + '/d/', { withFileTypes: true })).map((e) => e.parentPath),
    (await f.promises.readdir(urlOf(b, '/d'), { withFileTypes: true })).map((e) => e.parentPath),
    await new Promise((resolve, reject) => f.readdir(b + '/d/', { withFileTypes: true }, (err, list) => (err ? reject(err) : resolve(list.map((e) => e.parentPath))))),
  ]),
  'readFile of a file named as a directory': p((f, b) => f.promises.readFile(b + '/a.txt/')),
  'rmdir recursive': p((f, b) => f.promises.mkdir(b + '/m/n/o', { recursive: true }).then(() => f.promises.writeFile(b + '/m/n/x', 'x'))
    .then(() => f.promises.rmdir(b + '/m', { recursive: true })).then(() => f.existsSync(b + '/m'))),
  'rmdir recursive of a file and of a missing path': p(async (f, b) => {
    const out = [];
    for (const path of ['/a.txt', '/nope']) out.push(await f.promises.rmdir(b + path, { recursive: true }).then(() => 'removed', (err: NodeJS.ErrnoException) => [err.code, err.syscall]));
    return out;
  }),
  'rmdir recursive, callback form': (f, b, cb) => {
    f.mkdirSync(b + '/c/d', { recursive: true });
    f.writeFileSync(b + '/c/d/x', 'x');
    f.rmdir(b + '/c', { recursive: true }, (err) => cb(err, f.existsSync(b + '/c')));
  },
};

const syncCases: Record<string, SyncCase> = {
  'rmdirSync recursive': (f, b) => {
    f.mkdirSync(b + '/s/t', { recursive: true });
    f.writeFileSync(b + '/s/t/x', 'x');
    f.rmdirSync(b + '/s', { recursive: true });
    return f.existsSync(b + '/s');
  },
  'rmdirSync recursive of a link to a directory, of a file, of a missing path': (f, b) => {
    f.mkdirSync(b + '/u/v', { recursive: true });
    f.symlinkSync('u', b + '/ulink');
    const out: unknown[] = [];
    for (const path of ['/ulink', '/a.txt', '/nope']) {
      try {
        f.rmdirSync(b + path, { recursive: true });
      } catch (err) {
        out.push((err as Error).message);
      }
    }
    return [out, f.existsSync(b + '/ulink'), f.existsSync(b + '/u/v')];
  },
};

for (const mode of WRITE_MODES) {
  describe(`promise forms through toNodeFs, ${mode}`, () => {
    it('answer as node:fs/promises does, iterables and streams as writeFile data included', async () => {
      // Node warns that recursive rmdir is deprecated, once per process: not what is compared here.
      process.removeAllListeners('warning');
      assert.deepEqual(await differences(mode, syncCases, promiseCases), []);
    });
  });
}
