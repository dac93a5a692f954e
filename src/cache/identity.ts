import type { BackendStats } from '../backend/backend.js';
import type { DataStore } from '../store/data-store.js';

/**
 * How close to "now" a file's last change may be before its identity cannot vouch for the bytes read.
 *
 * The identity of a file (size, mtime, ctime, inode) only changes when the file changes *and* the clock
 * the file system stamps times with has moved on. Linux stamps files from a coarse clock that advances
 * once per jiffy (1–10 ms); a second write of the same size within the same tick leaves every field
 * equal. So an entry whose file was modified within a tick or two of our read is "racy" (the name git
 * gives the same problem for its index): we keep its bytes but record no identity, and the next
 * revalidation reloads it. 20 ms covers two jiffies at HZ=100.
 */
export const RACY_WINDOW_MS = 20;

/**
 * The racy window for files whose mtime is a whole second: file systems with 1 s or 2 s timestamps
 * (ext3, FAT, HFS+, some network shares) cannot tell apart two writes within that span.
 */
export const COARSE_RACY_WINDOW_MS = 2000;

/**
 * Records `st` (a backend `stat` taken *before* the file's bytes were read, at or after
 * `statStartedAt`) as the identity of `slot`.
 *
 * Why before: if the file changes between the stat and the read, the cache holds the newer bytes under
 * the older identity, and the next revalidation sees a difference and reloads: one spurious reload.
 * Stat after the read, and a change in between leaves older bytes under the newer identity: a stale
 * entry that every revalidation would confirm, forever.
 */
export function captureIdentity(store: DataStore, slot: number, st: BackendStats, statStartedAt: number): void {
  // Only the mtime matters: a later write of the content moves the mtime to the tick it happens in,
  // which differs from ours unless ours is still the current tick.
  const window = st.mtimeMs % 1000 === 0 ? COARSE_RACY_WINDOW_MS : RACY_WINDOW_MS;
  if (!(st.mtimeMs < statStartedAt - window)) {
    store.clearIdentity(slot);
    return;
  }
  store.setIdentity(slot, st.size, st.mtimeMs, st.ctimeMs, st.ino);
}

/** True when `slot` has a known identity equal to the backend's `st`. */
export function identityMatches(store: DataStore, slot: number, st: BackendStats): boolean {
  return store.sameIdentity(slot, st.size, st.mtimeMs, st.ctimeMs, st.ino);
}

/** Errors of a `stat` that mean the file is no longer there. */
export function isGone(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
