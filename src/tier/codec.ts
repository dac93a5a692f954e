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

/** A path as a key or message carries it: its text when plain, else its own bytes (see {@link withPath}). */
export function pathBytes(path: string): RedisBytes {
  return isWellFormed(path) ? path : encodeBytePath(path);
}

/**
 * Key layout of one namespace `N` (all under `cfs:N:`):
 * - `n`: the namespace's change clock: every token is stamped with its next value (scripts.ts), so
 *   tokens, and the versions made of them, are ordered by when Redis ran the change that set them.
 * - `e`: the namespace's epoch, a token. A Redis restarted empty (or an eviction) loses it, and
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
  readonly clock: string;
  readonly epoch: string;
  readonly channel: string;

  constructor(namespace: string) {
    this.prefix = `cfs:${namespace}:`;
    this.clock = `${this.prefix}n`;
    this.epoch = `${this.prefix}e`;
    this.channel = `${this.prefix}inv`;
  }

  /**
   * The clock, then the keys whose tokens make up `path`'s version: epoch, each ancestor directory, the
   * path itself (the scripts take them in this order).
   */
  versionKeys(path: string): RedisBytes[] {
    const keys: RedisBytes[] = [this.clock, this.epoch];
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

/**
 * Fresh token suffixes: a random id of this process and a counter, so no two are ever equal (Redis
 * puts the clock's stamp in front, scripts.ts).
 */
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

/**
 * A message on the channel: a change made by process `from`, with the version Redis gave it (for a
 * path, its new version; for a prefix or the namespace, the new token: either way {@link seqOf} orders
 * it), and the new bytes when small; or a notice that `path` was loaded.
 */
export type TierMessage =
  | { from: string; scope: TierScope; version: string; content?: Buffer }
  | { from: string; loaded: string };

/** The head of a message that carries a path's new content (framed, with its version) after a NUL. */
export function contentMessageHead(from: string, path: string): RedisBytes {
  return withPath(`w${from}|`, path);
}

const NUL = 0;
const W = 'w'.charCodeAt(0);

/**
 * Decodes a raw channel message. A content message whose frame does not check out is a change of no
 * known version (empty), which the receiver applies without ordering it and without its bytes.
 */
export function decodeRawMessage(raw: Buffer): TierMessage | undefined {
  if (raw[0] !== W) return decodeMessage(decodeBytePath(raw));
  const nul = raw.indexOf(NUL);
  if (nul < 0) return undefined;
  const head = decodeBytePath(raw.subarray(1, nul));
  const bar = head.indexOf('|');
  if (bar < 1) return undefined;
  const framed = raw.subarray(nul + 1);
  const version = framedVersion(framed);
  const bytes = version === undefined ? undefined : decodeValue(framed, version);
  const change = { from: head.slice(0, bar), scope: { kind: 'path', path: head.slice(bar + 1) } } as const;
  return bytes === undefined || version === undefined ? { ...change, version: '' } : { ...change, version, content: bytes };
}

/** The version a framed value says it belongs to (checked with {@link decodeValue} before use). */
function framedVersion(value: Buffer): string | undefined {
  if (value.length < HEADER || value.readUInt32BE(0) !== MAGIC) return undefined;
  const vlen = value.readUInt32BE(4);
  return HEADER + vlen <= value.length ? value.toString('latin1', 8, 8 + vlen) : undefined;
}

/**
 * What a change's message starts with; Redis appends the version, a bar and {@link scopeArgument}
 * (the version is known only once the script ran).
 */
export function changeHead(from: string, scope: TierScope): string {
  return `${scope.kind === 'path' ? 'p' : scope.kind === 'prefix' ? 'r' : 'a'}${from}|`;
}

/** The path or prefix a change's message ends with (empty for the whole namespace). */
export function scopeArgument(scope: TierScope): RedisBytes {
  return scope.kind === 'path' ? pathBytes(scope.path) : scope.kind === 'prefix' ? pathBytes(scope.prefix) : '';
}

/** A whole message as Redis publishes it: a change at `version`, or a "loaded" notice. */
export function encodeMessage(from: string, what: { loaded: string }): RedisBytes;
export function encodeMessage(from: string, what: TierScope, version: string): RedisBytes;
export function encodeMessage(from: string, what: TierScope | { loaded: string }, version = ''): RedisBytes {
  if ('loaded' in what) return withPath(`l${from}|`, what.loaded);
  const arg = scopeArgument(what);
  const head = `${changeHead(from, what)}${version}|`;
  return typeof arg === 'string' ? head + arg : Buffer.concat([Buffer.from(head, 'latin1'), arg]);
}

export function decodeMessage(text: string): TierMessage | undefined {
  const bar = text.indexOf('|');
  if (bar < 2) return undefined;
  const from = text.slice(1, bar);
  if (text[0] === 'l') return { from, loaded: text.slice(bar + 1) };
  const second = text.indexOf('|', bar + 1);
  if (second < 0) return undefined;
  const version = text.slice(bar + 1, second);
  const arg = text.slice(second + 1);
  switch (text[0]) {
    case 'p':
      return { from, scope: { kind: 'path', path: arg }, version };
    case 'r':
      return { from, scope: { kind: 'prefix', prefix: arg }, version };
    case 'a':
      return { from, scope: { kind: 'all' }, version };
    default:
      return undefined;
  }
}
