// Path calls in the forms and argument shapes Node accepts (Buffer and URL paths, options as an encoding
// string, withFileTypes, recursive, bigint, throwIfNoEntry), through the drop-in and through node:fs on
// twin trees, in every write mode: same values, same errors (code, errno, syscall, path, message).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bufferOf, differences, urlOf, type SyncCase } from './compare.js';
import { WRITE_MODES } from './trees.js';

const names = (entries: { name: string }[]) => entries.map((e) => e.name).sort();

const added: Record<string, SyncCase> = {
  'linkSync, then both names': (f, b) => (f.linkSync(b + '/d/b.txt', b + '/hard'), [f.readFileSync(b + '/hard', 'utf8'), f.statSync(b + '/d/b.txt').nlink]),
  'linkSync onto an existing name': (f, b) => f.linkSync(b + '/a.txt', b + '/d/b.txt'),
  'linkSync of a missing file': (f, b) => f.linkSync(b + '/nope', b + '/x'),
  'lchownSync of a link': (f, b) => f.lchownSync(b + '/link', process.getuid!(), process.getgid!()),
  'lchownSync of a missing path': (f, b) => f.lchownSync(b + '/nope', process.getuid!(), process.getgid!()),
  'lutimesSync of a link leaves its target': (f, b) => {
    const before = f.statSync(b + '/a.txt').mtimeMs;
    f.lutimesSync(b + '/link', 1000, 2000);
    return [f.lstatSync(b + '/link').mtimeMs, f.statSync(b + '/a.txt').mtimeMs === before];
  },
  'lutimesSync of a file': (f, b) => (f.lutimesSync(b + '/d/b.txt', 3, new Date(4000)), f.statSync(b + '/d/b.txt').mtimeMs),
  'lutimesSync of a missing path': (f, b) => f.lutimesSync(b + '/nope', 1, 1),
  'statfsSync': (f, b) => Object.entries(f.statfsSync(b + '/d')).map(([k, v]) => [k, typeof v]),
  'statfsSync bigint': (f, b) => Object.entries(f.statfsSync(b + '/d', { bigint: true })).map(([k, v]) => [k, typeof v]),
  'statfsSync of a missing path': (f, b) => f.statfsSync(b + '/nope'),
  'opendirSync, readSync to the end, closeSync': (f, b) => {
    const dir = f.opendirSync(b + '/d');
    const seen = [];
    for (let e = dir.readSync(); e !== null; e = dir.readSync()) seen.push([e.name, e.isDirectory()]);
    dir.closeSync();
    return [seen.sort(), dir.path];
  },
  'opendirSync recursive': (f, b) => {
    const dir = f.opendirSync(b + '/d', { recursive: true });
    const seen = [];
    for (let e = dir.readSync(); e !== null; e = dir.readSync()) seen.push(e.name);
    dir.closeSync();
    return seen.sort();
  },
  'cpSync of a tree, then of a file': (f, b) => {
    f.cpSync(b + '/d', b + '/dc', { recursive: true });
    f.cpSync(b + '/a.txt', b + '/dc/a-copy.txt');
    return [f.readdirSync(b + '/dc', { recursive: true }).sort(), f.readFileSync(b + '/dc/e/c.txt', 'utf8'), f.readFileSync(b + '/dc/a-copy.txt', 'utf8')];
  },
  'cpSync with a filter, links kept as links, verbatim and resolved': (f, b) => {
    f.cpSync(b + '/', b + '/../copied-root-is-refused', { recursive: true, filter: () => false });
    f.cpSync(b + '/d', b + '/df', { recursive: true, filter: (src) => !src.endsWith('c.txt') });
    f.cpSync(b + '/link', b + '/link-copy', { verbatimSymlinks: true });
    f.cpSync(b + '/link', b + '/link-copy2');
    return [f.readdirSync(b + '/df', { recursive: true }).sort(), f.readlinkSync(b + '/link-copy'), f.readlinkSync(b + '/link-copy2')];
  },
  'cpSync refusals: a directory without recursive, into itself, onto a file, an existing file with errorOnExist': (f, b) => each(
    () => f.cpSync(b + '/d', b + '/x'), () => f.cpSync(b + '/d', b + '/d/e/inside', { recursive: true }), () => f.cpSync(b + '/d', b + '/a.txt', { recursive: true }),
    () => f.cpSync(b + '/a.txt', b + '/d/b.txt', { force: false, errorOnExist: true }), () => f.cpSync(b + '/a.txt', b + '/d/b.txt', { force: false }), () => f.cpSync(b + '/nope', b + '/x'),
  ).map((x) => (typeof x === 'string' ? x.split(b).join('') : x)),
  // Node 20's opendirSync names no path in its error (its async form does); the drop-in names it in both.
  'opendirSync of a file and of a missing path': (f, b) => {
    const out = [];
    for (const p of ['/a.txt', '/nope']) {
      try {
        f.opendirSync(b + p);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        out.push([e.code, e.errno, e.syscall]);
      }
    }
    return out;
  },
};

