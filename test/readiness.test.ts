// Readiness: with a journal, every public call made before ready() waits until the journal of the
// process that died has been replayed, so that no call reads, writes, loads or drops anything the replay
// is about to change. The journal is left by a real child process killed with SIGKILL; the replay is held
// at its first backend write (a gate of the fault-injecting wrapper around the real disk backend) while
// each call family is made, and the backend's call counters show that nothing of the call ran meanwhile.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CacheFS, nodeBackend } from '../src/index.js';
import { faultyBackend, type FaultGate, type FaultOperation } from './fault-backend.js';
import { tempDirs } from './support.js';

const WRITER = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'journal-writer.js');
const dirs = tempDirs();
after(() => dirs.cleanup());

const FILES = ['/r', '/h', '/w', '/m', '/p', '/b'];

/**
 * A disk whose files hold `old <name>` while the journal of a killed writer holds `new <name>` for each;
 * and a cache opened on them whose replay is held at its first backend write.
 */
async function crashedCache(): Promise<{ cfs: CacheFS; root: string; faults: ReturnType<typeof faultyBackend>['faults']; gates: FaultGate[] }> {
  const root = await dirs.make('cachefs-ready-root-');
  const journal = join(await dirs.make('cachefs-ready-journal-'), 'journal');
  for (const f of FILES) await writeFile(join(root, f), `old ${f}`);
  const child = fork(WRITER, [root, journal, ...FILES.map((f) => `${f}=new ${f}`)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m) => m === 'written' && resolve());
    void exited.then((code) => reject(new Error(`the writer exited (${code}) before it had written`)));
  });
  child.kill('SIGKILL');
  assert.equal(await exited, null, 'the writer was killed');
  for (const f of FILES) assert.equal(await readFile(join(root, f), 'utf8'), `old ${f}`, 'nothing was flushed before the kill');

  const backend = faultyBackend(nodeBackend(root));
  const gates = (['write', 'writeFile', 'truncate'] as FaultOperation[]).map((op) => backend.faults.gate(op, 'before'));
  const cfs = new CacheFS(backend, { writeMode: 'write-back', journal, flushInterval: 0 });
  await Promise.race(gates.map((g) => g.reached));
  return { cfs, root, faults: backend.faults, gates };
}

