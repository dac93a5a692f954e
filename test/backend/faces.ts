// The optional faces (open files, the synchronous twin, link, lchown, lutimes, statfs), checked for every
// backend that has them: a script of calls, many of them failing, runs through the async face, the sync
// face, and node:fs on a real temp directory (Node's answer), and the outcomes must agree.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Backend, BackendStats, BackendSync } from '../../src/backend/backend.js';
import { bytes, rejectsWith, S_IFMT, S_IFLNK, text } from './contract.js';

type Face = {
  [K in keyof BackendSync]-?: (...args: Parameters<NonNullable<BackendSync[K]>>) => Promise<unknown>;
};

/** The async face as it is. */
export function asyncFace(b: Backend): Face {
  return new Proxy({} as Face, {
    get: (_, name: string) => (...args: unknown[]) => {
      const call = (b as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name];
      if (call === undefined) return Promise.reject(new Error(`no ${name}`));
      return call.apply(b, args);
    },
  });
}

/** The sync face, seen through promises so that one script drives both. */
export function syncFace(s: BackendSync): Face {
  return new Proxy({} as Face, {
    get: (_, name: string) => (...args: unknown[]) => {
      const call = (s as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
      if (call === undefined) return Promise.reject(new Error(`no sync ${name}`));
      try {
        return Promise.resolve(call.apply(s, args));
      } catch (err) {
        return Promise.reject(err);
      }
    },
  });
}

/**
 * node:fs itself below `root`, with the backends' conventions (absolute link targets are virtual); or,
 * given `impl`, another object with node:fs's sync calls (a memfs Volume).
 */
export function nodeFsFace(root: string, impl: typeof fs = fs): Face {
  if (root === '/') root = '';
  const at = (p: string) => (p === '/' ? root || '/' : root + p);
  const seconds = (ms: number) => (ms + 0.0005) / 1000;
  const ops: Record<string, (...args: never[]) => unknown> = {
    stat: (p: string) => impl.statSync(at(p)),
    lstat: (p: string) => impl.lstatSync(at(p)),
    readFile: (p: string) => impl.readFileSync(at(p)),
    writeFile: (p: string, d: Uint8Array, o?: { flag?: string; mode?: number }) => impl.writeFileSync(at(p), d, o),
    readdir: (p: string) =>
      impl.readdirSync(at(p), { withFileTypes: true }).map((e) => ({
        name: e.name,
        type: e.isFile() ? 'file' : e.isDirectory() ? 'directory' : e.isSymbolicLink() ? 'symlink' : 'other',
      })),
    mkdir: (p: string, o?: { recursive?: boolean; mode?: number }) => void impl.mkdirSync(at(p), o),
    rmdir: (p: string) => impl.rmdirSync(at(p)),
    unlink: (p: string) => impl.unlinkSync(at(p)),
    rename: (a: string, b: string) => impl.renameSync(at(a), at(b)),
    truncate: (p: string, n: number) => impl.truncateSync(at(p), n),
    chmod: (p: string, m: number) => impl.chmodSync(at(p), m),
    utimes: (p: string, a: number, m: number) => impl.utimesSync(at(p), seconds(a), seconds(m)),
    lutimes: (p: string, a: number, m: number) => impl.lutimesSync(at(p), seconds(a), seconds(m)),
    chown: (p: string, u: number, g: number) => impl.chownSync(at(p), u, g),
    lchown: (p: string, u: number, g: number) => impl.lchownSync(at(p), u, g),
    symlink: (t: string, p: string) => void impl.symlinkSync(t.startsWith('/') ? at(t) : t, at(p)),
    readlink: (p: string) => {
      const t = String(impl.readlinkSync(at(p)));
      return t === root ? '/' : t.startsWith(root + '/') ? t.slice(root.length) : t;
    },
    realpath: (p: string) => String(impl.realpathSync(at(p))).slice(root.length) || '/',
    link: (a: string, b: string) => impl.linkSync(at(a), at(b)),
    copyFile: (a: string, b: string, m?: number) => impl.copyFileSync(at(a), at(b), m),
    statfs: (p: string) => impl.statfsSync(at(p)),
  };
  return new Proxy({} as Face, {
    get: (_, name: string) => (...args: never[]) => {
      const call = ops[name];
      if (call === undefined) return Promise.reject(new Error(`no node:fs ${name}`));
      try {
        return Promise.resolve(call(...args));
      } catch (err) {
        return Promise.reject(err);
      }
    },
  });
}

/** What is compared of a stats record: kind, permissions, link count, the size of what is not a link. */
function shape(s: BackendStats): string {
  const kind = s.mode & S_IFMT;
  const size = kind === S_IFLNK || kind === 0o040000 ? '' : ` size=${s.size}`;
  return `kind=${kind.toString(8)} perm=${(s.mode & 0o7777).toString(8)} nlink=${s.nlink}${size}`;
}

function describeValue(value: unknown): string {
  if (value === undefined || value === null) return 'ok';
  if (value instanceof Uint8Array) return `bytes ${JSON.stringify(text(value))}`;
  if (Array.isArray(value)) {
    return JSON.stringify([...value].sort((a, b) => String(a.name).localeCompare(String(b.name))));
  }
  if (typeof value === 'object' && 'mode' in value) return shape(value as BackendStats);
  return JSON.stringify(value);
}

const LONG_NAME = 'n'.repeat(256);
const LONG_PATH = '/' + `${'a'.repeat(200)}/`.repeat(21) + 'f';

/** Steps of the script: a label and a call. Labels make a mismatch readable. */
function script(uid: number, gid: number): [string, (f: Face) => Promise<unknown>][] {
  const s: [string, (f: Face) => Promise<unknown>][] = [];
  const step = (label: string, call: (f: Face) => Promise<unknown>) => s.push([label, call]);
  step('mkdir /d', (f) => f.mkdir('/d'));
  step('mkdir /d/sub', (f) => f.mkdir('/d/sub'));
  step('writeFile /d/f', (f) => f.writeFile('/d/f', bytes('hello')));
  step('symlink /l -> /d/f', (f) => f.symlink('/d/f', '/l'));
  step('symlink /d/rel -> sub', (f) => f.symlink('sub', '/d/rel'));
  step('stat /d', (f) => f.stat('/d'));
  step('stat /l', (f) => f.stat('/l'));
  step('lstat /l kind', async (f) => ((await f.lstat('/l')) as BackendStats).mode & S_IFMT);
  step('readFile /l', (f) => f.readFile('/l'));
  step('readdir /d', (f) => f.readdir('/d'));
  step('link /d/f /d/hard', (f) => f.link('/d/f', '/d/hard'));
  step('stat /d/hard', (f) => f.stat('/d/hard'));
  step('link onto an existing name', (f) => f.link('/d/f', '/d/hard'));
  step('link a missing file', (f) => f.link('/nope', '/x'));
  step('link a directory', (f) => f.link('/d', '/dl'));
  step('link into a missing directory', (f) => f.link('/d/f', '/missing/x'));
  step('link through a file', (f) => f.link('/d/f', '/d/f/x'));
  step('writeFile via the hard link', (f) => f.writeFile('/d/hard', bytes('changed')));
  step('readFile the other name', (f) => f.readFile('/d/f'));
  step('link a symbolic link itself', (f) => f.link('/l', '/l2'));
  step('lstat the linked link kind', async (f) => ((await f.lstat('/l2')) as BackendStats).mode & S_IFMT);
  step('unlink /d/hard', (f) => f.unlink('/d/hard'));
  step('stat /d/f after unlink', (f) => f.stat('/d/f'));
  step('rename a dir into itself', (f) => f.rename('/d', '/d/sub/in'));
  step('rename onto an ancestor', (f) => f.rename('/d/sub', '/d'));
  step('mkdir /e', (f) => f.mkdir('/e'));
  step('rename a file over a dir', (f) => f.rename('/d/f', '/e'));
  step('rename a dir over a file', (f) => f.rename('/e', '/d/f'));
  step('rename missing to below a file', (f) => f.rename('/nope', '/d/f/x'));
  step('rename a file onto itself', (f) => f.rename('/d/f', '/d/f'));
  step('rename a file onto its hard link', async (f) => {
    await f.link('/d/f', '/d/h2');
    await f.rename('/d/f', '/d/h2');
    return f.readdir('/d');
  });
  step('unlink /d/h2', (f) => f.unlink('/d/h2'));
  step('unlink a dir', (f) => f.unlink('/d'));
  step('readFile a dir', (f) => f.readFile('/d'));
  step('rmdir a file', (f) => f.rmdir('/d/f'));
  step('rmdir a link to a dir', async (f) => {
    await f.symlink('/d/sub', '/sl');
    return f.rmdir('/sl');
  });
  step('stat a name too long', (f) => f.stat('/' + LONG_NAME));
  step('writeFile a name too long', (f) => f.writeFile('/' + LONG_NAME, bytes('x')));
  step('mkdir a name too long', (f) => f.mkdir('/d/' + LONG_NAME));
  step('stat a path too long', (f) => f.stat(LONG_PATH));
  step('a 255-byte name is fine', (f) => f.writeFile('/' + 'm'.repeat(255), bytes('ok')));
  step('symlink loop', async (f) => {
    await f.symlink('/loop2', '/loop1');
    await f.symlink('/loop1', '/loop2');
    return f.stat('/loop1');
  });
  step('readFile a loop', (f) => f.readFile('/loop1'));
  step('lstat in a loop', async (f) => ((await f.lstat('/loop1')) as BackendStats).mode & S_IFMT);
  step('loop in the middle', (f) => f.stat('/loop1/x'));
  step('lutimes the link itself', async (f) => {
    await f.utimes('/d/f', 1_500_000_000_000, 1_500_000_000_000);
    await f.lutimes('/l', 1_600_000_000_123, 1_700_000_000_999);
    const own = (await f.lstat('/l')) as BackendStats;
    const target = (await f.stat('/l')) as BackendStats;
    return [own.atimeMs, own.mtimeMs, target.atimeMs, target.mtimeMs];
  });
  step('lutimes a missing path', (f) => f.lutimes('/nope', 1, 1));
  step('lchown the link itself', async (f) => {
    await f.lchown('/l', uid, gid);
    const s = (await f.lstat('/l')) as BackendStats;
    return [s.uid, s.gid];
  });
  step('lchown a missing path', (f) => f.lchown('/nope', uid, gid));
  step('truncate shorter', async (f) => {
    await f.truncate('/d/f', 2);
    return f.readFile('/d/f');
  });
  step('truncate longer', async (f) => {
    await f.truncate('/d/f', 4);
    return [...((await f.readFile('/d/f')) as Uint8Array)];
  });
  step('readlink a file', (f) => f.readlink('/d/f'));
  step('readlink a link', (f) => f.readlink('/l'));
  step('mkdir -p', (f) => f.mkdir('/x/y/z', { recursive: true }));
  step('mkdir -p of a file', (f) => f.mkdir('/d/f', { recursive: true }));
  step('mkdir -p through a file', (f) => f.mkdir('/d/f/x/y', { recursive: true }));
  step('mkdir -p through a link', async (f) => {
    await f.mkdir('/l/z', { recursive: true });
  });
  step('realpath via a relative link', (f) => f.realpath('/d/rel'));
  step('symlink with an empty target', (f) => f.symlink('', '/empty-link'));
  step('statfs numbers', async (f) => {
    const s = (await f.statfs('/d')) as Record<string, number>;
    return ['type', 'bsize', 'blocks', 'bfree', 'bavail', 'files', 'ffree'].map((k) => typeof s[k]);
  });
  step('statfs of a missing path', (f) => f.statfs('/nope'));
  return s;
}

export async function outcome(call: () => Promise<unknown>): Promise<string> {
  try {
    return describeValue(await call());
  } catch (err) {
    const message = (err as Error).message;
    // A call one side lacks (memfs has no statfs), however each side words it.
    if (/is not a function|^no /.test(message)) return 'unsupported';
    return `error ${(err as { code?: string }).code ?? message}`;
  }
}

export async function runScript(face: Face): Promise<string[]> {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const lines: string[] = [];
  for (const [label, call] of script(uid, gid)) lines.push(`${label}: ${await outcome(() => call(face))}`);
  return lines;
}

/**
 * Registers the tests of the optional faces. `make` returns a fresh, empty backend. `linux` says whether
 * the backend promises Linux's answers (then node:fs on a temp dir is the oracle).
 */
export function facesContract(make: () => Promise<Backend>, options: { linux: boolean }): void {
  let tmp: string;
  before(() => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'cachefs-faces-')));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  describe('optional faces', () => {
    if (options.linux) {
      it("the async face answers the script as node:fs does on a real directory", async () => {
        const oracle = fs.mkdtempSync(path.join(tmp, 'oracle-'));
        const expected = await runScript(nodeFsFace(oracle));
        assert.deepEqual(await runScript(asyncFace(await make())), expected);
      });
    }

    it('the sync face answers the script as the async face does', async () => {
      const viaAsync = await make();
      const viaSync = await make();
      assert.ok(viaSync.sync, 'a sync face');
      assert.deepEqual(await runScript(syncFace(viaSync.sync)), await runScript(asyncFace(viaAsync)));
    });

    it('open: read, write, stat, truncate and close on one file, which outlives its name', async () => {
      const b = await make();
      assert.ok(b.open);
      await b.mkdir('/d');
      await b.writeFile('/d/f', bytes('hello world'));
      const file = await b.open('/d/f', 'r+');
      const into = new Uint8Array(5);
      assert.equal(await file.read(into, 0, 5, 6), 5);
      assert.equal(text(into), 'world');
      assert.ok(file.write && file.truncate && file.sync);
      assert.equal(await file.write(bytes('xxHELLOxx'), 2, 5, 0), 5);
      assert.equal(text(await b.readFile('/d/f')), 'HELLO world');
      await file.truncate(5);
      assert.equal((await file.stat()).size, 5);
      await file.write(bytes('!'), 0, 1, 7);
      assert.deepEqual([...(await b.readFile('/d/f'))], [...bytes('HELLO'), 0, 0, 0x21]);
      await b.rename('/d/f', '/d/g');
      await b.unlink('/d/g');
      assert.equal(await file.read(into, 0, 5, 0), 5);
      assert.equal(text(into), 'HELLO');
      assert.equal((await file.stat()).size, 8);
      await file.sync();
      await file.close();
      await rejectsWith(file.read(into, 0, 1, 0), 'EBADF');
      await rejectsWith(file.stat(), 'EBADF');
      await rejectsWith(file.close(), 'EBADF');
    });

    it('open fails as open(2) does, and a read-only file refuses writes', { skip: !options.linux && 'not a Linux backend' }, async () => {
      const b = await make();
      assert.ok(b.open);
      await b.mkdir('/d');
      await b.writeFile('/d/f', bytes('abc'));
      await rejectsWith(b.open('/nope', 'r'), 'ENOENT');
      await rejectsWith(b.open('/d/f/x', 'r'), 'ENOTDIR');
      await rejectsWith(b.open('/d', 'r+'), 'EISDIR');
      const dir = await b.open('/d', 'r');
      await rejectsWith(dir.read(new Uint8Array(1), 0, 1, 0), 'EISDIR');
      await dir.close();
      const ro = await b.open('/d/f', 'r');
      assert.ok(ro.write);
      await rejectsWith(ro.write(bytes('x'), 0, 1, 0), 'EBADF');
      assert.equal(text(await b.readFile('/d/f')), 'abc');
      await ro.close();
      await b.symlink('/d/f', '/l');
      const viaLink = await b.open('/l', 'r');
      const into = new Uint8Array(3);
      assert.equal(await viaLink.read(into, 0, 3, 0), 3);
      assert.equal(text(into), 'abc');
      await viaLink.close();
    });

    it('the sync face opens files too', async () => {
      const b = await make();
      assert.ok(b.sync?.open);
      b.sync.writeFile('/f', bytes('sync'));
      const file = b.sync.open('/f', 'r+');
      const into = new Uint8Array(4);
      assert.equal(file.read(into, 0, 4, 0), 4);
      assert.equal(text(into), 'sync');
      assert.ok(file.write);
      assert.equal(file.write(bytes('S'), 0, 1, 0), 1);
      assert.equal(text(await b.readFile('/f')), 'Sync');
      assert.equal(file.stat().size, 4);
      file.close();
      assert.throws(() => file.read(into, 0, 1, 0), { code: 'EBADF' });
      assert.throws(() => b.sync!.open!('/nope', 'r'), { code: 'ENOENT' });
    });
  });
}
