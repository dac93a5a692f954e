import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Backend } from '../../src/backend/backend.js';
import { faultyBackend, WRITE_OPERATIONS, type FaultOperation, type WriteOperation } from '../fault-backend.js';
import { memoryBackend } from '../../src/backend/memory.js';
import { nodeBackend } from '../../src/backend/node.js';
import { bytes, rejectsWith, text } from './contract.js';

/** Lets every pending promise callback and memfs microtask run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Tracks whether a promise has settled, without letting a rejection go unhandled. */
function track<T>(promise: Promise<T>): { promise: Promise<T>; done: () => boolean } {
  let done = false;
  const observed = promise.finally(() => (done = true));
  observed.catch(() => {});
  return { promise: observed, done: () => done };
}

async function injected(promise: Promise<unknown>, code: string, path?: string): Promise<void> {
  const err = await rejectsWith(promise, code);
  assert.equal((err as { injected?: unknown }).injected, true, 'the error was injected, not the backend’s own');
  if (path !== undefined) assert.equal(err.path, path);
}

/** One call of each write operation against a backend holding /f and /d. */
function writeCalls(b: Backend): Record<WriteOperation, () => Promise<unknown>> {
  return {
    writeFile: () => b.writeFile('/f', bytes('changed')),
    write: () => b.write!('/f', bytes('X'), 0),
    truncate: () => b.truncate('/f', 0),
    rename: () => b.rename('/f', '/g'),
    unlink: () => b.unlink('/f'),
    rmdir: () => b.rmdir('/d'),
    mkdir: () => b.mkdir('/new'),
    chmod: () => b.chmod('/f', 0o600),
    utimes: () => b.utimes('/f', 1000, 1000),
    symlink: () => b.symlink('/f', '/l'),
    copyFile: () => b.copyFile!('/f', '/copy'),
    chown: () => b.chown!('/f', 1, 1),
    link: () => b.link!('/f', '/hard'),
    lchown: () => b.lchown!('/f', 1, 1),
    lutimes: () => b.lutimes!('/f', 1000, 1000),
  };
}

