import type { Backend } from '../../backend/backend.js';
import { hasCode } from '../../errors.js';
import { isWithin } from '../../paths.js';
import { isDirectoryMode } from '../../util/modes.js';
import type { DataRecord, JournalRecord } from './journal-format.js';

/** A file whose journaled data must reach the backend: the name it has now, and the records to replay. */
export interface ReplayTarget {
  path: string;
  records: DataRecord[];
}

/** One file's records, followed through renames. `name` is null once the file was removed or replaced. */
interface Identity {
  name: string | null;
  records: DataRecord[];
}

/**
 * Works out what a replay must write. Records are taken in lsn order; a file is followed by identity
 * through the renames the journal saw, so data written to `/a` before `rename('/a', '/b')` is replayed
 * onto `/b`, and data of a file the program removed (or renamed another file over) is dropped.
 *
 * - A `write` makes the file's earlier records moot; a `flushed` drops the records it covers.
 * - A rename takes effect at its `renameDone`, where the cache moved its entries: records between intent
 *   and done were made under the old names.
 * - A rename with an intent but no outcome was cut short by the crash: `renameHappened` asks the backend
 *   (the source is gone, so it happened) and the move then takes effect after every record.
 */
export async function planReplay(
  records: readonly JournalRecord[],
  renameHappened: (from: string, to: string) => Promise<boolean>,
): Promise<ReplayTarget[]> {
  const byName = new Map<string, Identity>();
  const all: Identity[] = [];
  const openIntents = new Map<number, { from: string; to: string }>();

  const identityOf = (path: string): Identity => {
    let id = byName.get(path);
    if (id === undefined) {
      id = { name: path, records: [] };
      byName.set(path, id);
      all.push(id);
    }
    return id;
  };
  const drop = (prefix: string): void => {
    for (const [name, id] of [...byName]) {
      if (isWithin(name, prefix)) {
        byName.delete(name);
        id.name = null;
      }
    }
  };
  const move = (from: string, to: string): void => {
    drop(to);
    const moving = [...byName].filter(([name]) => isWithin(name, from));
    for (const [name] of moving) byName.delete(name);
    for (const [name, id] of moving) {
      id.name = to + name.slice(from.length);
      byName.set(id.name, id);
    }
  };

  for (const r of records) {
    switch (r.type) {
      case 'write':
        identityOf(r.path).records = [r];
        break;
      case 'pwrite':
      case 'truncate':
        identityOf(r.path).records.push(r);
        break;
      case 'flushed': {
        const id = byName.get(r.path);
        if (id) id.records = id.records.filter((d) => d.lsn > r.upTo);
        break;
      }
      case 'renameIntent':
        openIntents.set(r.lsn, { from: r.from, to: r.to });
        break;
      case 'renameDone':
        openIntents.delete(r.intent);
        move(r.from, r.to);
        break;
      case 'renameAbort':
        openIntents.delete(r.intent);
        break;
      case 'removed':
        drop(r.path);
        break;
    }
  }
  for (const { from, to } of openIntents.values()) {
    if (await renameHappened(from, to)) move(from, to);
  }
  return all.filter((id) => id.name !== null && id.records.length > 0).map((id) => ({ path: id.name!, records: id.records }));
}

/** What a replay did. */
export interface ReplayOutcome {
  /** Files whose records were written to the backend. */
  replayed: string[];
  /** Files with records that no longer exist in the backend (removed): nothing was written, nothing created. */
  skipped: string[];
  /** Files the backend refused to write, with the error. */
  failed: Array<{ path: string; error: unknown }>;
}

function isGone(err: unknown): boolean {
  return hasCode(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR');
}

/**
 * Writes each target's records onto its file, in order. A replay never creates a file: one that is gone
 * was removed after its data was journaled (by the program, or by the journal's owner before a crash),
 * and bringing it back would resurrect it. Replaying is idempotent: each record rewrites the same bytes,
 * so a replay cut short by another crash is simply done again.
 */
export async function applyReplay(targets: readonly ReplayTarget[], backend: Backend): Promise<ReplayOutcome> {
  const outcome: ReplayOutcome = { replayed: [], skipped: [], failed: [] };
  for (const target of targets) {
    try {
      const st = await backend.stat(target.path);
      if (isDirectoryMode(st.mode)) {
        outcome.skipped.push(target.path);
        continue;
      }
      for (const op of coalesce(target.records)) await applyOne(backend, target.path, op);
      outcome.replayed.push(target.path);
    } catch (err) {
      if (isGone(err)) outcome.skipped.push(target.path);
      else outcome.failed.push({ path: target.path, error: err });
    }
  }
  return outcome;
}

type ReplayOp =
  | { kind: 'content'; data: Buffer } // the whole file
  | { kind: 'bytes'; position: number; data: Buffer }
  | { kind: 'length'; length: number };

/** Merges runs of adjacent writes (an append stream) into one backend call each. */
function coalesce(records: readonly DataRecord[]): ReplayOp[] {
  const ops: ReplayOp[] = [];
  let run: Buffer[] = [];
  let runStart = 0;
  let runEnd = 0;
  let runIsContent = false;
  const close = (): void => {
    if (run.length === 0 && !runIsContent) return;
    const data = run.length === 1 ? run[0]! : Buffer.concat(run);
    ops.push(runIsContent ? { kind: 'content', data } : { kind: 'bytes', position: runStart, data });
    run = [];
    runIsContent = false;
  };
  for (const r of records) {
    if (r.type === 'write') {
      close();
      run = [r.data];
      runStart = 0;
      runEnd = r.data.length;
      runIsContent = true;
    } else if (r.type === 'pwrite') {
      if ((run.length > 0 || runIsContent) && r.position === runEnd) {
        run.push(r.data);
        runEnd += r.data.length;
      } else {
        close();
        run = [r.data];
        runStart = r.position;
        runEnd = r.position + r.data.length;
      }
    } else {
      close();
      ops.push({ kind: 'length', length: r.length });
    }
  }
  close();
  return ops;
}

async function applyOne(backend: Backend, path: string, op: ReplayOp): Promise<void> {
  switch (op.kind) {
    case 'content':
      if (backend.write) {
        // In place, then cut: cheaper than truncating to 0 first, and as idempotent.
        if (op.data.length > 0) await backend.write(path, op.data, 0);
        await backend.truncate(path, op.data.length);
      } else {
        await backend.writeFile(path, op.data);
      }
      return;
    case 'bytes':
      if (backend.write) {
        await backend.write(path, op.data, op.position);
      } else {
        const current = Buffer.from(await backend.readFile(path));
        const next = Buffer.alloc(Math.max(current.length, op.position + op.data.length));
        current.copy(next);
        op.data.copy(next, op.position);
        await backend.writeFile(path, next);
      }
      return;
    case 'length':
      await backend.truncate(path, op.length);
      return;
  }
}

/** A rename the journal saw begin but not end happened if its source is gone. */
export async function renameHappened(backend: Backend, from: string): Promise<boolean> {
  try {
    await backend.lstat(from);
    return false;
  } catch (err) {
    if (hasCode(err) && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return true;
    throw err;
  }
}
