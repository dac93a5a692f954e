// What reaches a callback, argument by argument, against node:fs on a twin tree in every write mode: a
// call with no result calls back with the error slot alone (programs that pass `...args` on, or count
// them, see the difference), and the errors of rm's own checks are SystemErrors by name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { differences, type CallbackCase, type SyncCase } from './compare.js';
import { WRITE_MODES } from './trees.js';

const callbackCases: Record<string, CallbackCase> = {
  'writeFile': (f, b, cb) => f.writeFile(b + '/w.txt', 'w', cb),
  'appendFile': (f, b, cb) => f.appendFile(b + '/w.txt', '+', cb),
  'mkdir': (f, b, cb) => f.mkdir(b + '/m', cb),
  'mkdir recursive, new': (f, b, cb) => f.mkdir(b + '/m/n/o', { recursive: true }, cb),
  'mkdir recursive, existing': (f, b, cb) => f.mkdir(b + '/m/n', { recursive: true }, cb),
  'copyFile': (f, b, cb) => f.copyFile(b + '/w.txt', b + '/w2.txt', cb),
  'rename': (f, b, cb) => f.rename(b + '/w2.txt', b + '/w3.txt', cb),
  'truncate': (f, b, cb) => f.truncate(b + '/w3.txt', 1, cb),
  'chmod': (f, b, cb) => f.chmod(b + '/w3.txt', 0o600, cb),
  'utimes': (f, b, cb) => f.utimes(b + '/w3.txt', 1, 2, cb),
  'access': (f, b, cb) => f.access(b + '/w3.txt', cb),
  'symlink': (f, b, cb) => f.symlink('w3.txt', b + '/sl', cb),
  'lutimes': (f, b, cb) => f.lutimes(b + '/sl', 1, 2, cb),
  'lchown': (f, b, cb) => f.lchown(b + '/sl', process.getuid!(), process.getgid!(), cb),
  'link': (f, b, cb) => f.link(b + '/w3.txt', b + '/hard', cb),
  'unlink': (f, b, cb) => f.unlink(b + '/hard', cb),
  'cp': (f, b, cb) => f.cp(b + '/d', b + '/dc', { recursive: true }, cb),
  'rm': (f, b, cb) => f.rm(b + '/dc', { recursive: true }, cb),
  'rmdir': (f, b, cb) => f.rmdir(b + '/m/n/o', cb),
  'rmdir recursive of a link to a directory': (f, b, cb) => {
    f.symlinkSync('d', b + '/dl2');
    f.rmdir(b + '/dl2', { recursive: true }, (err) => cb(err, f.existsSync(b + '/dl2'), f.existsSync(b + '/d/b.txt')));
  },
  'rmdir recursive of a directory': (f, b, cb) => {
    f.mkdirSync(b + '/r/s', { recursive: true });
    f.rmdir(b + '/r', { recursive: true }, (err) => cb(err, f.existsSync(b + '/r')));
  },
  // util.promisify honours Node's own answers for these: a boolean for exists, both results for the others.
  'promisify(exists), promisify(read), promisify(write), promisify(readv), promisify(writev)': (f, b, cb) => {
    (async () => {
      const fd = f.openSync(b + '/d/b.txt', 'r+');
      const out = [await promisify(f.exists)(b + '/d/b.txt'), await promisify(f.exists)(b + '/nope'),
        await promisify(f.read)(fd, Buffer.alloc(3), 0, 3, 0), await promisify(f.write)(fd, Buffer.from('B'), 0, 1, 0),
        await promisify(f.readv)(fd, [Buffer.alloc(2)], 0), await promisify(f.writev)(fd, [Buffer.from('!')], 5)];
      f.closeSync(fd);
      return out;
    })().then((out) => cb(null, out), cb);
  },
  'rm of a directory without recursive': (f, b, cb) => f.rm(b + '/d', (err) => cb(null, (err as Error).name, String(err))),
  'cp of a directory without recursive': (f, b, cb) => f.cp(b + '/d', b + '/x', (err) => cb(null, (err as Error).name, String(err))),
};

// Node's realpath walks the path an lstat at a time: a failure names lstat and the first part that failed.
const missing = ['/d/nope/x/y', '/a.txt/x', '/nope', '/dlink/nope/x', '/d/e/c.txt', '/dangling/x'];
callbackCases['a dangling link, for realpath below'] = (f, b, cb) => f.symlink('gone', b + '/dangling', cb);
for (const p of missing) {
  callbackCases[`realpath of ${p}`] = (f, b, cb) => f.realpath(b + p, cb);
  callbackCases[`realpath.native of ${p}`] = (f, b, cb) => f.realpath.native(b + p, cb);
}

// Listing names recursively, Node 20 walks below a link to a directory (not with file types, nor a dangling one).
callbackCases['readdir recursive over links'] = (f, b, cb) => {
  f.symlinkSync('gone', b + '/d/dangling');
  f.readdir(b + '/', { recursive: true }, (err, names) => cb(err, (names as string[]).sort()));
};
callbackCases['readdir recursive with file types over links'] = (f, b, cb) =>
  f.readdir(b + '/', { recursive: true, withFileTypes: true }, (err, entries) => cb(err, (entries as unknown as { name: string; parentPath: string }[]).map((e) => `${e.parentPath}/${e.name}`).sort()));
callbackCases['promises.readdir recursive over links'] = (f, b, cb) => {
  f.promises.readdir(b + '/', { recursive: true }).then((names) => cb(null, names.sort()), cb);
};

const syncCases: Record<string, SyncCase> = {
  'readdirSync recursive over links': (f, b) => f.readdirSync(b + '/', { recursive: true }).sort(),
  'readdirSync recursive with file types over links': (f, b) => f.readdirSync(b + '/', { recursive: true, withFileTypes: true }).map((e) => `${e.parentPath}/${e.name}`).sort(),
  ...Object.fromEntries(missing.flatMap((p) => [
    [`realpathSync of ${p}`, (f: typeof import('node:fs'), b: string) => f.realpathSync(b + p)],
    [`realpathSync.native of ${p}`, (f: typeof import('node:fs'), b: string) => f.realpathSync.native(b + p)],
  ])),
  'rmSync of a directory without recursive': (f, b) => {
    try {
      f.rmSync(b + '/d');
    } catch (err) {
      return [(err as Error).name, String(err).split(b).join('')];
    }
  },
};

for (const mode of WRITE_MODES) {
  describe(`callback forms through toNodeFs, ${mode}`, () => {
    it('call back with what node:fs calls back with, argument by argument', async () => {
      assert.deepEqual(await differences(mode, syncCases, callbackCases), []);
    });
  });
}