describe('faultyBackend', () => {
  it('passes calls through to the real backend and counts them', async () => {
    const b = faultyBackend(memoryBackend({ '/f': 'one' }), {});
    assert.equal(b.name, 'faulty(memory)');
    assert.equal(b.faults.calls.readFile, 0);
    assert.equal(text(await b.readFile('/f')), 'one');
    await b.writeFile('/f', bytes('two'));
    assert.equal(text(await b.readFile('/f')), 'two');
    await rejectsWith(b.readFile('/missing'), 'ENOENT');
    assert.equal(b.faults.calls.readFile, 3);
    assert.equal(b.faults.calls.writeFile, 1);
    assert.equal(b.faults.calls.stat, 0);
    b.faults.resetCalls();
    assert.equal(b.faults.calls.readFile, 0);
  });

  it('fails the Nth call of an operation once, without reaching the inner backend', async () => {
    const inner = memoryBackend();
    const b = faultyBackend(inner, {});
    b.faults.failNth('writeFile', 3, 'EIO');
    await b.writeFile('/a', bytes('1'));
    await b.writeFile('/b', bytes('2'));
    await injected(b.writeFile('/c', bytes('3')), 'EIO', '/c');
    await rejectsWith(inner.stat('/c'), 'ENOENT');
    await b.writeFile('/c', bytes('4'));
    assert.equal(text(await inner.readFile('/c')), '4');
    assert.equal(b.faults.calls.writeFile, 4);
  });

  it('counts N from when the rule is set; a plan counts from creation', async () => {
    const b = faultyBackend(memoryBackend({ '/f': 'x' }), { failNth: [{ op: 'readFile', n: 2, code: 'ETIMEDOUT' }] });
    await b.readFile('/f');
    await injected(b.readFile('/f'), 'ETIMEDOUT', '/f');
    await b.readFile('/f');
    b.faults.failNth('readFile', 2, 'ENOTDIR');
    await b.readFile('/f');
    await injected(b.readFile('/f'), 'ENOTDIR');
    await b.readFile('/f');
    b.faults.failNext('stat', 'EIO');
    b.faults.resetCalls(); // pending rules keep aiming at the same call
    await injected(b.stat('/f'), 'EIO');
    await b.stat('/f');
    assert.throws(() => b.faults.failNth('stat', 0, 'EIO'), RangeError);
  });

  it("when: 'after' carries the call out, then reports the failure (a lost acknowledgement)", async () => {
    const inner = memoryBackend();
    const b = faultyBackend(inner, {});
    b.faults.failNext('writeFile', 'ETIMEDOUT', 'after');
    await injected(b.writeFile('/f', bytes('landed')), 'ETIMEDOUT');
    assert.equal(text(await inner.readFile('/f')), 'landed');
  });

  it('failWrites fails every write operation, and nothing else, until heal', async () => {
    const inner = memoryBackend({ '/f': 'original' });
    await inner.mkdir('/d');
    const b = faultyBackend(inner, {});
    b.faults.failWrites('ENOSPC');
    const calls = writeCalls(b);
    for (const op of WRITE_OPERATIONS) await injected(calls[op](), 'ENOSPC');
    assert.equal(text(await b.readFile('/f')), 'original');
    assert.equal((await b.stat('/d')).size >= 0, true);
    assert.deepEqual((await b.readdir('/')).map((e) => e.name).sort(), ['d', 'f']);
    for (const op of WRITE_OPERATIONS) assert.equal(b.faults.calls[op], 1, op);

    b.faults.heal();
    await calls.writeFile();
    assert.equal(text(await inner.readFile('/f')), 'changed');
    await calls.mkdir();
    await calls.rmdir();
    assert.deepEqual((await inner.readdir('/')).map((e) => e.name).sort(), ['f', 'new']);
  });

  it('a plan can start failing writes or chosen operations; heal also drops pending Nth rules', async () => {
    const b = faultyBackend(memoryBackend({ '/f': 'x' }), {
      failWrites: 'EIO',
      failAlways: { ops: ['readdir'], code: 'ETIMEDOUT' },
    });
    await injected(b.mkdir('/d'), 'EIO');
    await injected(b.readdir('/'), 'ETIMEDOUT');
    assert.equal(text(await b.readFile('/f')), 'x');
    b.faults.failNth('readFile', 1, 'EIO');
    b.faults.heal();
    await b.mkdir('/d');
    await b.readdir('/');
    assert.equal(text(await b.readFile('/f')), 'x');
  });

  it('latency delays a call until its timer fires', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const b = faultyBackend(memoryBackend({ '/f': 'x' }), { latency: { readFile: 50 } });
    const slow = track(b.readFile('/f'));
    const fast = track(b.stat('/f'));
    await settle();
    assert.equal(fast.done(), true);
    assert.equal(slow.done(), false);
    t.mock.timers.tick(49);
    await settle();
    assert.equal(slow.done(), false);
    t.mock.timers.tick(1);
    assert.equal(text(await slow.promise), 'x');

    b.faults.latency('readFile', 0);
    const undelayed = track(b.readFile('/f'));
    await settle();
    assert.equal(undelayed.done(), true);
  });

  it("a gate holds a read's stale result while the test writes (at 'after', the default)", async () => {
    const b = faultyBackend(memoryBackend({ '/f': 'old' }), {});
    const gate = b.faults.gate('readFile');
    const read = track(b.readFile('/f'));
    await gate.reached;
    assert.equal(gate.waiting, 1);
    await b.writeFile('/f', bytes('new'));
    await settle();
    assert.equal(read.done(), false);
    gate.release();
    assert.equal(text(await read.promise), 'old');
    assert.equal(gate.waiting, 0);
    assert.equal(text(await b.readFile('/f')), 'new'); // released gates hold nothing more
  });

  it("a gate at 'before' holds the request before it reaches the backend", async () => {
    const b = faultyBackend(memoryBackend({ '/f': 'old' }), {});
    const gate = b.faults.gate('readFile', 'before');
    const read = track(b.readFile('/f'));
    await gate.reached;
    await b.writeFile('/f', bytes('new'));
    await settle();
    assert.equal(read.done(), false);
    gate.release();
    assert.equal(text(await read.promise), 'new');
  });

  it('gated calls keep their injected failure; releaseAll opens every gate', async () => {
    const b = faultyBackend(memoryBackend({ '/f': 'x' }), {});
    b.faults.failNext('readFile', 'EIO');
    const one = b.faults.gate('readFile');
    const two = b.faults.gate('stat', 'before');
    const read = track(b.readFile('/f'));
    const stat = track(b.stat('/f'));
    await Promise.all([one.reached, two.reached]);
    await settle();
    assert.equal(read.done() || stat.done(), false);
    b.faults.releaseAll();
    await injected(read.promise, 'EIO');
    assert.equal((await stat.promise).size, 1);
  });

  it('wraps only the methods the inner backend has', async () => {
    const full = memoryBackend();
    const minimal: Backend = {
      stat: (p) => full.stat(p), lstat: (p) => full.lstat(p), readFile: (p) => full.readFile(p),
      writeFile: (p, d, o) => full.writeFile(p, d, o), readdir: (p) => full.readdir(p),
      mkdir: (p, o) => full.mkdir(p, o), rmdir: (p) => full.rmdir(p), unlink: (p) => full.unlink(p),
      rename: (a, b) => full.rename(a, b), truncate: (p, l) => full.truncate(p, l),
      chmod: (p, m) => full.chmod(p, m), utimes: (p, a, m) => full.utimes(p, a, m),
      symlink: (t, p) => full.symlink(t, p), readlink: (p) => full.readlink(p),
    };
    const b = faultyBackend(minimal, {});
    const optional: (keyof Backend)[] = ['read', 'write', 'realpath', 'chown', 'copyFile', 'watch', 'close'];
    for (const method of optional) assert.equal(method in b, false, method);
    const wrappedFull = faultyBackend(full, {});
    for (const method of ['read', 'write', 'realpath', 'chown', 'copyFile'] as FaultOperation[]) {
      assert.equal(typeof (wrappedFull as unknown as Record<string, unknown>)[method], 'function', method);
    }
    assert.equal('watch' in wrappedFull, false);
    await b.writeFile('/f', bytes('x'));
    assert.equal(text(await full.readFile('/f')), 'x');
  });

  it('counts and fails the calls of an open file as the path calls they stand for; no sync face', async () => {
    const b = faultyBackend(memoryBackend({ '/f': 'open file' }), {});
    assert.ok(b.open);
    assert.equal(b.sync, undefined, 'a sync call could not be delayed or failed as planned');
    const file = await b.open('/f', 'r+');
    assert.equal(b.faults.calls.open, 1);
    const into = new Uint8Array(4);
    b.faults.failNext('read', 'EIO');
    await injected(file.read(into, 0, 4, 0), 'EIO', '/f');
    assert.equal(await file.read(into, 0, 4, 0), 4);
    assert.equal(text(into), 'open');
    assert.equal(b.faults.calls.read, 2);
    assert.ok(file.write && file.truncate);
    b.faults.failNext('write', 'ENOSPC', 'after');
    await injected(file.write(bytes('O'), 0, 1, 0), 'ENOSPC', '/f');
    assert.equal(text(await b.readFile('/f')), 'Open file', "an 'after' fault: the write happened");
    b.faults.failNext('stat', 'EIO');
    await injected(file.stat(), 'EIO', '/f');
    assert.equal((await file.stat()).size, 9);
    await file.close();
    b.faults.failNext('open', 'EACCES');
    await injected(b.open('/f', 'r'), 'EACCES', '/f');
  });

  describe('around nodeBackend', () => {
    let tmp: string;
    before(async () => {
      tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'cachefs-'));
    });
    after(async () => {
      await fsp.rm(tmp, { recursive: true, force: true });
    });

    it('injects into real disk calls and passes watch through', async () => {
      await fsp.writeFile(path.join(tmp, 'f'), 'disk');
      const b = faultyBackend(nodeBackend(tmp), {});
      assert.equal(b.name, 'faulty(node)');
      assert.equal(typeof b.watch, 'function');
      b.faults.failNext('writeFile', 'ENOSPC');
      await injected(b.writeFile('/new', bytes('x')), 'ENOSPC', '/new');
      await rejectsWith(fsp.stat(path.join(tmp, 'new')), 'ENOENT');
      b.faults.failNth('read', 2, 'EIO');
      const into = new Uint8Array(4);
      assert.ok(b.read);
      assert.equal(await b.read('/f', into, 0, 4, 0), 4);
      await injected(b.read('/f', into, 0, 4, 0), 'EIO');
      assert.equal(text(into), 'disk');
      await b.close?.();
      assert.equal(b.faults.calls.close, 1);
    });
  });
});
