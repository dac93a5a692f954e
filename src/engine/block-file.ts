import type { BackendStats } from '../backend/backend.js';
import { COARSE_RACY_WINDOW_MS, RACY_WINDOW_MS } from '../cache/identity.js';

/** Where a block's bytes come from: a handle's open backend file, or the backend by path. */
export type ReadSource = (into: Uint8Array, offset: number, length: number, position: number) => Promise<number>;

/** What the block cache knows of one block-cached file. */
export interface BlockedFile {
  size: number;
  /** Resident blocks: block index to store slot. */
  readonly slots: Map<number, number>;
  validatedAt: number;
  /** The backend's identity when the blocks' source was first read (NaN mtime: unknown, reload at the next check). */
  idSize: number;
  idMtime: number;
  idCtime: number;
  idIno: number;
  /** Where the last read ended: a read that starts there is sequential and earns read-ahead. */
  nextSequential: number;
  /** The last block a sequential reader touched, so read-ahead is started once per block. */
  aheadFrom: number;
  accessCount: number;
  /** The last way this file was read, for read-ahead started from a hit. */
  source: ReadSource | undefined;
  /** Blocks a random read touched once without loading them: the next touch loads. */
  readonly seen: Set<number>;
}

/**
 * A record for a file of `size` bytes. `st`, the backend's stat taken at `statStartedAt` before any
 * byte was read, becomes its identity unless the file changed within the racy window (then the next
 * revalidation reloads, as for whole files: see `captureIdentity`).
 */
export function newBlockedFile(size: number, st: BackendStats | undefined, statStartedAt: number): BlockedFile {
  const f: BlockedFile = {
    size, slots: new Map(), validatedAt: statStartedAt || Date.now(),
    idSize: NaN, idMtime: NaN, idCtime: NaN, idIno: NaN,
    nextSequential: -1, aheadFrom: -1, accessCount: 0, source: undefined, seen: new Set(),
  };
  if (st !== undefined) {
    const window = st.mtimeMs % 1000 === 0 ? COARSE_RACY_WINDOW_MS : RACY_WINDOW_MS;
    if (st.mtimeMs < statStartedAt - window) {
      f.idSize = st.size;
      f.idMtime = st.mtimeMs;
      f.idCtime = st.ctimeMs;
      f.idIno = st.ino;
    }
  }
  return f;
}

/** True when `f`'s identity is known and equals the backend's `st`. */
export function sameIdentity(f: BlockedFile, st: BackendStats): boolean {
  return f.idMtime === st.mtimeMs && f.idSize === st.size && f.idCtime === st.ctimeMs && f.idIno === st.ino;
}

/** Errors of a `stat` that mean the file is no longer there. */
export function isGone(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
