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
};

const callbackCases: Record<string, CallbackCase> = {
  'read(fd, { buffer, position }, cb)': withFd('/a.txt', 'r', (f, fd, done) => f.read(fd, { buffer: Buffer.alloc(4), position: 1 }, done)),
  'read(fd, cb): a 16 KiB buffer of its own': withFd('/a.txt', 'r', (f, fd, done) => f.read(fd, (err, n, buf) => done(err, n, buf.length))),
  'read(fd, buffer, { position }, cb)': withFd('/a.txt', 'r', (f, fd, done) => f.read(fd, Buffer.alloc(3), { position: 2 }, done)),
};

for (const mode of WRITE_MODES) {
  describe(`descriptor forms through toNodeFs, ${mode}`, () => {
    it('answers as node:fs does', async () => {
      assert.deepEqual(await differences(mode, syncCases, callbackCases), []);
    });
  });
}
