import { constants } from 'node:fs';

const { S_IFMT, S_IFDIR, S_IFLNK, S_IFIFO, S_IFSOCK, S_IFCHR, S_IFBLK } = constants;

/** True when a backend stat record describes a directory. */
export function isDirectoryMode(mode: number): boolean {
  return (mode & S_IFMT) === S_IFDIR;
}

/** True when a backend stat record describes a symbolic link. */
export function isSymlinkMode(mode: number): boolean {
  return (mode & S_IFMT) === S_IFLNK;
}

/**
 * True for a FIFO, a socket or a device: it gives other bytes on every read (or blocks until a writer
 * comes), so it is never cached and never warmed (API 1.3 §7).
 */
export function isSpecialMode(mode: number): boolean {
  const type = mode & S_IFMT;
  return type === S_IFIFO || type === S_IFSOCK || type === S_IFCHR || type === S_IFBLK;
}
