// Names that are not UTF-8, as text. Linux names files by bytes; the cache keys them by strings. A path
// given as a Buffer is decoded here into one canonical string that no other byte sequence decodes to:
// valid UTF-8 as usual, and each byte of an invalid sequence b (always 0x80..0xFF) as the lone surrogate
// U+DC00 + b, as Python's `surrogateescape` does. Valid UTF-8 never decodes to a lone surrogate, and a
// string path given by a user is made well-formed before it becomes a key (paths.ts, args.ts), so an
// escaped byte cannot collide with any name spelled as text. Backends that name files by bytes
// (`Backend.byteNames`) turn such a key back into its bytes for their calls.

/** ES2024 string methods that Node 20 has and the ES2023 lib does not declare. */
interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

const ESCAPE_BASE = 0xdc00;
const FIRST_ESCAPE = 0xdc80;
const LAST_ESCAPE = 0xdcff;
const REPLACEMENT = '\uFFFD';

/** True when `text` has no lone surrogate: plain text, with no escaped byte in it. */
export function isWellFormed(text: string): boolean {
  return (text as unknown as WellFormedString).isWellFormed();
}

/**
 * The name a string path has on disk, as text: Node encodes a path as UTF-8, which turns each lone
 * surrogate into U+FFFD, so `'/\uDCFF'` and `'/\uFFFD'` are one file. Keyed apart, they would be two
 * cache entries for one file, and a write through one would leave the other stale. It also keeps text
 * out of the escapes: no string a user gives can name a Buffer's file.
 */
export function wellFormed(input: string): string {
  return isWellFormed(input) ? input : (input as unknown as WellFormedString).toWellFormed();
}

/** The canonical text of a byte path (see the head of this file); the inverse of {@link encodeBytePath}. */
export function decodeBytePath(bytes: Uint8Array): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = buf.toString('utf8');
  // The decoder puts U+FFFD for every invalid sequence, so text without one came from valid UTF-8.
  return text.includes(REPLACEMENT) ? escapeInvalid(buf) : text;
}

/** The bytes a key names: UTF-8 for text, each escape U+DC80..U+DCFF as the byte it stands for. */
export function encodeBytePath(text: string): Buffer {
  if (isWellFormed(text)) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let runStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < FIRST_ESCAPE || c > LAST_ESCAPE) continue;
    const before = i > 0 ? text.charCodeAt(i - 1) : 0;
    if (before >= 0xd800 && before <= 0xdbff) continue; // the second half of a pair, not an escape
    parts.push(Buffer.from(text.slice(runStart, i), 'utf8'), Buffer.of(c - ESCAPE_BASE));
    runStart = i + 1;
  }
  parts.push(Buffer.from(text.slice(runStart), 'utf8'));
  return Buffer.concat(parts);
}

/** What a system call takes for a key: the string itself when it is plain text, else its bytes. */
export function syscallPath(text: string): string | Buffer {
  return isWellFormed(text) ? text : encodeBytePath(text);
}

/** The bytes' length of a key on disk (an escape is one byte, not the three of U+FFFD). */
export function bytePathLength(text: string): number {
  return isWellFormed(text) ? Buffer.byteLength(text, 'utf8') : encodeBytePath(text).length;
}

/**
 * A key as Node reports a name in `encoding`: `'buffer'` gives its bytes, another encoding its bytes
 * decoded (UTF-8, the default, with U+FFFD for what is not UTF-8, as Node's lossy strings have it).
 */
export function nameAs(text: string, encoding: BufferEncoding | 'buffer' = 'utf8'): string | Buffer {
  if (encoding === 'buffer') return encodeBytePath(text);
  if ((encoding === 'utf8' || encoding === 'utf-8') && isWellFormed(text)) return text;
  return encodeBytePath(text).toString(encoding);
}

/**
 * The canonical text of a name a system call gave as a (lossy) string, reading it again as bytes only
 * when it may have lost some: `again` is the same call asked for a Buffer.
 */
export function exactName(lossy: string, again: () => Buffer): string {
  return lossy.includes(REPLACEMENT) ? decodeBytePath(again()) : lossy;
}

/** {@link decodeBytePath} past the fast path: invalid bytes escaped one by one, valid runs decoded. */
function escapeInvalid(buf: Buffer): string {
  let out = '';
  let runStart = 0;
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const n = validSequenceLength(buf, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out += buf.toString('utf8', runStart, i) + String.fromCharCode(ESCAPE_BASE + b);
    runStart = ++i;
  }
  return out + buf.toString('utf8', runStart, buf.length);
}

/** The length of the well-formed UTF-8 sequence at `i` (Unicode's table 3-7), or 0 when there is none. */
function validSequenceLength(buf: Buffer, i: number): number {
  const b = buf[i]!;
  const at = (k: number): number => (i + k < buf.length ? buf[i + k]! : -1);
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => {
    const c = at(k);
    return c >= lo && c <= hi;
  };
  if (b >= 0xc2 && b <= 0xdf) return cont(1) ? 2 : 0;
  if (b >= 0xe0 && b <= 0xef) {
    const [lo, hi] = b === 0xe0 ? [0xa0, 0xbf] : b === 0xed ? [0x80, 0x9f] : [0x80, 0xbf];
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b >= 0xf0 && b <= 0xf4) {
    const [lo, hi] = b === 0xf0 ? [0x90, 0xbf] : b === 0xf4 ? [0x80, 0x8f] : [0x80, 0xbf];
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}
