// Descriptor calls in the forms Node accepts beyond (fd, buffer, offset, length, position), through the
// drop-in and through node:fs on twin trees, in every write mode: same values, same errors.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { differences, type CallbackCase, type Fs, type SyncCase } from './compare.js';
import { WRITE_MODES } from './trees.js';

type Cb = (err: unknown, ...values: unknown[]) => void;

/** Opens `rel` with `flags`, runs `use` on the descriptor, closes it, and calls back with `use`'s result. */
const withFd = (rel: string, flags: string, use: (f: Fs, fd: number, done: Cb) => void): CallbackCase => (f, b, cb) =>
  f.open(b + rel, flags, (err, fd) => {
    if (err) return cb(err);
    use(f, fd, (useErr, ...values) => f.close(fd, () => cb(useErr, ...values)));
  });

const syncCases: Record<string, SyncCase> = {
  'readSync with an options object': (f, b) => {
    const fd = f.openSync(b + '/a.txt', 'r');
    const buf = Buffer.alloc(10);
    const out = [f.readSync(fd, buf, { position: 1 }), f.readSync(fd, buf, { offset: 5, length: 2 }), buf];
    f.closeSync(fd);
    return out;
  },
  'fstatSync bigint': (f, b) => {
    const fd = f.openSync(b + '/a.txt', 'r');
    const st = f.fstatSync(fd, { bigint: true });
    f.closeSync(fd);
    return [typeof st.size, st.size, typeof st.mtimeNs];
  },
  'readvSync and writevSync, at a position and at the file position': (f, b) => {
    const fd = f.openSync(b + '/v.txt', 'w+');
    const written = [f.writevSync(fd, [Buffer.from('ab'), new Uint8Array([99, 100])]), f.writevSync(fd, [Buffer.from('XY')], 1)];
    const into = [Buffer.alloc(2), Buffer.alloc(10)];
    const read = [f.readvSync(fd, into, 0), f.readvSync(fd, [Buffer.alloc(3)])];
    f.closeSync(fd);
    return [written, read, into, f.readFileSync(b + '/v.txt', 'utf8')];
  },
  'fchmodSync, futimesSync, fchownSync, fdatasyncSync': (f, b) => {
    const fd = f.openSync(b + '/a.txt', 'r+');
    f.fchmodSync(fd, 0o600);
    f.futimesSync(fd, 5, new Date(7000));
    f.fchownSync(fd, process.getuid!(), process.getgid!());
    f.fdatasyncSync(fd);
    f.closeSync(fd);
    const st = f.statSync(b + '/a.txt');
    return [(st.mode & 0o777).toString(8), st.atimeMs, st.mtimeMs];
  },
  'errors of descriptor calls name no path': (f, b) => {
    const out: unknown[] = [];
    const fd = f.openSync(b + '/d', 'r');
    const wo = f.openSync(b + '/w.txt', 'w');
    const ro = f.openSync(b + '/a.txt', 'r');
    for (const call of [() => f.readSync(fd, Buffer.alloc(2)), () => f.readSync(wo, Buffer.alloc(2)), () => f.writeSync(ro, 'x'), () => f.ftruncateSync(ro, 1)]) {
      try {
        out.push(call());
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        out.push([e.code, e.syscall, e.path, e.message]);
      }
    }
    for (const n of [fd, wo, ro]) f.closeSync(n);
    try {
      f.fchmodSync(ro, 0o600);
    } catch (err) {
      out.push((err as Error).message);
    }
    return out;
  },
};

const callbackCases: Record<string, CallbackCase> = {
  'read(fd, { buffer, position }, cb)': withFd('/a.txt', 'r', (f, fd, done) => f.read(fd, { buffer: Buffer.alloc(4), position: 1 }, done)),
  'read(fd, cb): a 16 KiB buffer of its own': withFd('/a.txt', 'r', (f, fd, done) => f.read(fd, (err, n, buf) => done(err, n, buf.length))),
  'read(fd, buffer, { position }, cb)': withFd('/a.txt', 'r', (f, fd, done) => f.read(fd, Buffer.alloc(3), { position: 2 }, done)),
  'fstat(fd, { bigint: true }, cb)': withFd('/a.txt', 'r', (f, fd, done) => f.fstat(fd, { bigint: true }, (err, st) => done(err, typeof st?.size))),
  'readv(fd, buffers, cb)': withFd('/a.txt', 'r', (f, fd, done) => f.readv(fd, [Buffer.alloc(2), Buffer.alloc(5)], done)),
  'readv(fd, buffers, position, cb)': withFd('/a.txt', 'r', (f, fd, done) => f.readv(fd, [Buffer.alloc(2), Buffer.alloc(1)], 2, done)),
  'writev then readFile': withFd('/wv.txt', 'w', (f, fd, done) => f.writev(fd, [Buffer.from('ab'), Buffer.from('cd')], (err, n) => done(err, n))),
  'writev at a position': withFd('/wv.txt', 'r+', (f, fd, done) => f.writev(fd, [Buffer.from('Z')], 3, (err, n) => done(err, n))),
  'fchmod, futimes, fchown, fdatasync': (f, b, cb) => withFd('/wv.txt', 'r', (_, fd, done) =>
    f.fchmod(fd, 0o640, (e1) => f.futimes(fd, 9, 9, (e2) => f.fchown(fd, process.getuid!(), process.getgid!(), (e3) => f.fdatasync(fd, (e4) => {
      const st = f.statSync(b + '/wv.txt');
      done(e1 ?? e2 ?? e3 ?? e4, (st.mode & 0o777).toString(8), st.mtimeMs);
    })))))(f, b, cb),
  'write on a read-only descriptor': withFd('/a.txt', 'r', (f, fd, done) => f.write(fd, 'x', done)),
  'read on a write-only descriptor': withFd('/wv.txt', 'w', (f, fd, done) => f.read(fd, Buffer.alloc(2), 0, 2, 0, done)),
  'read of a directory': withFd('/d', 'r', (f, fd, done) => f.read(fd, Buffer.alloc(2), 0, 2, 0, done)),
  'ftruncate on a read-only descriptor': withFd('/a.txt', 'r', (f, fd, done) => f.ftruncate(fd, 1, done)),
  'fchmod, readv, fdatasync of a closed descriptor': (f, b, cb) => f.open(b + '/a.txt', 'r', (err, fd) => {
    if (err) return cb(err);
    f.closeSync(fd);
    f.fchmod(fd, 0o600, (e1) => f.readv(fd, [Buffer.alloc(1)], (e2) => f.fdatasync(fd, (e3) => cb(null, [e1, e2, e3].map((e) => (e as Error).message)))));
  }),
};

for (const mode of WRITE_MODES) {
  describe(`descriptor forms through toNodeFs, ${mode}`, () => {
    it('answers as node:fs does', async () => {
      assert.deepEqual(await differences(mode, syncCases, callbackCases), []);
    });
  });
}
