/** One segment file, and what still depends on it. */
export interface Segment {
  id: number;
  file: string;
  /** Bytes appended or queued, the magic included. */
  bytes: number;
  /** Files with data records here that no flush has covered yet: path -> lsn of its last such record. */
  pending: Map<string, number>;
  /** Rename intents here whose outcome is not journaled yet. */
  openIntents: number;
  /** Records queued for this segment and not yet written. */
  queued: number;
  created: boolean;
}

/** A record waiting for its turn to be written (with `journalSync`). */
export interface Append {
  buf: Buffer;
  segment: Segment;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** True when nothing depends on `segment` any more: it may be deleted. */
export function isClean(segment: Segment): boolean {
  return segment.pending.size === 0 && segment.openIntents === 0 && segment.queued === 0;
}
