import type { InstallSource } from './ports.js';

/**
 * Blocks of large files are entries of the one data store under the key `path NUL # index`: no path
 * can hold a NUL byte, so a block key never names a file. The cache only needs to tell the two apart;
 * the engine's block cache (src/engine/blocks.ts) owns what blocks a file has.
 */
export const BLOCK_MARK = '\u0000#';

/** True when a store key names a block, not a whole file. */
export function isBlockKey(key: string): boolean {
  return key.includes('\u0000');
}

/** The file a store key belongs to (itself for a whole-file key). */
export function fileKeyOf(key: string): string {
  const at = key.indexOf('\u0000');
  return at < 0 ? key : key.slice(0, at);
}

/**
 * What the cache asks of the block index it is attached to (`Cache.attachBlocks`), so that its one
 * invalidation verb, its install and its counts cover blocks without knowing how they are read.
 */
export interface BlockIndex {
  /** Files the index knows (with or without resident blocks). */
  readonly files: { readonly size: number; has(key: string): boolean };
  /** Resident block entries, and files with at least one: `entries` counts files. */
  readonly blockEntries: number;
  readonly filesWithBlocks: number;
  /** True when a file of `size` bytes is cached in blocks. */
  wants(size: number): boolean;
  /** The store removed block key `key`. */
  removed(key: string): void;
  /** Drops every block of file `key`; true if one was resident. */
  dropFile(key: string): boolean;
  /** Drops the blocks of every file `match` accepts (all without it); returns the files that had some. */
  dropWhere(match: ((key: string) => boolean) | undefined): string[];
  /** A large file read whole: caches it as blocks (a copy of `data[0..size)`), or notes it as a scan. */
  installWhole(key: string, data: Uint8Array, size: number, source: InstallSource): Promise<void>;
}
