// Shared by the conformance tests (not a test file): runs the same call on node:fs over a real directory
// and on the drop-in over a twin directory, and reduces what each gave (a value, a thrown error, what
// reached the callback) to a plain shape with the real root taken out, so the two can be compared whole.
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { tempDirs } from '../support.js';
import { dropIn, writeTree } from './trees.js';
import type { WriteMode } from '../../src/index.js';

export type Fs = typeof nodeFs;
/** `b` is the base to put before a path: the real root for node:fs, '' for the drop-in (rooted there). */
export type SyncCase = (f: Fs, b: string) => unknown;
export type CallbackCase = (f: Fs, b: string, cb: (err: unknown, ...values: unknown[]) => void) => void;

const strip = (s: unknown, root: string): unknown => (typeof s === 'string' && root !== '' ? s.split(root).join('') : s);

/** A value reduced to what a program could observe, with `root` taken out of strings. */
export function shape(v: unknown, root: string): unknown {
  if (Buffer.isBuffer(v)) return { buffer: strip(v.toString('latin1'), root) };
  if (typeof v === 'string') return strip(v, root);
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v)) return v.map((x) => shape(x, root));
  if (v instanceof URL) return { url: strip(v.href, root) };
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown> & { isFile?: () => boolean; isDirectory?: () => boolean; isSymbolicLink?: () => boolean };
    if (typeof o.isFile === 'function' && 'name' in o) {
      return { dirent: shape(o.name, root), parentPath: shape(o.parentPath, root), file: o.isFile(), dir: o.isDirectory!(), link: o.isSymbolicLink!() };
    }
    if (typeof o.isFile === 'function') {
      return { stats: typeof o.size, size: shape(o.size, root), file: o.isFile(), dir: o.isDirectory!(), link: o.isSymbolicLink!(), ns: typeof o.mtimeNs };
    }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(o).sort()) out[k] = shape(o[k], root);
    return out;
  }
  return v;
}

/** An error reduced to what programs test: code, errno, syscall, path, dest, message and name. */
export function errorOf(e: unknown, root: string): Record<string, unknown> {
  const err = e as NodeJS.ErrnoException & { dest?: string };
  return { code: err.code, errno: err.errno, syscall: err.syscall, path: strip(err.path, root), dest: strip(err.dest, root), message: strip(err.message, root), name: err.name };
}

function runSync(call: SyncCase, f: Fs, b: string): unknown {
  try {
    return { value: shape(call(f, b), b) };
  } catch (err) {
    return { thrown: errorOf(err, b) };
  }
}

let onUncaught: ((err: unknown) => void) | undefined;

function runCallback(call: CallbackCase, f: Fs, b: string): Promise<unknown> {
  return new Promise((resolve) => {
    let calls = 0;
    // A callback form must not throw an fs error out of a later tick: that would end a real program.
    onUncaught = (err) => resolve({ uncaught: errorOf(err, b) });
    try {
      call(f, b, (err, ...values) => {
        if (++calls > 1) return resolve({ calledTwice: true });
        resolve(err ? { passed: errorOf(err, b) } : { values: shape(values, b) });
      });
    } catch (err) {
      resolve({ thrown: errorOf(err, b) });
    }
  });
}

/** The cases whose outcome through the drop-in differs from node:fs's: [name, node's, the drop-in's]. */
export async function differences(mode: WriteMode, sync: Record<string, SyncCase>, callbacks: Record<string, CallbackCase> = {}) {
  const dirs = tempDirs();
  const twin = await dirs.make();
  const mineRoot = await dirs.make();
  for (const r of [twin, mineRoot]) {
    writeTree(r, { 'a.txt': 'alpha', 'd/b.txt': 'bravo', 'd/e/c.txt': 'charlie' });
    nodeFs.symlinkSync('a.txt', join(r, 'link'));
    nodeFs.symlinkSync('d', join(r, 'dlink'));
  }
  const mine = dropIn(mineRoot, mode);
  const f = mine.fs as unknown as Fs;
  const found: [string, unknown, unknown][] = [];
  const listener = (err: unknown) => onUncaught?.(err);
  process.on('uncaughtException', listener);
  try {
    for (const [name, call] of Object.entries(sync)) {
      const want = runSync(call, nodeFs, twin);
      const got = runSync(call, f, '');
      if (JSON.stringify(want) !== JSON.stringify(got)) found.push([name, want, got]);
    }
    for (const [name, call] of Object.entries(callbacks)) {
      const want = await runCallback(call, nodeFs, twin);
      const got = await runCallback(call, f, '');
      if (JSON.stringify(want) !== JSON.stringify(got)) found.push([name, want, got]);
    }
  } finally {
    process.off('uncaughtException', listener);
    await mine.cache.close();
    await dirs.cleanup();
  }
  return found;
}

/** A URL for `rel` below base `b` (a `file:` URL of the cache's path on the drop-in's side). */
export const urlOf = (b: string, rel: string): URL => new URL(`file://${b}${rel}`);
/** A Buffer path for `rel` below base `b`. */
export const bufferOf = (b: string, rel: string): Buffer => Buffer.from(b + rel);
