import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspect } from 'node:util';
import type { Backend } from '../../src/backend/backend.js';
import { nodeBackend } from '../../src/backend/node.js';
import { InlineDescriptors } from '../../src/backend/node-file.js';
import { backendContract, bytes, rejectsWith, S_IFLNK, S_IFMT, S_IFREG, text } from './contract.js';
import { facesContract } from './faces.js';

let tmp: string;
let counter = 0;

before(async () => {
  tmp = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'cachefs-')));
});

after(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

async function freshDir(prefix: string): Promise<string> {
  const dir = path.join(tmp, `${prefix}-${++counter}`);
  await fsp.mkdir(dir);
  return dir;
}

/** Fails unless `promise` settles first; only a guard against a hang, never a timing assertion. */
function guard<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Asserts that nothing about `err` mentions the temp directory the roots live in. */
function assertNoDiskPath(err: unknown): void {
  const e = err as { path?: unknown; dest?: unknown; message?: unknown };
  for (const value of [e.path, e.dest, e.message, inspect(err, { depth: 5 })]) {
    assert.ok(!String(value).includes(tmp), `error reveals the disk path: ${String(value)}`);
  }
}

async function denied(promise: Promise<unknown>): Promise<void> {
  assertNoDiskPath(await rejectsWith(promise, 'EACCES'));
}

/** Everything below `dir`: names, types, modes, sizes, mtimes, contents and link targets. */
async function snapshot(dir: string): Promise<string> {
  const lines: string[] = [];
  const walk = async (d: string) => {
    for (const name of (await fsp.readdir(d)).sort()) {
      const full = path.join(d, name);
      const s = await fsp.lstat(full);
      let extra = '';
      if (s.isSymbolicLink()) extra = await fsp.readlink(full);
      else if (s.isFile()) extra = (await fsp.readFile(full)).toString('hex');
      lines.push(`${path.relative(dir, full)} ${s.mode} ${s.size} ${s.mtimeMs} ${s.uid} ${extra}`);
      if (s.isDirectory()) await walk(full);
    }
  };
  await walk(dir);
  return lines.join('\n');
}

describe('nodeBackend', () => {
  describe('contract', () => {
    backendContract(async () => nodeBackend(await freshDir('contract')));
    facesContract(async () => nodeBackend(await freshDir('faces')), { linux: true });
  });

  it("is named 'node' and has every optional method", () => {
    const b = nodeBackend(tmp);
    assert.equal(b.name, 'node');
    for (const method of ['read', 'write', 'realpath', 'chown', 'copyFile', 'watch', 'close'] as const) {
      assert.equal(typeof b[method], 'function', method);
    }
  });

  it('maps virtual paths below the root, both ways', async () => {
    const root = await freshDir('map');
    const b = nodeBackend(root);
    await b.mkdir('/d');
    await b.writeFile('/d/from-backend', bytes('b'));
    assert.equal(await fsp.readFile(path.join(root, 'd', 'from-backend'), 'utf8'), 'b');
    await fsp.writeFile(path.join(root, 'd', 'from-disk'), 'disk');
    assert.equal(text(await b.readFile('/d/from-disk')), 'disk');
  });

  it('refuses a root that does not exist or is not a directory', async () => {
    const root = await freshDir('bad-root');
    await fsp.writeFile(path.join(root, 'file'), '');
    assert.throws(() => nodeBackend(path.join(root, 'missing')), { code: 'ENOENT' });
    assert.throws(() => nodeBackend(path.join(root, 'file')), { code: 'ENOTDIR' });
  });

  it('reports errors with virtual paths only', async () => {
    const b = nodeBackend(await freshDir('errors'));
    await b.mkdir('/d');
    await b.writeFile('/d/f', bytes('x'));
    const failures: [() => Promise<unknown>, string, string, string?][] = [
      [() => b.readFile('/missing'), 'ENOENT', '/missing'],
      [() => b.stat('/d/f/x'), 'ENOTDIR', '/d/f/x'],
      [() => b.readFile('/d'), 'EISDIR', '/d'],
      [() => b.mkdir('/d'), 'EEXIST', '/d'],
      [() => b.rmdir('/d'), 'ENOTEMPTY', '/d'],
      [() => b.rename('/d/f', '/nope/g'), 'ENOENT', '/d/f', '/nope/g'],
      [() => b.writeFile('/d/f', bytes('x'), { flag: 'wx' }), 'EEXIST', '/d/f'],
    ];
    for (const [call, code, vpath, dest] of failures) {
      const err = await rejectsWith(call(), code);
      assert.equal(err.path, vpath);
      assert.equal(err.dest, dest);
      assertNoDiskPath(err);
    }
  });

  describe('confinement', () => {
    let outside: string;
    let secret: string;
    let outsideBefore: string;

    /**
     * A fresh root with links of every kind, next to a shared `outside` directory that no test may change:
     *   /real/dir/f            "inside"
     *   /out        -> <outside>                      (absolute, a directory outside)
     *   /outfile    -> <outside>/secret.txt           (absolute, a file outside)
     *   /sub/up     -> ../../outside/secret.txt       (relative, climbing out)
     *   /parent     -> ..                             (the root's parent)
     *   /c1 -> c2 -> c3 -> <outside>/secret.txt       (a chain ending outside)
     *   /cd1 -> cd2 -> out                            (a chain of directories ending outside)
     *   /dangling-out -> <outside>/not-yet            (a dangling link outside)
     *   /in-abs     -> <root>/real/dir                (absolute, inside)
     *   /in-rel     -> real/dir                       (relative, inside)
     *   /in-chain   -> in-rel ;  /in-up -> sub/../real (inside via ..) ;  /self -> .
     */
    async function jail(): Promise<{ root: string; b: Backend }> {
      const root = await freshDir('jail');
      await fsp.mkdir(path.join(root, 'real', 'dir'), { recursive: true });
      await fsp.mkdir(path.join(root, 'sub'));
      await fsp.writeFile(path.join(root, 'real', 'dir', 'f'), 'inside');
      const link = (target: string, at: string) => fsp.symlink(target, path.join(root, at));
      await link(outside, 'out');
      await link(secret, 'outfile');
      await link(path.relative(path.join(root, 'sub'), secret), 'sub/up');
      await link('..', 'parent');
      await link('c2', 'c1');
      await link('c3', 'c2');
      await link(secret, 'c3');
      await link('cd2', 'cd1');
      await link('out', 'cd2');
      await link(path.join(outside, 'not-yet'), 'dangling-out');
      await link(path.join(root, 'real', 'dir'), 'in-abs');
      await link('real/dir', 'in-rel');
      await link('in-rel', 'in-chain');
      await link('sub/../real', 'in-up');
      await link('.', 'self');
      return { root, b: nodeBackend(root) };
    }

    before(async () => {
      outside = path.join(tmp, 'outside');
      await fsp.mkdir(path.join(outside, 'dir'), { recursive: true });
      secret = path.join(outside, 'secret.txt');
      await fsp.writeFile(secret, 'secret');
      await fsp.writeFile(path.join(outside, 'dir', 'inner.txt'), 'inner');
      await fsp.symlink('secret.txt', path.join(outside, 'link-outside'));
      outsideBefore = await snapshot(outside);
    });

    after(async () => {
      // Every test below tried to change `outside`; none may have.
      assert.equal(await snapshot(outside), outsideBefore);
    });

    it('the fixture links really lead out (on disk, without the backend)', async () => {
      const { root } = await jail();
      assert.equal(await fsp.readFile(path.join(root, 'out', 'secret.txt'), 'utf8'), 'secret');
      assert.equal(await fsp.readFile(path.join(root, 'sub', 'up'), 'utf8'), 'secret');
      assert.equal(await fsp.readFile(path.join(root, 'c1'), 'utf8'), 'secret');
      assert.equal(await fsp.readFile(path.join(root, 'cd1', 'secret.txt'), 'utf8'), 'secret');
      assert.equal(await fsp.readFile(path.join(root, 'parent', 'outside', 'secret.txt'), 'utf8'), 'secret');
    });

    it('a link to an outside directory cannot be used as a path component', async () => {
      const { root, b } = await jail();
      assert.ok(b.read && b.write && b.chown && b.copyFile && b.realpath);
      const buffer = new Uint8Array(16);
      await denied(b.readFile('/out/secret.txt'));
      await denied(b.read('/out/secret.txt', buffer, 0, 16, 0));
      await denied(b.stat('/out/secret.txt'));
      await denied(b.lstat('/out/secret.txt'));
      await denied(b.readlink('/out/link-outside'));
      await denied(b.readdir('/out'));
      await denied(b.readdir('/out/dir'));
      await denied(b.stat('/out'));
      await denied(b.realpath('/out'));
      await denied(b.realpath('/out/secret.txt'));
      await denied(b.writeFile('/out/planted', bytes('x')));
      await denied(b.writeFile('/out/secret.txt', bytes('x')));
      await denied(b.write('/out/secret.txt', bytes('x'), 0));
      await denied(b.truncate('/out/secret.txt', 0));
      await denied(b.chmod('/out/secret.txt', 0o600));
      await denied(b.utimes('/out/secret.txt', 1000, 1000));
      await denied(b.chown('/out/secret.txt', 1, 1));
      await denied(b.unlink('/out/secret.txt'));
      await denied(b.unlink('/out/link-outside'));
      await denied(b.rmdir('/out/dir'));
      await denied(b.mkdir('/out/newdir'));
      await denied(b.mkdir('/out/a/b', { recursive: true }));
      await denied(b.mkdir('/out', { recursive: true }));
      await denied(b.symlink('x', '/out/planted-link'));
      await denied(b.rename('/out/secret.txt', '/stolen'));
      await denied(b.rename('/real/dir/f', '/out/planted'));
      await denied(b.copyFile('/out/secret.txt', '/stolen'));
      await denied(b.copyFile('/real/dir/f', '/out/planted'));
      await rejectsWith(b.lstat('/stolen'), 'ENOENT');
      assert.equal(await fsp.readFile(path.join(root, 'real', 'dir', 'f'), 'utf8'), 'inside');
    });

    it('a link to an outside file cannot be followed, but can be handled itself', async () => {
      const { root, b } = await jail();
      assert.ok(b.read && b.write && b.chown && b.copyFile && b.realpath);
      await denied(b.readFile('/outfile'));
      await denied(b.read('/outfile', new Uint8Array(4), 0, 4, 0));
      await denied(b.stat('/outfile'));
      await denied(b.realpath('/outfile'));
      await denied(b.writeFile('/outfile', bytes('x')));
      await denied(b.write('/outfile', bytes('x'), 0));
      await denied(b.truncate('/outfile', 0));
      await denied(b.chmod('/outfile', 0o600));
      await denied(b.utimes('/outfile', 1000, 1000));
      await denied(b.chown('/outfile', 1, 1));
      await denied(b.copyFile('/outfile', '/stolen'));
      await denied(b.copyFile('/real/dir/f', '/outfile'));
      // 'wx' never follows the last link: the link exists, so EEXIST, and nothing is written.
      await rejectsWith(b.writeFile('/outfile', bytes('x'), { flag: 'wx' }), 'EEXIST');

      assert.equal((await b.lstat('/outfile')).mode & S_IFMT, S_IFLNK);
      assert.equal(await b.readlink('/outfile'), secret);
      await b.rename('/outfile', '/renamed-link');
      assert.equal((await b.lstat('/renamed-link')).mode & S_IFMT, S_IFLNK);
      await denied(b.readFile('/renamed-link'));
      await b.unlink('/renamed-link');
      await rejectsWith(fsp.lstat(path.join(root, 'renamed-link')), 'ENOENT');
      await b.unlink('/out');
      assert.equal(await fsp.readFile(secret, 'utf8'), 'secret');
    });

    it('relative links climbing out are refused', async () => {
      const { b } = await jail();
      await denied(b.readFile('/sub/up'));
      await denied(b.stat('/sub/up'));
      await denied(b.writeFile('/sub/up', bytes('x')));
      await denied(b.readdir('/parent'));
      await denied(b.stat('/parent/outside/secret.txt'));
      await denied(b.readFile('/parent/outside/secret.txt'));
      assert.equal(await b.readlink('/sub/up'), '../../outside/secret.txt');
    });

    it('chains of links ending outside are refused', async () => {
      const { b } = await jail();
      await denied(b.readFile('/c1'));
      await denied(b.stat('/c2'));
      await denied(b.writeFile('/c1', bytes('x')));
      await denied(b.readFile('/cd1/secret.txt'));
      await denied(b.readdir('/cd1'));
      await denied(b.mkdir('/cd1/x'));
      assert.equal(await b.readlink('/c1'), 'c2');
    });

    it('a dangling link leading out cannot create its target', async () => {
      const { b } = await jail();
      await denied(b.writeFile('/dangling-out', bytes('x')));
      await denied(b.stat('/dangling-out'));
      await rejectsWith(fsp.lstat(path.join(outside, 'not-yet')), 'ENOENT');
    });

    it('.. in a path handed to the backend cannot climb above the root', async () => {
      const { b } = await jail();
      await denied(b.stat('/../outside/secret.txt'));
      await denied(b.readFile('/real/../../outside/secret.txt'));
      await denied(b.readdir('/..'));
      await denied(b.writeFile('/../outside/planted', bytes('x')));
    });

    it('links that stay inside work normally and resolve to virtual paths', async () => {
      const { b } = await jail();
      assert.ok(b.realpath);
      for (const via of ['/in-abs/f', '/in-rel/f', '/in-chain/f', '/in-up/dir/f', '/self/real/dir/f', '/self/self/in-abs/f']) {
        assert.equal(text(await b.readFile(via)), 'inside', via);
        assert.equal(await b.realpath(via), '/real/dir/f', via);
      }
      assert.equal(await b.readlink('/in-abs'), '/real/dir');
      assert.equal(await b.readlink('/in-rel'), 'real/dir');
      assert.equal(await b.realpath('/self'), '/');
      await b.writeFile('/in-abs/g', bytes('written via a link'));
      assert.equal(text(await b.readFile('/real/dir/g')), 'written via a link');
      await b.mkdir('/in-chain/made');
      assert.equal((await b.readdir('/real/dir')).map((e) => e.name).sort().join(','), 'f,g,made');
      assert.equal((await b.stat('/in-rel/f')).mode & S_IFMT, S_IFREG);
    });

    it('creating a relative link that points outside is allowed; following it is not', async () => {
      const { root, b } = await jail();
      await b.symlink('../outside/secret.txt', '/mine');
      await b.symlink('../../outside/dir', '/sub/mine-dir');
      assert.equal(await fsp.readFile(path.join(root, 'mine'), 'utf8'), 'secret'); // it does lead out
      assert.equal(await b.readlink('/mine'), '../outside/secret.txt');
      await denied(b.readFile('/mine'));
      await denied(b.readdir('/sub/mine-dir'));
    });

    it('an absolute link target given to symlink is a virtual path', async () => {
      const { root, b } = await jail();
      await b.symlink('/real/dir/f', '/abs');
      assert.equal(await fsp.readlink(path.join(root, 'abs')), path.join(root, 'real', 'dir', 'f'));
      assert.equal(await b.readlink('/abs'), '/real/dir/f');
      assert.equal(text(await b.readFile('/abs')), 'inside');
      // The disk path of a file outside, given as a target, names a (missing) file inside the root.
      await b.symlink(secret, '/not-out');
      assert.equal(await b.readlink('/not-out'), secret);
      const err = await rejectsWith(b.readFile('/not-out'), 'ENOENT');
      assertNoDiskPath(err);
    });

    it('resolution is not cached: a link swapped in later is checked by the next call', async () => {
      const { root, b } = await jail();
      await b.writeFile('/real/dir/later', bytes('v1'));
      assert.equal(text(await b.readFile('/real/dir/later')), 'v1');
      await fsp.rm(path.join(root, 'real', 'dir', 'later'));
      await fsp.symlink(secret, path.join(root, 'real', 'dir', 'later'));
      await denied(b.readFile('/real/dir/later'));
      await denied(b.writeFile('/real/dir/later', bytes('v2')));
    });

    it('a root that is itself a symbolic link works, realpath stays virtual', async () => {
      const { root } = await jail();
      const alias = path.join(tmp, `alias-${++counter}`);
      await fsp.symlink(root, alias);
      // An absolute link spelled with the alias (not the canonical root) still counts as inside.
      await fsp.symlink(path.join(alias, 'real', 'dir'), path.join(root, 'via-alias'));
      const b = nodeBackend(alias);
      assert.ok(b.realpath);
      assert.equal(text(await b.readFile('/real/dir/f')), 'inside');
      assert.equal(text(await b.readFile('/via-alias/f')), 'inside');
      assert.equal(await b.realpath('/in-abs/f'), '/real/dir/f');
      assert.equal(await b.realpath('/via-alias'), '/real/dir');
      assert.equal(await b.readlink('/via-alias'), '/real/dir');
      await denied(b.readFile('/out/secret.txt'));
    });
  });

  describe('watch', () => {
    /** Resolves with the first changed path that `accept` takes; the watcher is closed afterwards. */
    function nextChange(b: Backend, accept: (p: string | null) => boolean): { seen: Promise<string | null>; close(): void } {
      assert.ok(b.watch);
      let settle!: (p: string | null) => void;
      const seen = new Promise<string | null>((resolve) => (settle = resolve));
      const watcher = b.watch(
        (changed) => {
          if (accept(changed)) settle(changed);
        },
        (err) => assert.fail(err),
      );
      return { seen: seen.finally(() => watcher.close()), close: () => watcher.close() };
    }

    it('reports a file created in the root as its virtual path', async () => {
      const root = await freshDir('watch');
      const b = nodeBackend(root);
      const change = nextChange(b, (p) => p === '/created.txt');
      await fsp.writeFile(path.join(root, 'created.txt'), 'x');
      assert.equal(await guard(change.seen, 'a change event for /created.txt'), '/created.txt');
    });

    it('reports a change in a subdirectory made by another process', async () => {
      const root = await freshDir('watch');
      await fsp.mkdir(path.join(root, 'a', 'b'), { recursive: true });
      const b = nodeBackend(root);
      const seenPaths: (string | null)[] = [];
      const change = nextChange(b, (p) => {
        seenPaths.push(p);
        return p === '/a/b/child.txt';
      });
      const target = path.join(root, 'a', 'b', 'child.txt');
      const child = spawn(process.execPath, ['-e', `require('node:fs').writeFileSync(${JSON.stringify(target)}, 'from child')`]);
      const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
      assert.equal(await guard(exit, 'the child process'), 0);
      assert.equal(await guard(change.seen, 'a change event for /a/b/child.txt'), '/a/b/child.txt');
      for (const p of seenPaths) assert.ok(p === null || !p.includes(tmp), `event path reveals the disk path: ${p}`);
    });

    it('does not keep the process alive', async () => {
      const root = await freshDir('watch-alive');
      const moduleUrl = new URL('../../src/backend/node.js', import.meta.url).href;
      const script = `import { nodeBackend } from ${JSON.stringify(moduleUrl)};
        nodeBackend(${JSON.stringify(root)}).watch(() => {});
        console.log('watching');`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
      try {
        assert.equal(await guard(exit, 'a process holding only a watcher to exit'), 0);
      } finally {
        child.kill();
      }
      assert.equal(out.trim(), 'watching');
    });
  });
});

describe('nodeBackend open files', () => {
  it('close waits for the reads in flight, so that none lands on a descriptor number reused by another open', async () => {
    const root = await freshDir('close-in-flight');
    const data = Buffer.alloc(256 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 12)) & 0xff;
    await fsp.writeFile(path.join(root, 'f'), data);
    const file = await nodeBackend(root).open!('/f', 'r');
    const order: string[] = [];
    const reads = Array.from({ length: 64 }, (_, i) => {
      const into = Buffer.alloc(4096);
      return file.read(into, 0, 4096, i * 4096).then((n) => {
        order.push('read');
        return { n, into, at: i * 4096 };
      });
    });
    await file.close().then(() => order.push('close'));
    assert.equal(order.indexOf('close'), 64, 'close resolved after every read that was in flight');
    for (const { n, into, at } of await Promise.all(reads)) {
      assert.equal(n, 4096);
      assert.deepEqual(into, data.subarray(at, at + 4096), `bytes at ${at}`);
    }
    await rejectsWith(file.read(Buffer.alloc(1), 0, 1, 0), 'EBADF');
    await rejectsWith(file.close(), 'EBADF');
  });

  it('after an fstat, close still waits for reads in flight and releases the descriptor (read-only, unlinked meanwhile, or written), as readFile does', { skip: process.platform !== 'linux' && 'counts /proc/self/fd' }, async () => {
    const root = await freshDir('close-after-stat');
    const data = Buffer.alloc(64 * 1024, 0x5a);
    const b = nodeBackend(root);
    const openDescriptors = (): number => fs.readdirSync('/proc/self/fd').length;
    const before = openDescriptors();
    for (const [name, flags, change] of [['linked', 'r', 'none'], ['unlinked', 'r', 'unlink'], ['written', 'r+', 'write']] as const) {
      await fsp.writeFile(path.join(root, name), data);
      const file = await b.open!(`/${name}`, flags);
      if (change === 'unlink') await fsp.unlink(path.join(root, name));
      if (change === 'write') assert.equal(await file.write!(Buffer.from('hi'), 0, 2, 0), 2);
      assert.equal((await file.stat()).size, data.length, name);
      const order: string[] = [];
      const reads = Array.from({ length: 16 }, (_, i) => file.read(Buffer.alloc(4096), 0, 4096, i * 4096).then((n) => (order.push('read'), n)));
      await file.close().then(() => order.push('close'));
      assert.equal(order.indexOf('close'), 16, `${name}: close resolved after every read in flight`);
      assert.deepEqual(await Promise.all(reads), Array(16).fill(4096));
      await rejectsWith(file.stat(), 'EBADF');
      await rejectsWith(file.close(), 'EBADF');
    }
    await fsp.writeFile(path.join(root, 'whole'), data);
    for (let i = 0; i < 8; i++) assert.equal((await b.readFile('/whole')).length, data.length);
    assert.equal(openDescriptors(), before, 'every descriptor closed');
  });

  it('descriptor calls run inline only on the root\'s filesystem, never for an unlinked file, and a file on another filesystem turns them off for good', async (t) => {
    const root = await freshDir('inline-rule');
    const inline = InlineDescriptors.for(root);
    if (inline === undefined) return t.skip('the temporary directory is not on a local disk filesystem');
    const file = path.join(root, 'f');
    await fsp.writeFile(file, 'x');
    assert.equal(inline.accept(fs.statSync(file)), true);
    assert.equal(inline.closesInline(fs.statSync(file)), true);
    const fd = fs.openSync(file, 'r');
    try {
      fs.unlinkSync(file);
      assert.equal(inline.closesInline(fs.fstatSync(fd)), false, 'the last close of an unlinked file frees its blocks');
    } finally {
      fs.closeSync(fd);
    }
    await fsp.writeFile(file, 'x');
    assert.equal(inline.accept(fs.statSync('/proc/self')), false, 'procfs is another filesystem');
    assert.equal(inline.active, false);
    assert.equal(inline.accept(fs.statSync(file)), false, 'off for good');
    assert.equal(inline.closesInline(fs.statSync(file)), false);
  });
});
