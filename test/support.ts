// Small helpers shared by the write-back, journal and crash tests (not a test file itself).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend, CacheFS } from '../src/index.js';

/** Creates a real temporary directory; `cleanup()` removes every one made so far. */
export function tempDirs(): { make(prefix?: string): Promise<string>; cleanup(): Promise<void> } {
  const made: string[] = [];
  return {
    async make(prefix = 'cachefs-') {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      made.push(dir);
      return dir;
    },
    async cleanup() {
      for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Resolves with the payload of the next `event` of `cfs` for which `accept` is true. The timeout only
 * turns a hang into a failure; nothing is asserted about how long it took.
 */
export function nextEvent<T = any>(cfs: CacheFS, event: string, accept: (payload: T) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      cfs.off(event, listener);
      reject(new Error(`no '${event}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (payload: T): void => {
      if (!accept(payload)) return;
      clearTimeout(timer);
      cfs.off(event, listener);
      resolve(payload);
    };
    cfs.on(event, listener);
  });
}

/** Polls `condition` (each event-loop turn, then every 5 ms) until it holds; fails after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The bytes a file has after writing `data` at `position` of `current` (holes are zeros), as POSIX does. */
export function writeAtModel(current: Buffer, position: number, data: Uint8Array): Buffer {
  const next = Buffer.alloc(Math.max(current.length, position + data.length));
  current.copy(next);
  next.set(data, position);
  return next;
}

/** The bytes a file has after truncating `current` to `length` (extending with zeros). */
export function truncateModel(current: Buffer, length: number): Buffer {
  const next = Buffer.alloc(length);
  current.copy(next, 0, 0, Math.min(length, current.length));
  return next;
}

/** A small deterministic PRNG (mulberry32), so a failing run can be reproduced from its seed. */
export { prng } from '../bench/traces.js';

/** A backend file's content as latin1 text, or undefined when it does not exist. */
export async function backendText(backend: Backend, path: string): Promise<string | undefined> {
  try {
    return Buffer.from(await backend.readFile(path)).toString('latin1');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw err;
  }
}
