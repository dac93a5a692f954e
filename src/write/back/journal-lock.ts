import * as fs from 'node:fs';
import { join } from 'node:path';
import { FsError, hasCode } from '../../errors.js';

const LOCK_FILE = 'LOCK';

/** Errors of the journal itself, with a `code` a program can test. */
export class JournalError extends Error {
  constructor(
    readonly code: 'ERR_CACHEFS_JOURNAL_LOCKED' | 'ERR_CACHEFS_JOURNAL_CORRUPT' | 'ERR_CACHEFS_JOURNAL_REPLAY',
    message: string,
    readonly path: string,
    options?: { cause?: unknown; errors?: unknown[] },
  ) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'JournalError';
    if (options?.errors) (this as { errors?: unknown[] }).errors = options.errors;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return hasCode(err) && err.code === 'EPERM';
  }
}

/** Takes the journal's lock file, or fails with `ERR_CACHEFS_JOURNAL_LOCKED` while a live process holds it. */
export function acquireLock(dir: string): void {
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return;
    } catch (err) {
      if (!hasCode(err) || err.code !== 'EEXIST') throw hasCode(err) ? new FsError(err.code, 'open', file) : err;
    }
    let holder: number;
    try {
      holder = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
    } catch (err) {
      if (hasCode(err) && err.code === 'ENOENT') continue; // released meanwhile
      throw err;
    }
    if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
      const who = holder === process.pid ? 'another CacheFS in this process (close it first)' : `process ${holder}`;
      throw new JournalError(
        'ERR_CACHEFS_JOURNAL_LOCKED',
        `cachefs: the journal ${dir} is in use by ${who}; two caches appending to one journal would corrupt it`,
        dir,
      );
    }
    // Left by a process that is gone (or torn while being written): take it over.
    fs.rmSync(file, { force: true });
  }
  throw new JournalError('ERR_CACHEFS_JOURNAL_LOCKED', `cachefs: could not take the lock of the journal ${dir}`, dir);
}

/** Gives the lock back, if this process holds it. */
export function releaseLock(dir: string): void {
  const file = join(dir, LOCK_FILE);
  try {
    if (Number.parseInt(fs.readFileSync(file, 'utf8'), 10) === process.pid) fs.rmSync(file, { force: true });
  } catch {
    // Already gone.
  }
}
