// Behaviour every backend shares with node:fs on Linux, run against memoryBackend and nodeBackend alike.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend } from '../../src/backend/backend.js';

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (data: Uint8Array): string => new TextDecoder().decode(data);

/** Asserts that `promise` rejects with an error whose `code` is `code`, and returns that error. */
export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<Error & { code: string; path?: string; dest?: string }> {
  let caught: unknown;
  await assert.rejects(promise, (err: unknown) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof Error, `expected an Error, got ${String(caught)}`);
  assert.equal((caught as { code?: unknown }).code, code, `expected ${code}, got: ${(caught as Error).message}`);
  return caught as Error & { code: string };
}

/**
 * What a backend's store cannot do (API.md 1.3 §5). A store without links or modes must refuse them as
 * Node does on a file system without them; the tests that need them check that refusal instead.
 */
export interface ContractLimits {
  /** No symbolic links: `symlink` fails with EPERM, `readlink` with EINVAL. */
  noLinks?: boolean;
  /** No permission bits or owners: `chmod`, `chown`, `utimes` fail with EPERM; modes are not kept. */
  noModes?: boolean;
  /** The store's time resolution in ms (SFTP: 1000); times round down to it. */
  timeResolutionMs?: number;
}

/**
 * Registers the shared tests. `make` returns a fresh, empty backend for each test (called inside the
 * test, so hooks of the enclosing suite have run).
 */