const shapes: Record<string, SyncCase> = {
  'readFileSync of a Buffer path and a URL': (f, b) => [f.readFileSync(bufferOf(b, '/a.txt'), 'utf8'), f.readFileSync(urlOf(b, '/a.txt'), 'utf8')],
  'readFileSync with encodings': (f, b) => [f.readFileSync(b + '/a.txt', { encoding: 'base64' }), f.readFileSync(b + '/a.txt', 'hex'), f.readFileSync(b + '/a.txt', { flag: 'r', encoding: 'latin1' })],
  'readFileSync under a file': (f, b) => f.readFileSync(b + '/a.txt/x'),
  'readFileSync of a directory through a link': (f, b) => f.readFileSync(b + '/dlink'),
  'statSync of a URL, a Buffer, through a link': (f, b) => [f.statSync(urlOf(b, '/d')), f.statSync(bufferOf(b, '/d/b.txt')), f.statSync(b + '/dlink').isDirectory()],
  'statSync under a file, throwIfNoEntry false': (f, b) => f.statSync(b + '/a.txt/x', { throwIfNoEntry: false }),
  'statSync and lstatSync missing, throwIfNoEntry false, bigint': (f, b) => [f.statSync(b + '/zz', { bigint: true, throwIfNoEntry: false }), f.lstatSync(b + '/zz', { throwIfNoEntry: false })],
  'Stats instanceof Stats; bigint stats': (f, b) => [f.statSync(b + '/a.txt') instanceof f.Stats, f.lstatSync(b + '/link', { bigint: true })],
  'readdirSync of a Buffer path, names as buffers': (f, b) => [f.readdirSync(bufferOf(b, '/d')).sort(), f.readdirSync(b + '/d', 'buffer').map(String).sort(), f.readdirSync(b + '/d', { encoding: 'buffer' }).every(Buffer.isBuffer)],
  'readdirSync recursive': (f, b) => f.readdirSync(b + '/d', { recursive: true }).sort(),
  'readdirSync recursive withFileTypes': (f, b) => f.readdirSync(b + '/d', { recursive: true, withFileTypes: true }).map((e) => [e.name, e.parentPath, e.isFile()]).sort(),
  'readdirSync withFileTypes of a URL and with a trailing slash': (f, b) => [f.readdirSync(urlOf(b, '/d'), { withFileTypes: true }), f.readdirSync(b + '/d/', { withFileTypes: true })].map((l) => l.map((e) => [e.name, e.parentPath]).sort()),
  'readdirSync withFileTypes: links, Dirent methods': (f, b) => f.readdirSync(b + '/', { withFileTypes: true }).map((e) => [e.name, e instanceof f.Dirent, e.isSymbolicLink(), e.isDirectory(), e.isFIFO(), e.isSocket(), e.isBlockDevice(), e.isCharacterDevice()]).sort(),
  'readdirSync through a linked directory': (f, b) => names(f.readdirSync(b + '/dlink', { withFileTypes: true })),
  'existsSync of odd arguments': (f, b) => [f.existsSync(urlOf(b, '/a.txt')), f.existsSync(bufferOf(b, '/a.txt')), f.existsSync(b + '/a.txt/x'), f.existsSync(undefined as never), f.existsSync(123 as never), f.existsSync(''), f.existsSync(b + '/a\u0000')],
  'readlinkSync as a buffer, of a URL, of a file': (f, b) => [f.readlinkSync(b + '/link', 'buffer'), f.readlinkSync(urlOf(b, '/link')), f.readlinkSync(b + '/link', { encoding: 'buffer' })],
  'readlinkSync of a file': (f, b) => f.readlinkSync(b + '/a.txt'),
  'realpathSync as a buffer, of a URL; realpathSync.native': (f, b) => [f.realpathSync(b + '/link', 'buffer'), f.realpathSync(urlOf(b, '/link')), f.realpathSync.native(b + '/dlink/e')],
  'realpathSync.native of a missing path': (f, b) => f.realpathSync.native(b + '/nope/x'),
  'mkdirSync with a string mode, recursive over a file, missing parent': (f, b) => [f.mkdirSync(b + '/mm', '755'), f.mkdirSync(b + '/d', { recursive: true }), f.mkdirSync(urlOf(b, '/u1/u2'), { recursive: true })],
  'mkdirSync recursive below a file': (f, b) => f.mkdirSync(b + '/a.txt/q', { recursive: true }),
  'writeFileSync of views, encodings, flags, modes, through a link': (f, b) => {
    f.writeFileSync(b + '/w1', new Uint8Array([65, 66]));
    f.writeFileSync(b + '/w2', new DataView(new ArrayBuffer(3)));
    f.writeFileSync(b + '/w3', '414243', 'hex');
    f.writeFileSync(b + '/w3', 'Z', { flag: 'a' });
    f.writeFileSync(b + '/w4', 'x', { mode: 0o600 });
    f.writeFileSync(b + '/link', 'via link');
    return [f.readFileSync(b + '/w1', 'latin1'), f.readFileSync(b + '/w2').length, f.readFileSync(b + '/w3', 'utf8'), (f.statSync(b + '/w4').mode & 0o777).toString(8), f.readFileSync(b + '/a.txt', 'utf8')];
  },
  'writeFileSync and appendFileSync to a directory': (f, b) => [() => f.writeFileSync(b + '/d', 'x'), () => f.appendFileSync(b + '/d', 'x')].map((call) => {
    try {
      return call();
    } catch (err) {
      return (err as Error).message;
    }
  }),
  'copyFileSync of URLs, with COPYFILE_EXCL onto a file': (f, b) => (f.copyFileSync(urlOf(b, '/d/b.txt'), urlOf(b, '/cpu')), [f.readFileSync(b + '/cpu', 'utf8'), f.statSync(b + '/cpu').size]),
  'copyFileSync COPYFILE_EXCL onto a file': (f, b) => f.copyFileSync(b + '/d/b.txt', b + '/a.txt', f.constants.COPYFILE_EXCL),
  'renameSync of URLs; truncateSync longer, then to 0': (f, b) => (f.renameSync(urlOf(b, '/w2'), urlOf(b, '/w2b')), f.truncateSync(b + '/w2b', 5), f.truncateSync(b + '/w2b'), [f.existsSync(b + '/w2b'), f.statSync(b + '/w2b').size]),
  'truncateSync of a directory': (f, b) => f.truncateSync(b + '/d'),
  'chmodSync with a string; utimesSync with a Date and a string': (f, b) => (f.chmodSync(b + '/w4', '644'), f.utimesSync(b + '/w4', new Date(1e12), '1000000'), [(f.statSync(b + '/w4').mode & 0o777).toString(8), f.statSync(b + '/w4').mtimeMs]),
  'symlinkSync of type dir, then unlinkSync of the link': (f, b) => (f.symlinkSync('d', b + '/dl2', 'dir'), [f.readdirSync(b + '/dl2').sort(), f.unlinkSync(b + '/dl2'), f.existsSync(b + '/d')]),
  'unlinkSync of a directory; rmdirSync of a file': (f, b) => [() => f.unlinkSync(b + '/d'), () => f.rmdirSync(b + '/a.txt')].map((call) => {
    try {
      return call();
    } catch (err) {
      return (err as Error).message;
    }
  }),
  'rmSync of a link to a directory, of a missing path with force': (f, b) => (f.symlinkSync('d', b + '/dl3'), f.rmSync(b + '/dl3'), f.rmSync(b + '/nope', { force: true }), [f.existsSync(b + '/dl3'), f.existsSync(b + '/d/b.txt')]),
  'mkdtempSync below a missing directory': (f, b) => f.mkdtempSync(b + '/nope/tmp-'),
  'constants': (f) => [f.constants.O_RDONLY, f.constants.COPYFILE_EXCL, f.constants.S_IFMT, f.constants.F_OK, f.constants.R_OK],
};

