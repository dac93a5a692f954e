// The stats a WebDAV server's answers give: a PROPFIND's properties, or a GET's headers, made equal so
// that an identity taken from one is confirmed by the other.
import type { FileStat } from 'webdav';
import type { BackendStats } from '../backend.js';

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

/**
 * The stats of a whole-file GET answer, equal to those a PROPFIND of the same version gives (Apache
 * sends the same ETag, weak or strong, and date in both), so that revalidation by PROPFIND matches them.
 */
export function statsOfResponse(headers: Record<string, string | undefined>, size: number): BackendStats | undefined {
  const etag = headers['etag'];
  const lastmod = headers['last-modified'];
  if (etag === undefined && lastmod === undefined) return undefined;
  // As the webdav client reads a PROPFIND's getetag: without its quotes.
  return toStats({ etag: etag === undefined ? null : etag.replace(/"/g, ''), lastmod: lastmod ?? '', size, type: 'file' } as FileStat);
}

/** The same memory as a Buffer (no copy). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The stats of a PROPFIND answer. The ETag stands in for the inode, hashed to a safe integer, so that a
 * cache's identity (size, mtime, ctime, ino) changes whenever the server's version of the file does,
 * even within the one-second resolution of `getlastmodified`.
 */
export function toStats(st: FileStat): BackendStats {
  const mtimeMs = Date.parse(st.lastmod) || 0;
  const dir = st.type === 'directory';
  return {
    dev: 0, ino: st.etag ? hashTag(st.etag) : 0, mode: dir ? S_IFDIR | 0o755 : S_IFREG | 0o644, nlink: 1,
    uid: 0, gid: 0, rdev: 0, size: dir ? 0 : st.size, blksize: 4096, blocks: Math.ceil((dir ? 0 : st.size) / 512),
    atimeMs: mtimeMs, mtimeMs, ctimeMs: mtimeMs, birthtimeMs: 0,
  };
}

/** FNV-1a of the tag twice (two seeds), folded into 48 bits: below 2^53, so exact as a number. */
function hashTag(tag: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < tag.length; i++) {
    const c = tag.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193) >>> 0;
    b = Math.imul(b ^ c, 0x01000193) >>> 0;
  }
  return a * 0x10000 + (b & 0xffff) + 1;
}