export function backendContract(make: () => Promise<Backend>, limits: ContractLimits = {}): void {
  const links = !limits.noLinks;
  const modes = !limits.noModes;
  const tick = limits.timeResolutionMs ?? 1;
  /** A backend holding /dir/file.txt ("hello"), /dir/sub/, /empty/ and /link -> /dir/file.txt. */
  const seeded = async (): Promise<Backend> => {
    const b = await make();
    await b.mkdir('/dir');
    await b.mkdir('/dir/sub');
    await b.mkdir('/empty');
    await b.writeFile('/dir/file.txt', bytes('hello'));
    if (links) await b.symlink('/dir/file.txt', '/link');
    return b;
  };

  describe('readFile / writeFile', () => {
    it('round-trips bytes and replaces the whole content', async () => {
      const b = await seeded();
      assert.equal(text(await b.readFile('/dir/file.txt')), 'hello');
      await b.writeFile('/dir/file.txt', bytes('hi'));
      assert.equal(text(await b.readFile('/dir/file.txt')), 'hi');
      const binary = new Uint8Array([0, 255, 1, 254]);
      await b.writeFile('/bin', binary);
      assert.deepEqual([...(await b.readFile('/bin'))], [0, 255, 1, 254]);
    });

    it('keeps its own copy of written data and hands out copies', async () => {
      const b = await make();
      const data = bytes('abc');
      await b.writeFile('/f', data);
      data[0] = 0x7a;
      const read = await b.readFile('/f');
      read[1] = 0x7a;
      assert.equal(text(await b.readFile('/f')), 'abc');
    });

    it("flag 'wx' creates a new file but refuses an existing one with EEXIST", async () => {
      const b = await seeded();
      await b.writeFile('/dir/new.txt', bytes('n'), { flag: 'wx' });
      assert.equal(text(await b.readFile('/dir/new.txt')), 'n');
      await rejectsWith(b.writeFile('/dir/file.txt', bytes('x'), { flag: 'wx' }), 'EEXIST');
      assert.equal(text(await b.readFile('/dir/file.txt')), 'hello');
    });

    it('applies mode when creating', { skip: !modes && 'the store keeps no modes' }, async () => {
      const b = await make();
      await b.writeFile('/m', bytes('x'), { mode: 0o640 });
      assert.equal((await b.stat('/m')).mode & 0o777, 0o640);
    });

    it('writes through a symbolic link to its target', { skip: !links && 'the store has no links' }, async () => {
      const b = await seeded();
      await b.writeFile('/link', bytes('via link'));
      assert.equal(text(await b.readFile('/dir/file.txt')), 'via link');
      assert.equal((await b.lstat('/link')).mode & S_IFMT, S_IFLNK);
    });

    it('fails with ENOENT, EISDIR and ENOTDIR as node:fs does', async () => {
      const b = await seeded();
      await rejectsWith(b.readFile('/nope'), 'ENOENT');
      await rejectsWith(b.readFile('/dir'), 'EISDIR');
      await rejectsWith(b.readFile('/dir/file.txt/x'), 'ENOTDIR');
      await rejectsWith(b.writeFile('/missing/f', bytes('x')), 'ENOENT');
      await rejectsWith(b.writeFile('/dir', bytes('x')), 'EISDIR');
      await rejectsWith(b.writeFile('/dir/file.txt/x', bytes('x')), 'ENOTDIR');
    });
  });

  describe('stat / lstat', () => {
    it('reports type bits, size and times in a plain object', async () => {
      const b = await seeded();
      const file = await b.stat('/dir/file.txt');
      assert.equal(Object.getPrototypeOf(file), Object.prototype);
      assert.equal(file.mode & S_IFMT, S_IFREG);
      assert.equal(file.size, 5);
      assert.equal(typeof file.mtimeMs, 'number');
      assert.ok(file.mtimeMs > 0);
      assert.equal((await b.stat('/dir')).mode & S_IFMT, S_IFDIR);
      assert.equal((await b.stat('/')).mode & S_IFMT, S_IFDIR);
    });

    it('stat follows a symbolic link, lstat does not', { skip: !links && 'the store has no links' }, async () => {
      const b = await seeded();
      const followed = await b.stat('/link');
      assert.equal(followed.mode & S_IFMT, S_IFREG);
      assert.equal(followed.size, 5);
      const own = await b.lstat('/link');
      assert.equal(own.mode & S_IFMT, S_IFLNK);
      assert.equal(Object.getPrototypeOf(own), Object.prototype);
    });

    it('fails with ENOENT and ENOTDIR', async () => {
      const b = await seeded();
      await rejectsWith(b.stat('/nope'), 'ENOENT');
      await rejectsWith(b.lstat('/nope'), 'ENOENT');
      await rejectsWith(b.stat('/dir/file.txt/x'), 'ENOTDIR');
      if (!links) return;
      await b.symlink('/nowhere', '/dangling');
      await rejectsWith(b.stat('/dangling'), 'ENOENT');
      assert.equal((await b.lstat('/dangling')).mode & S_IFMT, S_IFLNK);
    });
  });

  describe('readdir', () => {
    it('lists names with their types', async () => {
      const b = await seeded();
      const root = await b.readdir('/');
      const sorted = [...root].sort((x, y) => x.name.localeCompare(y.name));
      assert.deepEqual(sorted, [
        { name: 'dir', type: 'directory' },
        { name: 'empty', type: 'directory' },
        ...(links ? [{ name: 'link', type: 'symlink' }] : []),
      ]);
      const dir = (await b.readdir('/dir')).sort((x, y) => x.name.localeCompare(y.name));
      assert.deepEqual(dir, [
        { name: 'file.txt', type: 'file' },
        { name: 'sub', type: 'directory' },
      ]);
      assert.deepEqual(await b.readdir('/empty'), []);
    });

    it('fails with ENOENT and ENOTDIR', async () => {
      const b = await seeded();
      await rejectsWith(b.readdir('/nope'), 'ENOENT');
      await rejectsWith(b.readdir('/dir/file.txt'), 'ENOTDIR');
    });
  });

  describe('mkdir / rmdir', () => {
    it('creates a directory, with a mode', async () => {
      const b = await make();
      await b.mkdir('/d', { mode: 0o750 });
      const s = await b.stat('/d');
      assert.equal(s.mode & S_IFMT, S_IFDIR);
      if (modes) assert.equal(s.mode & 0o777, 0o750);
    });

    it('fails with EEXIST, ENOENT and ENOTDIR', async () => {
      const b = await seeded();
      await rejectsWith(b.mkdir('/dir'), 'EEXIST');
      await rejectsWith(b.mkdir('/dir/file.txt'), 'EEXIST');
      await rejectsWith(b.mkdir('/'), 'EEXIST');
      await rejectsWith(b.mkdir('/a/b'), 'ENOENT');
      await rejectsWith(b.mkdir('/dir/file.txt/x'), 'ENOTDIR');
    });

    it('recursive creates every missing parent and accepts an existing directory', async () => {
      const b = await seeded();
      await b.mkdir('/a/b/c', { recursive: true });
      assert.equal((await b.stat('/a/b/c')).mode & S_IFMT, S_IFDIR);
      await b.mkdir('/a/b/c', { recursive: true });
      await b.mkdir('/', { recursive: true });
      await rejectsWith(b.mkdir('/dir/file.txt', { recursive: true }), 'EEXIST');
      await rejectsWith(b.mkdir('/dir/file.txt/x/y', { recursive: true }), 'ENOTDIR');
    });

    it('creates below a symbolic link to a directory', { skip: !links && 'the store has no links' }, async () => {
      const b = await seeded();
      await b.symlink('/dir', '/dirlink');
      await b.mkdir('/dirlink/made');
      await b.symlink('file.txt', '/dirlink/made-link');
      const names = (await b.readdir('/dir')).map((e) => e.name).sort();
      assert.deepEqual(names, ['file.txt', 'made', 'made-link', 'sub']);
    });

    it('rmdir removes an empty directory only', async () => {
      const b = await seeded();
      await b.rmdir('/empty');
      await rejectsWith(b.stat('/empty'), 'ENOENT');
      await rejectsWith(b.rmdir('/dir'), 'ENOTEMPTY');
      await rejectsWith(b.rmdir('/dir/file.txt'), 'ENOTDIR');
      await rejectsWith(b.rmdir('/nope'), 'ENOENT');
      if (links) {
        await b.symlink('/dir/sub', '/sublink');
        await rejectsWith(b.rmdir('/sublink'), 'ENOTDIR');
      }
      await rejectsWith(b.rmdir('/'), 'EBUSY');
      assert.equal((await b.stat('/dir/sub')).mode & S_IFMT, S_IFDIR);
    });
  });

  describe('unlink', () => {
    it('removes a file, and a link without touching its target', async () => {
      const b = await seeded();
      if (links) {
        await b.unlink('/link');
        await rejectsWith(b.lstat('/link'), 'ENOENT');
      }
      assert.equal(text(await b.readFile('/dir/file.txt')), 'hello');
      await b.unlink('/dir/file.txt');
      await rejectsWith(b.stat('/dir/file.txt'), 'ENOENT');
    });

    it('fails with ENOENT, EISDIR and ENOTDIR', async () => {
      const b = await seeded();
      await rejectsWith(b.unlink('/nope'), 'ENOENT');
      await rejectsWith(b.unlink('/dir'), 'EISDIR');
      await rejectsWith(b.unlink('/dir/file.txt/x'), 'ENOTDIR');
    });
  });

  describe('rename', () => {
    it('moves files and directories, replacing a file or an empty directory', async () => {
      const b = await seeded();
      await b.rename('/dir/file.txt', '/moved.txt');
      assert.equal(text(await b.readFile('/moved.txt')), 'hello');
      await rejectsWith(b.stat('/dir/file.txt'), 'ENOENT');

      await b.writeFile('/other', bytes('other'));
      await b.rename('/other', '/moved.txt');
      assert.equal(text(await b.readFile('/moved.txt')), 'other');

      await b.rename('/dir', '/empty');
      assert.deepEqual((await b.readdir('/empty')).map((e) => e.name), ['sub']);
      await rejectsWith(b.stat('/dir'), 'ENOENT');
      await b.rename('/moved.txt', '/moved.txt');
      assert.equal(text(await b.readFile('/moved.txt')), 'other');
    });

    it('fails where rename(2) fails', async () => {
      const b = await seeded();
      await b.mkdir('/full');
      await b.writeFile('/full/x', bytes('x'));
      await rejectsWith(b.rename('/nope', '/x'), 'ENOENT');
      await rejectsWith(b.rename('/dir/file.txt', '/missing/x'), 'ENOENT');
      await rejectsWith(b.rename('/dir/file.txt', '/empty'), 'EISDIR');
      await rejectsWith(b.rename('/empty', '/dir/file.txt'), 'ENOTDIR');
      await rejectsWith(b.rename('/empty', '/full'), 'ENOTEMPTY');
      await rejectsWith(b.rename('/dir', '/dir/sub/inside'), 'EINVAL');
      await rejectsWith(b.rename('/dir/file.txt', '/dir/file.txt/x'), 'ENOTDIR');
      await rejectsWith(b.rename('/', '/elsewhere'), 'EBUSY');
      await rejectsWith(b.rename('/empty', '/'), 'EBUSY');
      assert.equal(text(await b.readFile('/dir/file.txt')), 'hello');
      assert.equal(text(await b.readFile('/full/x')), 'x');
    });

    it('moves a symbolic link itself, not its target', { skip: !links && 'the store has no links' }, async () => {
      const b = await seeded();
      await b.rename('/link', '/link2');
      assert.equal((await b.lstat('/link2')).mode & S_IFMT, S_IFLNK);
      assert.equal(await b.readlink('/link2'), '/dir/file.txt');
      await rejectsWith(b.lstat('/link'), 'ENOENT');
      assert.equal(text(await b.readFile('/dir/file.txt')), 'hello');
    });

    it('renames into and out of a directory reached through a link', { skip: !links && 'the store has no links' }, async () => {
      const b = await seeded();
      await b.symlink('/dir', '/dirlink');
      await b.rename('/dirlink/file.txt', '/top.txt');
      await b.rename('/top.txt', '/dirlink/back.txt');
      assert.equal(text(await b.readFile('/dir/back.txt')), 'hello');
    });
  });

  describe('truncate', () => {
    it('cuts and extends with zero bytes', async () => {
      const b = await seeded();
      await b.truncate('/dir/file.txt', 2);
      assert.equal(text(await b.readFile('/dir/file.txt')), 'he');
      await b.truncate('/dir/file.txt', 5);
      assert.deepEqual([...(await b.readFile('/dir/file.txt'))], [0x68, 0x65, 0, 0, 0]);
      await b.truncate(links ? '/link' : '/dir/file.txt', 0);
      assert.equal((await b.stat('/dir/file.txt')).size, 0);
    });

    it('fails with ENOENT and EISDIR', async () => {
      const b = await seeded();
      await rejectsWith(b.truncate('/nope', 0), 'ENOENT');
      await rejectsWith(b.truncate('/dir', 0), 'EISDIR');
    });
  });

  describe('chmod / chown / utimes', { skip: !modes && 'the store keeps no modes, owners or times' }, () => {
    it('chmod sets permission bits and keeps the type', async () => {
      const b = await seeded();
      await b.chmod('/dir/file.txt', 0o600);
      const s = await b.stat('/dir/file.txt');
      assert.equal(s.mode & 0o7777, 0o600);
      assert.equal(s.mode & S_IFMT, S_IFREG);
      await b.chmod(links ? '/link' : '/dir/file.txt', 0o640);
      assert.equal((await b.stat('/dir/file.txt')).mode & 0o777, 0o640);
      await rejectsWith(b.chmod('/nope', 0o600), 'ENOENT');
    });

    it('chown sets owner and group', async (t) => {
      const b = await seeded();
      assert.ok(b.chown);
      const uid = process.getuid?.() ?? 0;
      const gid = process.getgid?.() ?? 0;
      await b.chown('/dir/file.txt', uid, gid);
      let s = await b.stat('/dir/file.txt');
      assert.equal(s.uid, uid);
      assert.equal(s.gid, gid);
      await rejectsWith(b.chown('/nope', uid, gid), 'ENOENT');
      if (uid !== 0) {
        t.diagnostic('not root: giving a file away is not tested');
        return;
      }
      await b.chown(links ? '/link' : '/dir/file.txt', 1234, 4321);
      s = await b.stat('/dir/file.txt');
      assert.equal(s.uid, 1234);
      assert.equal(s.gid, 4321);
    });

    it('utimes takes milliseconds and stat reports them exactly (to the store\'s resolution)', async () => {
      const b = await seeded();
      const exact = (ms: number): number => Math.floor(ms / tick) * tick;
      await b.utimes('/dir/file.txt', 1_600_000_000_123, 1_700_000_000_999);
      let s = await b.stat('/dir/file.txt');
      assert.equal(s.atimeMs, exact(1_600_000_000_123));
      assert.equal(s.mtimeMs, exact(1_700_000_000_999));
      await b.utimes(links ? '/link' : '/dir/file.txt', 1_000_000_000_001, 1_000_000_000_002);
      s = await b.stat('/dir/file.txt');
      assert.equal(s.atimeMs, exact(1_000_000_000_001));
      assert.equal(s.mtimeMs, exact(1_000_000_000_002));
      // Values whose seconds (ms / 1000) are not exact in binary and once came back 1 ms short.
      for (const ms of [1_097_769_708_715, 2_174_707_339_812, 2_186_949_139_831]) {
        await b.utimes('/dir/file.txt', ms, ms);
        s = await b.stat('/dir/file.txt');
        assert.equal(s.atimeMs, exact(ms));
        assert.equal(s.mtimeMs, exact(ms));
      }
      await rejectsWith(b.utimes('/nope', 1, 2), 'ENOENT');
    });
  });

  describe('without links or modes', { skip: links && modes }, () => {
    it('refuses what the store cannot do as Node does where a file system lacks it', async () => {
      const b = await seeded();
      if (!links) {
        await rejectsWith(b.symlink('/dir/file.txt', '/l'), 'EPERM');
        await rejectsWith(b.readlink('/dir/file.txt'), 'EINVAL');
        await rejectsWith(b.lstat('/l'), 'ENOENT');
      }
      if (!modes) {
        await rejectsWith(b.chmod('/dir/file.txt', 0o600), 'EPERM');
        await rejectsWith(b.utimes('/dir/file.txt', 1000, 2000), 'EPERM');
        if (b.chown) await rejectsWith(b.chown('/dir/file.txt', 0, 0), 'EPERM');
      }
      assert.equal(text(await b.readFile('/dir/file.txt')), 'hello');
    });
  });

  describe('symlink / readlink / realpath', { skip: !links && 'the store has no links' }, () => {
    it('readlink returns the target text as written', async () => {
      const b = await seeded();
      assert.equal(await b.readlink('/link'), '/dir/file.txt');
      await b.symlink('../file.txt', '/dir/sub/rel');
      assert.equal(await b.readlink('/dir/sub/rel'), '../file.txt');
      assert.equal(text(await b.readFile('/dir/sub/rel')), 'hello');
    });

    it('fails with EEXIST, ENOENT and EINVAL', async () => {
      const b = await seeded();
      await rejectsWith(b.symlink('/x', '/dir/file.txt'), 'EEXIST');
      await rejectsWith(b.symlink('/x', '/link'), 'EEXIST');
      await rejectsWith(b.symlink('/x', '/missing/l'), 'ENOENT');
      await rejectsWith(b.readlink('/nope'), 'ENOENT');
      await rejectsWith(b.readlink('/dir/file.txt'), 'EINVAL');
    });

    it('realpath resolves links, relative ones and chains', async () => {
      const b = await seeded();
      assert.ok(b.realpath);
      await b.symlink('sub', '/dir/sublink');
      await b.symlink('/dir/sublink', '/chain');
      await b.writeFile('/dir/sub/deep.txt', bytes('deep'));
      assert.equal(await b.realpath('/link'), '/dir/file.txt');
      assert.equal(await b.realpath('/chain/deep.txt'), '/dir/sub/deep.txt');
      assert.equal(await b.realpath('/dir'), '/dir');
      assert.equal(await b.realpath('/'), '/');
      assert.equal(text(await b.readFile('/chain/deep.txt')), 'deep');
      await rejectsWith(b.realpath('/nope'), 'ENOENT');
      await rejectsWith(b.realpath('/dir/nope'), 'ENOENT');
      await b.symlink('/nowhere', '/dangling');
      await rejectsWith(b.realpath('/dangling'), 'ENOENT');
    });

    it('a link loop fails with ELOOP', async () => {
      const b = await make();
      await b.symlink('/loop2', '/loop1');
      await b.symlink('/loop1', '/loop2');
      await rejectsWith(b.stat('/loop1'), 'ELOOP');
      await rejectsWith(b.readFile('/loop1'), 'ELOOP');
    });
  });

  describe('read / write (positional)', () => {
    it('read copies from a position into an offset of the buffer', async () => {
      const b = await seeded();
      assert.ok(b.read);
      const into = new Uint8Array(8).fill(0xee);
      assert.equal(await b.read('/dir/file.txt', into, 2, 3, 1), 3);
      assert.deepEqual([...into], [0xee, 0xee, 0x65, 0x6c, 0x6c, 0xee, 0xee, 0xee]);
      assert.equal(await b.read('/dir/file.txt', into, 0, 8, 3), 2);
      assert.equal(text(into.subarray(0, 2)), 'lo');
      assert.equal(await b.read('/dir/file.txt', into, 0, 8, 5), 0);
      assert.equal(await b.read('/dir/file.txt', into, 0, 8, 1000), 0);
      assert.equal(await b.read(links ? '/link' : '/dir/file.txt', into, 0, 1, 0), 1);
      assert.equal(into[0], 0x68);
    });

    it('read fails with ENOENT and EISDIR', async () => {
      const b = await seeded();
      assert.ok(b.read);
      await rejectsWith(b.read('/nope', new Uint8Array(1), 0, 1, 0), 'ENOENT');
      await rejectsWith(b.read('/dir', new Uint8Array(1), 0, 1, 0), 'EISDIR');
    });

    it('write overwrites in place and extends past the end with a zero-filled hole', async () => {
      const b = await seeded();
      assert.ok(b.write);
      await b.write('/dir/file.txt', bytes('EL'), 1);
      assert.equal(text(await b.readFile('/dir/file.txt')), 'hELlo');
      await b.write('/dir/file.txt', bytes('!'), 8);
      assert.deepEqual([...(await b.readFile('/dir/file.txt'))], [0x68, 0x45, 0x4c, 0x6c, 0x6f, 0, 0, 0, 0x21]);
      assert.equal((await b.stat('/dir/file.txt')).size, 9);
      await b.writeFile('/empty.bin', new Uint8Array(0));
      await b.write('/empty.bin', new Uint8Array([7]), 3);
      assert.deepEqual([...(await b.readFile('/empty.bin'))], [0, 0, 0, 7]);
      assert.ok(b.read);
      const into = new Uint8Array(4);
      assert.equal(await b.read('/empty.bin', into, 0, 4, 0), 4);
      assert.deepEqual([...into], [0, 0, 0, 7]);
    });

    it('write does not create files and fails with ENOENT and EISDIR', async () => {
      const b = await seeded();
      assert.ok(b.write);
      await rejectsWith(b.write('/nope', bytes('x'), 0), 'ENOENT');
      await rejectsWith(b.stat('/nope'), 'ENOENT');
      await rejectsWith(b.write('/dir', bytes('x'), 0), 'EISDIR');
    });
  });

  describe('copyFile', () => {
    it('copies content, onto an existing file too', async () => {
      const b = await seeded();
      assert.ok(b.copyFile);
      await b.copyFile('/dir/file.txt', '/copy.txt');
      assert.equal(text(await b.readFile('/copy.txt')), 'hello');
      await b.writeFile('/long.txt', bytes('a much longer content'));
      await b.copyFile('/dir/file.txt', '/long.txt');
      assert.equal(text(await b.readFile('/long.txt')), 'hello');
      await b.copyFile(links ? '/link' : '/dir/file.txt', '/from-link.txt');
      assert.equal((await b.lstat('/from-link.txt')).mode & S_IFMT, S_IFREG);
      await b.copyFile('/dir/file.txt', '/dir/file.txt');
      assert.equal(text(await b.readFile('/dir/file.txt')), 'hello');
    });

    it('COPYFILE_EXCL refuses an existing destination; errors as node:fs', async () => {
      const b = await seeded();
      assert.ok(b.copyFile);
      await b.writeFile('/exists', bytes('keep'));
      await rejectsWith(b.copyFile('/dir/file.txt', '/exists', 1), 'EEXIST');
      assert.equal(text(await b.readFile('/exists')), 'keep');
      await rejectsWith(b.copyFile('/nope', '/x'), 'ENOENT');
      await rejectsWith(b.copyFile('/dir', '/x'), 'EISDIR');
      await rejectsWith(b.copyFile('/dir/file.txt', '/empty'), 'EISDIR');
      await rejectsWith(b.copyFile('/dir/file.txt', '/missing/x'), 'ENOENT');
    });
  });
}
