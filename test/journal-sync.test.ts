// journalSync: a write-back write resolves only after its journal record was written AND fdatasync'd.
// A SIGKILL test cannot see a missing fdatasync (the page cache survives the process), so this watches
// the calls the journal makes: node:fs's writev and fdatasync are wrapped (the real calls still run, on
// a real temporary directory) before cachefs is loaded, since the journal takes them at module load.
// This file imports cachefs only dynamically, after the wrapping, for that reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { tempDirs } from './support.js';

type Call = { call: 'writev' | 'fdatasync'; fd: number; done: boolean };
const calls: Call[] = [];
const fs = createRequire(import.meta.url)('node:fs') as Record<string, unknown>;
for (const name of ['writev', 'fdatasync'] as const) {
  const real = fs[name] as (...args: unknown[]) => void;
  fs[name] = function spied(this: unknown, ...args: unknown[]): void {
    const entry: Call = { call: name, fd: args[0] as number, done: false };
    calls.push(entry);
    const cb = args.at(-1) as (...r: unknown[]) => void;
    real.apply(this, [...args.slice(0, -1), (...r: unknown[]) => ((entry.done = true), cb(...r))]);
  };
}
syncBuiltinESMExports();
const { CacheFS, memoryBackend } = await import('../src/index.js');

const dirs = tempDirs();
test.after(() => dirs.cleanup());

/** True when every journal writev finished before `at` is followed, also before `at`, by a finished fdatasync of its fd. */
function everyWriteSynced(log: Call[]): boolean {
  return log.every((c, i) => c.call !== 'writev' || log.slice(i + 1).some((d) => d.call === 'fdatasync' && d.fd === c.fd && d.done));
}

test('journalSync: each write-back write resolves after its record was written and fdatasync\'d', async () => {
  const journal = await dirs.make();
  // The backend is in memory, so every writev and fdatasync seen here is the journal's.
  const cfs = new CacheFS(memoryBackend({ '/f': 'x' }), { writeMode: 'write-back', journal, journalSync: true, flushInterval: 0 });
  await cfs.ready();
  calls.length = 0;
  for (let i = 0; i < 5; i++) {
    const from = calls.length;
    await cfs.writeFile('/f', `version ${i}`);
    const during = calls.slice(from).map((c) => ({ ...c }));
    assert.ok(during.some((c) => c.call === 'writev'), `write ${i} appended a record`);
    assert.ok(everyWriteSynced(during), `write ${i}: ${JSON.stringify(during)}`);
  }
  // Concurrent writes (group commit): each resolves only after a writev that started after it was issued
  // (its record's, or a later batch's) was followed by a finished fdatasync. Which writev holds which
  // record cannot be seen from here, so this is the strongest check that is sound under concurrency.
  await Promise.all(
    Array.from({ length: 8 }, async (_, i) => {
      const from = calls.length;
      await cfs.writeFile(`/g${i}`, `g ${i}`);
      const during = calls.slice(from);
      const synced = during.some((w, j) => w.call === 'writev' && w.done && during.slice(j + 1).some((d) => d.call === 'fdatasync' && d.fd === w.fd && d.done));
      assert.ok(synced, `concurrent write ${i}: ${JSON.stringify(during)}`);
    }),
  );
  await cfs.close();
});

test('without journalSync the journal does not fdatasync each append (the spy sees the difference)', async () => {
  const journal = await dirs.make();
  const cfs = new CacheFS(memoryBackend({ '/f': 'x' }), { writeMode: 'write-back', journal, flushInterval: 0 });
  await cfs.ready();
  calls.length = 0;
  for (let i = 0; i < 5; i++) await cfs.writeFile('/f', `version ${i}`);
  assert.equal(calls.filter((c) => c.call === 'fdatasync').length, 0);
  await cfs.close();
});