/** Each call's value or error message, so one case can hold several calls that fail. */
const each = (...calls: (() => unknown)[]) => calls.map((call) => {
  try {
    const value = call();
    return value !== null && typeof value === 'object' && 'isDirectory' in value ? ['stats', (value as { isDirectory(): boolean }).isDirectory()] : value;
  } catch (err) {
    return (err as Error).message;
  }
});

const trailingSlash: Record<string, SyncCase> = {
  'a file named with a trailing slash, cold and cached': (f, b) => [0, 1].flatMap(() => [
    f.readFileSync(b + '/a.txt', 'utf8'),
    ...each(() => f.readFileSync(b + '/a.txt/'), () => f.statSync(b + '/a.txt/'), () => f.lstatSync(b + '/a.txt/'), () => f.accessSync(b + '/a.txt/'),
      () => f.openSync(b + '/a.txt/', 'r'), () => f.statSync(b + '/a.txt/', { throwIfNoEntry: false }), () => f.existsSync(b + '/a.txt/'), () => f.existsSync(b + '/a.txt/.')),
  ]),
  'links and directories named with a trailing slash': (f, b) => each(() => f.lstatSync(b + '/link/'), () => f.lstatSync(b + '/dlink/'), () => f.statSync(b + '/dlink/'),
    () => f.existsSync(b + '/d/'), () => f.existsSync(b + '/dlink/'), () => f.readFileSync(b + '/d/'), () => f.accessSync(b + '/d/'), () => f.statSync(b + '/nope/')),
};

