import { bytePathLength, decodeBytePath, encodeBytePath, isWellFormed } from '../../util/byte-path.js';
import { crc32 } from './crc32.js';

/**
 * The journal's file format. A segment file starts with the 8 bytes `CFSJRNL1`, then records, each:
 *
 * ```
 * u32 LE  body length
 * u32 LE  CRC-32 of the body
 * body:   u8 type · u64 LE lsn · fields of the type
 * ```
 *
 * Numbers are u64 LE (exact up to 2^53); strings (paths) are u32 LE byte length + the path's bytes: UTF-8,
 * and for a name that is not UTF-8 its own bytes (a key's escapes, util/byte-path.ts, written back as the
 * bytes they stand for, so no two names share a record); a write's data is the rest of the body. A record whose length runs past the end of the file, or whose checksum does not match, was
 * torn by a crash in the middle of its append: it and everything after it in that segment are ignored.
 */
export const SEGMENT_MAGIC = Buffer.from('CFSJRNL1', 'latin1');
/** Bytes before a record's body. */
export const RECORD_HEADER_BYTES = 8;

/** Numeric record types as stored. */
const TYPE = {
  write: 1,
  pwrite: 2,
  truncate: 3,
  flushed: 4,
  renameIntent: 5,
  renameDone: 6,
  renameAbort: 7,
  removed: 8,
} as const;
const TYPE_NAMES = Object.fromEntries(Object.entries(TYPE).map(([k, v]) => [v, k])) as Record<number, keyof typeof TYPE>;

/**
 * One journal record. `lsn` (log sequence number) orders records across segments and processes.
 *
 * - `write`: the file's whole content became `data`.
 * - `pwrite`: `data` was written at `position`.
 * - `truncate`: the file's length became `length`.
 * - `flushed`: every data record with lsn <= `upTo` of the file now named `path` is in the backend.
 * - `renameIntent`: the program is renaming `from` to `to` (written before the backend is asked).
 * - `renameDone`: that rename happened (`intent` is the intent's lsn): from here on, `from`'s data is `to`'s.
 * - `renameAbort`: that rename failed and changed nothing.
 * - `removed`: the program removed `path` (a file with journaled data): its records are moot.
 */
export type JournalRecord =
  | { type: 'write'; lsn: number; path: string; data: Buffer }
  | { type: 'pwrite'; lsn: number; path: string; position: number; data: Buffer }
  | { type: 'truncate'; lsn: number; path: string; length: number }
  | { type: 'flushed'; lsn: number; path: string; upTo: number }
  | { type: 'renameIntent'; lsn: number; from: string; to: string }
  | { type: 'renameDone'; lsn: number; intent: number; from: string; to: string }
  | { type: 'renameAbort'; lsn: number; intent: number }
  | { type: 'removed'; lsn: number; path: string };

/** Records that change a file's bytes. */
export type DataRecord = Extract<JournalRecord, { type: 'write' | 'pwrite' | 'truncate' }>;

const U32 = 2 ** 32;

const NUMBER_BYTES = 8;

function stringBytes(s: string): number {
  return 4 + bytePathLength(s);
}

function bodyBytes(r: JournalRecord): number {
  const base = 1 + NUMBER_BYTES;
  switch (r.type) {
    case 'write':
      return base + stringBytes(r.path) + r.data.length;
    case 'pwrite':
      return base + stringBytes(r.path) + NUMBER_BYTES + r.data.length;
    case 'truncate':
    case 'flushed':
      return base + stringBytes(r.path) + NUMBER_BYTES;
    case 'renameIntent':
      return base + stringBytes(r.from) + stringBytes(r.to);
    case 'renameDone':
      return base + NUMBER_BYTES + stringBytes(r.from) + stringBytes(r.to);
    case 'renameAbort':
      return base + NUMBER_BYTES;
    case 'removed':
      return base + stringBytes(r.path);
  }
}

class Writer {
  offset: number;
  constructor(
    readonly buf: Buffer,
    start: number,
  ) {
    this.offset = start;
  }
  u8(v: number): void {
    this.buf[this.offset++] = v;
  }
  u64(v: number): void {
    this.buf.writeUInt32LE(v % U32, this.offset);
    this.buf.writeUInt32LE(Math.floor(v / U32), this.offset + 4);
    this.offset += 8;
  }
  str(s: string): void {
    const n = isWellFormed(s) ? this.buf.write(s, this.offset + 4, 'utf8') : encodeBytePath(s).copy(this.buf, this.offset + 4);
    this.buf.writeUInt32LE(n, this.offset);
    this.offset += 4 + n;
  }
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.offset);
    this.offset += b.length;
  }
}

/**
 * One record as two buffers to write one after the other: the header and fixed fields, then the write's
 * data as given (not copied; `undefined` for records without data). The checksum covers both.
 */