/** Lets the event loop turn a few times: long enough for any call that did not wait to reach the backend. */
async function turns(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Makes `calls` while the replay is held, checks that none of them reached the backend or settled, then lets the replay go. */
async function madeBeforeReady<T>(setup: Awaited<ReturnType<typeof crashedCache>>, calls: () => Promise<T>[]): Promise<T[]> {
  const { faults, gates } = setup;
  faults.resetCalls();
  let settled = 0;
  const made = calls();
  for (const p of made) p.then(() => settled++, () => settled++);
  await turns();
  const reached = Object.entries(faults.calls).filter(([, n]) => n > 0);
  assert.deepEqual(reached, [], 'no call reached the backend while the replay was held');
  assert.equal(settled, 0, 'no call settled before the replay ended');
  for (const g of gates) g.release();
  const results = await Promise.all(made);
  await setup.cfs.ready();
  return results;
}

describe('every call made before ready() waits for the replay of a killed process’s journal', () => {
  test('reads: readFile, stat and a handle see the replayed bytes', async () => {
    const setup = await crashedCache();
    const { cfs } = setup;
    const [text, st, handleText] = await madeBeforeReady<unknown>(setup, () => [
      cfs.readFile('/r', 'utf8'),
      cfs.stat('/r'),
      cfs.open('/h', 'r').then(async (h) => {
        try {
          return (await h.readFile('utf8')) as string;
        } finally {
          await h.close();
        }
      }),
    ]);
    assert.equal(text, 'new /r');
    assert.equal((st as { size: number }).size, 'new /r'.length);
    assert.equal(handleText, 'new /h');
    await cfs.close();
  });

  test('writes: a writeFile made before ready() lands after the replay, not under it', async () => {
    const setup = await crashedCache();
    const { cfs, root } = setup;
    await madeBeforeReady(setup, () => [cfs.writeFile('/w', 'after the crash')]);
    assert.equal(await cfs.readFile('/w', 'utf8'), 'after the crash');
    await cfs.close();
    assert.equal(await readFile(join(root, '/w'), 'utf8'), 'after the crash', 'the replay did not overwrite the later write');
  });

  test('warming: a warm made before ready() installs the replayed bytes, never the pre-crash ones', async () => {
    const setup = await crashedCache();
    const { cfs, root } = setup;
    const [progress] = await madeBeforeReady(setup, () => [cfs.warm(['/m'])]);
    assert.equal(progress!.completed, 1);
    assert.equal(cfs.batchStats(['/m']).get('/m')!.cached, true, 'the warm loaded the file');
    assert.equal(await cfs.readFile('/m', 'utf8'), 'new /m');
    assert.equal(await readFile(join(root, '/m'), 'utf8'), 'new /m');
    await cfs.close();
  });

  test('prefetch: a prefetch made before ready() loads the replayed bytes', async () => {
    const setup = await crashedCache();
    const { cfs } = setup;
    const [result] = await madeBeforeReady(setup, () => [cfs.prefetch(['/p'])]);
    assert.deepEqual(result, { loaded: 1, failed: [] });
    const hits = cfs.stats().hits;
    assert.equal(await cfs.readFile('/p', 'utf8'), 'new /p');
    assert.equal(cfs.stats().hits, hits + 1, 'served from what the prefetch loaded');
    await cfs.close();
  });

  test('batch calls: batchFlush and batchInvalidate made before ready() run after the replay', async () => {
    const setup = await crashedCache();
    const { cfs, root } = setup;
    const [, dropped] = await madeBeforeReady<unknown>(setup, () => [cfs.batchFlush(['/b']), cfs.batchInvalidate(['/b'])]);
    assert.equal(dropped, 0, 'nothing of /b was cached when the batch ran');
    assert.equal(await cfs.readFile('/b', 'utf8'), 'new /b');
    assert.equal(await readFile(join(root, '/b'), 'utf8'), 'new /b');
    await cfs.close();
  });
});

/** Calls that do not wait, by design: ready() itself, close() (it must run after a failed replay), metrics. */
const IMMEDIATE = new Set(['constructor', 'ready', 'close', 'exportPrometheus']);

/** The methods the facade's declarations (emitted next to the compiled code) mark private or protected. */
function hiddenMethods(): Set<string> {
  const names = new Set<string>();
  for (const file of ['cachefs', 'cache-control']) {
    const declared = readFileSync(new URL(`../src/fs/${file}.d.ts`, import.meta.url), 'utf8');
    for (const m of declared.matchAll(/^\s+(?:private|protected)\s+(?:readonly\s+)?(\w+)/gm)) names.add(m[1]!);
  }
  return names;
}

test('every other public call of CacheFS that returns a promise waits too (a guard for calls added later)', async () => {
  const setup = await crashedCache();
  const { cfs } = setup;
  const hidden = hiddenMethods();
  const names = new Set<string>();
  for (let proto = Object.getPrototypeOf(cfs); proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const d = Object.getOwnPropertyDescriptor(proto, name)!;
      if (typeof d.value === 'function' && !IMMEDIATE.has(name) && !hidden.has(name)) names.add(name);
    }
  }
  const waited: string[] = [];
  await madeBeforeReady(setup, () => {
    const calls: Promise<unknown>[] = [];
    for (const name of names) {
      const fn = (cfs as unknown as Record<string, (...args: unknown[]) => unknown>)[name]!;
      let result: unknown;
      try {
        result = fn.call(cfs, '/r', '/r-copy', 0);
      } catch {
        continue; // answered (here: refused) at once, without the backend: a synchronous call
      }
      if (!(result instanceof Promise)) continue;
      waited.push(name);
      calls.push(result.then(() => undefined, () => undefined));
    }
    return calls;
  });
  assert.ok(waited.length >= 30, `the asynchronous public calls were found (${waited.join(', ')})`);
  await cfs.close().catch(() => undefined);
});