const checks: Record<string, SyncCase> = {
  // Node's words for what an argument of the wrong type was (type number (5), an instance of Map, …).
  'writeFileSync of data of the wrong type': (f, b) => [5, null, new Map(), function named() {}, () => 1, Symbol('s'), true].map((data) => {
    try {
      return f.writeFileSync(b + '/x', data as never);
    } catch (err) {
      return [(err as { code?: string }).code, (err as Error).message];
    }
  }),
  // By code and class: Node's own messages for these differ between its versions.
  'accessSync and access with modes out of range or not numbers': (f, b) => [
    () => f.accessSync(b + '/a.txt', f.constants.R_OK), () => f.accessSync(b + '/a.txt', 99), () => f.accessSync(b + '/a.txt', 'r' as never),
    () => f.access(b + '/a.txt', 99, () => undefined), () => f.access(b + '/a.txt', 'r' as never, () => undefined),
  ].map((call) => {
    try {
      return call();
    } catch (err) {
      return [(err as NodeJS.ErrnoException).code, err instanceof RangeError, err instanceof TypeError];
    }
  }),
  'copyFileSync of a missing file and of a directory': (f, b) => each(() => f.copyFileSync(b + '/nope', b + '/cp'), () => f.copyFileSync(b + '/d', b + '/cpd')),
  'the access modes on the module': (f) => ['F_OK', 'R_OK', 'W_OK', 'X_OK'].map((k) => (f as unknown as Record<string, number>)[k]),
};

for (const mode of WRITE_MODES) {
  describe(`path forms through toNodeFs, ${mode}`, () => {
    it('link, lchown, lutimes, statfs and opendir have sync forms that answer as node:fs does', async () => {
      assert.deepEqual(await differences(mode, added), []);
    });
    it('a path with a trailing slash must name a directory, as node:fs checks', async () => {
      assert.deepEqual(await differences(mode, trailingSlash), []);
    });
    it('checks arguments and names paths in errors as node:fs does', async () => {
      assert.deepEqual(await differences(mode, checks), []);
    });
    it('Buffer and URL paths, encodings, withFileTypes, recursive, bigint and throwIfNoEntry answer as node:fs does', async () => {
      assert.deepEqual(await differences(mode, shapes), []);
    });
  });
}
