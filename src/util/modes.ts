import { constants } from 'node:fs';

const { S_IFMT, S_IFDIR, S_IFLNK } = constants;

/** True when a backend stat record describes a directory. */
export function isDirectoryMode(mode: number): boolean {
  return (mode & S_IFMT) === S_IFDIR;
}

/** True when a backend stat record describes a symbolic link. */
export function isSymlinkMode(mode: number): boolean {
  return (mode & S_IFMT) === S_IFLNK;
}