export function encodeRecordParts(r: JournalRecord): [head: Buffer, data: Buffer | undefined] {
  const data = r.type === 'write' || r.type === 'pwrite' ? r.data : undefined;
  const size = bodyBytes(r);
  const dataBytes = data?.length ?? 0;
  const head = Buffer.allocUnsafe(RECORD_HEADER_BYTES + size - dataBytes);
  const w = new Writer(head, RECORD_HEADER_BYTES);
  w.u8(TYPE[r.type]);
  w.u64(r.lsn);
  switch (r.type) {
    case 'write':
      w.str(r.path);
      break;
    case 'pwrite':
      w.str(r.path);
      w.u64(r.position);
      break;
    case 'truncate':
      w.str(r.path);
      w.u64(r.length);
      break;
    case 'flushed':
      w.str(r.path);
      w.u64(r.upTo);
      break;
    case 'renameIntent':
      w.str(r.from);
      w.str(r.to);
      break;
    case 'renameDone':
      w.u64(r.intent);
      w.str(r.from);
      w.str(r.to);
      break;
    case 'renameAbort':
      w.u64(r.intent);
      break;
    case 'removed':
      w.str(r.path);
      break;
  }
  head.writeUInt32LE(size, 0);
  let sum = crc32(head.subarray(RECORD_HEADER_BYTES));
  if (data && data.length > 0) sum = crc32(data, sum);
  head.writeUInt32LE(sum, 4);
  return [head, data && data.length > 0 ? data : undefined];
}

/**
 * The bytes of one record, header included, in one buffer of its own: the data is copied, so the
 * caller may reuse its buffer as soon as this returns (records queued for a later write need that).
 */
export function encodeRecord(r: JournalRecord): Buffer {
  const [head, data] = encodeRecordParts(r);
  return data ? Buffer.concat([head, data], head.length + data.length) : head;
}

class Reader {
  offset: number;
  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.offset = start;
  }
  private need(n: number): void {
    if (this.offset + n > this.end) throw new RangeError('record body too short');
  }
  u8(): number {
    this.need(1);
    return this.buf[this.offset++]!;
  }
  u64(): number {
    this.need(8);
    const v = this.buf.readUInt32LE(this.offset) + this.buf.readUInt32LE(this.offset + 4) * U32;
    this.offset += 8;
    return v;
  }
  str(): string {
    this.need(4);
    const n = this.buf.readUInt32LE(this.offset);
    this.offset += 4;
    this.need(n);
    const s = decodeBytePath(this.buf.subarray(this.offset, this.offset + n));
    this.offset += n;
    return s;
  }
  rest(): Buffer {
    const b = this.buf.subarray(this.offset, this.end);
    this.offset = this.end;
    return b;
  }
}

function decodeBody(buf: Buffer, start: number, end: number): JournalRecord {
  const r = new Reader(buf, start, end);
  const typeCode = r.u8();
  const type = TYPE_NAMES[typeCode];
  if (type === undefined) throw new RangeError(`unknown record type ${typeCode}`);
  const lsn = r.u64();
  let record: JournalRecord;
  switch (type) {
    case 'write':
      record = { type, lsn, path: r.str(), data: r.rest() };
      break;
    case 'pwrite': {
      const path = r.str();
      const position = r.u64();
      record = { type, lsn, path, position, data: r.rest() };
      break;
    }
    case 'truncate': {
      const path = r.str();
      record = { type, lsn, path, length: r.u64() };
      break;
    }
    case 'flushed': {
      const path = r.str();
      record = { type, lsn, path, upTo: r.u64() };
      break;
    }
    case 'renameIntent': {
      const from = r.str();
      record = { type, lsn, from, to: r.str() };
      break;
    }
    case 'renameDone': {
      const intent = r.u64();
      const from = r.str();
      record = { type, lsn, intent, from, to: r.str() };
      break;
    }
    case 'renameAbort':
      record = { type, lsn, intent: r.u64() };
      break;
    case 'removed':
      record = { type, lsn, path: r.str() };
      break;
  }
  if (r.offset !== end) throw new RangeError('record body has trailing bytes');
  return record;
}

/** What {@link decodeSegment} found in one segment file. */
export interface DecodedSegment {
  records: JournalRecord[];
  /** Bytes of whole, valid records (the magic included): where a torn tail begins. */
  validBytes: number;
  /** True when bytes after the last valid record were ignored (a torn append). */
  torn: boolean;
}

/** Thrown for a file that is not a journal segment at all (wrong magic). */
export class NotASegmentError extends Error {}

/**
 * Reads every valid record of a segment's bytes, stopping at the first record that is cut short or
 * fails its checksum. A file shorter than the magic (a segment whose creation was cut short) is empty.
 */
export function decodeSegment(buf: Buffer): DecodedSegment {
  if (buf.length < SEGMENT_MAGIC.length) return { records: [], validBytes: 0, torn: buf.length > 0 };
  if (!buf.subarray(0, SEGMENT_MAGIC.length).equals(SEGMENT_MAGIC)) throw new NotASegmentError('not a cachefs journal segment');
  const records: JournalRecord[] = [];
  let offset = SEGMENT_MAGIC.length;
  while (offset < buf.length) {
    if (buf.length - offset < RECORD_HEADER_BYTES) break;
    const size = buf.readUInt32LE(offset);
    const sum = buf.readUInt32LE(offset + 4);
    const start = offset + RECORD_HEADER_BYTES;
    const end = start + size;
    if (size === 0 || end > buf.length) break;
    if (crc32(buf.subarray(start, end)) !== sum) break;
    let record: JournalRecord;
    try {
      record = decodeBody(buf, start, end);
    } catch {
      break; // a checksum collision on garbage: as torn as any other
    }
    records.push(record);
    offset = end;
  }
  return { records, validBytes: offset, torn: offset < buf.length };
}
