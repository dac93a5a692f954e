// Shared by the coherence tests: real temp directories, changes made by a separate process, and waiting
// for the cache's own events (with a timeout only as a failure guard).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, utimes, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CacheFS } from '../../src/index.js';

/** A fresh directory under the OS temp dir; `cleanup()` removes it. */
export async function tempRoot(): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'cachefs-'));
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** A time safely outside the racy window (so that a loaded entry records its identity). */
export const LONG_AGO = new Date(Date.now() - 3_600_000);

/**
 * Writes `files` (virtual path → content) below `root`, dated {@link LONG_AGO}: the cache can vouch for
 * such files by their identity right away.
 */
export async function seed(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const disk = join(root, path);
    await mkdir(dirname(disk), { recursive: true });
    await writeFile(disk, content);
    await utimes(disk, LONG_AGO, LONG_AGO);
  }
}

/**
 * Runs `body` (JavaScript with `fs` and `path` in scope and `root` bound to `root`) in a separate Node
 * process: the cache sees the disk change behind its back, as from another program.
 */
export function inChild(root: string, body: string): Promise<void> {
  const script = `const fs = require('node:fs'); const path = require('node:path'); const root = ${JSON.stringify(root)};\n${body}`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script], { timeout: 30_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`child failed: ${err.message}\n${stderr}`));
      else resolve();
    });
  });
}

import { nextEvent } from '../support.js';

export { nextEvent };

/** Waits for the batches of watch events until every path of `paths` has been invalidated. */
export function invalidated(fs: CacheFS, paths: string[], guardMs = 10_000): Promise<void> {
  const missing = new Set(paths);
  return nextEvent<{ paths: string[]; overflow: boolean }>(
    fs,
    'watchInvalidate',
    (e) => {
      if (e.overflow) missing.clear();
      for (const p of e.paths) missing.delete(p);
      return missing.size === 0;
    },
    guardMs,
  ).then(() => undefined);
}
