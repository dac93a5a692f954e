import { randomBytes } from 'node:crypto';
import { decodeBytePath, encodeBytePath, isWellFormed } from '../util/byte-path.js';
import type { TierScope } from './port.js';

/** A Redis key (or message) as the client sends it. */
export type RedisBytes = string | Buffer;

/**
 * `head` followed by a path: text when the path is plain text, else the path's own bytes. A name that is
 * not UTF-8 carries escapes (util/byte-path.ts) that the client would send as U+FFFD, so two such names
 * would share every key; as bytes they keep theirs, and a message decodes back to the same path.
 */
function withPath(head: string, path: string): RedisBytes {
  return isWellFormed(path) ? head + path : Buffer.concat([Buffer.from(head, 'utf8'), encodeBytePath(path)]);
}

/**
 * Key layout of one namespace `N` (all under `cfs:N:`):
 * - `e`: the namespace's epoch, a random token. A Redis restarted empty (or an eviction) loses it, and
 *   the next caller sets a new one; `clear` and pattern invalidations replace it.
 * - `p:<dir>`: a token per directory prefix, replaced by a prefix invalidation (removal or rename of a
 *   directory); `v:<path>`: a token per path, replaced by each change of the path.
 * - A path's version is its epoch, its ancestors' prefix tokens and its own token, joined: any change
 *   that covers the path changes it, and since every token is fresh (never reused), a version seen
 *   before a restart or eviction never matches one handed out after.
 * - `d:<path>`: the shared bytes, framed with the version they belong to and their length.
 * - `l:<path>`: the cross-process load lock; channel `inv`: invalidations and "loaded" notices.
 * A path is in each key as its bytes (see {@link withPath}).
 */
export class TierKeys {
  readonly prefix: string;
  readonly epoch: string;
  readonly channel: string;

  constructor(namespace: string) {
    this.prefix = `cfs:${namespace}:`;
    this.epoch = `${this.prefix}e`;
    this.channel = `${this.prefix}inv`;
  }

  /** The keys whose tokens make up `path`'s version: epoch, each ancestor directory, the path itself. */
  versionKeys(path: string): RedisBytes[] {
    const keys: RedisBytes[] = [this.epoch];
    const text = isWellFormed(path);
    let at = path.indexOf('/', 1);
    while (at > 0) {
      keys.push(text ? `${this.prefix}p:${path.slice(0, at)}` : withPath(`${this.prefix}p:`, path.slice(0, at)));
      at = path.indexOf('/', at + 1);
    }
    keys.push(this.pathToken(path));
    return keys;
  }

  data(path: string): RedisBytes {
    return withPath(`${this.prefix}d:`, path);
  }

  lock(path: string): RedisBytes {
    return withPath(`${this.prefix}l:`, path);
  }

  prefixToken(dir: string): RedisBytes {
    return withPath(`${this.prefix}p:`, dir);
  }

  pathToken(path: string): RedisBytes {
    return withPath(`${this.prefix}v:`, path);
  }
}

/** Fresh tokens: a random id of this process and a counter, so no two are ever equal. */
export class Tokens {
  readonly processId = randomBytes(6).toString('base64url');
  private next = 0;

  fresh(): string {
    return `${this.processId}${(this.next++).toString(36)}`;
  }
}

const MAGIC = 0x43465431; // 'CFT1'
const HEADER = 12;

/** Frames `bytes` with the version they belong to and their length. */
export function encodeValue(version: string, bytes: Uint8Array): Buffer {
  const v = Buffer.from(version, 'latin1');
  const out = Buffer.allocUnsafe(HEADER + v.length + bytes.length);
  out.writeUInt32BE(MAGIC, 0);
  out.writeUInt32BE(v.length, 4);
  v.copy(out, 8);
  out.writeUInt32BE(bytes.length, 8 + v.length);
  out.set(bytes, HEADER + v.length);
  return out;
}

/**
 * The bytes of a framed value if it is well formed and belongs to `version`; undefined for anything
 * else (a value of an older version, a truncated or corrupt one, a foreign value under our key).
 */
export function decodeValue(value: Buffer | null | undefined, version: string): Buffer | undefined {
  if (!value || value.length < HEADER) return undefined;
  if (value.readUInt32BE(0) !== MAGIC) return undefined;
  const vlen = value.readUInt32BE(4);
  if (vlen !== Buffer.byteLength(version, 'latin1') || HEADER + vlen > value.length) return undefined;
  if (value.toString('latin1', 8, 8 + vlen) !== version) return undefined;
  const size = value.readUInt32BE(8 + vlen);
  if (HEADER + vlen + size !== value.length) return undefined;
  return value.subarray(HEADER + vlen);
}

/** A message on the channel: a change made by process `from` (with the new bytes when small), or a notice that `path` was loaded. */
export type TierMessage =
  | { from: string; scope: TierScope; content?: { bytes: Buffer; version: string } }
  | { from: string; loaded: string };

/** The head of a message that carries a path's new content (framed) after a NUL. */
export function contentMessageHead(from: string, path: string): RedisBytes {
  return withPath(`w${from}|`, path);
}

const NUL = 0;
const W = 'w'.charCodeAt(0);

/** Decodes a raw channel message; a content message whose frame does not check out is a plain change. */
export function decodeRawMessage(raw: Buffer): TierMessage | undefined {
  if (raw[0] !== W) return decodeMessage(decodeBytePath(raw));
  const nul = raw.indexOf(NUL);
  if (nul < 0) return undefined;
  const head = decodeMessage(`p${decodeBytePath(raw.subarray(1, nul))}`);
  if (!head || !('scope' in head)) return undefined;
  const framed = raw.subarray(nul + 1);
  const version = framedVersion(framed);
  const bytes = version === undefined ? undefined : decodeValue(framed, version);
  return bytes === undefined || version === undefined ? head : { ...head, content: { bytes, version } };
}

/** The version a framed value says it belongs to (checked with {@link decodeValue} before use). */
function framedVersion(value: Buffer): string | undefined {
  if (value.length < HEADER || value.readUInt32BE(0) !== MAGIC) return undefined;
  const vlen = value.readUInt32BE(4);
  return HEADER + vlen <= value.length ? value.toString('latin1', 8, 8 + vlen) : undefined;
}

export function encodeMessage(from: string, what: TierScope | { loaded: string }): RedisBytes {
  if ('loaded' in what) return withPath(`l${from}|`, what.loaded);
  if (what.kind === 'path') return withPath(`p${from}|`, what.path);
  if (what.kind === 'prefix') return withPath(`r${from}|`, what.prefix);
  return `a${from}|`;
}

export function decodeMessage(text: string): TierMessage | undefined {
  const bar = text.indexOf('|');
  if (bar < 2) return undefined;
  const from = text.slice(1, bar);
  const arg = text.slice(bar + 1);
  switch (text[0]) {
    case 'p':
      return { from, scope: { kind: 'path', path: arg } };
    case 'r':
      return { from, scope: { kind: 'prefix', prefix: arg } };
    case 'a':
      return { from, scope: { kind: 'all' } };
    case 'l':
      return { from, loaded: arg };
    default:
      return undefined;
  }
}
