import type { Attributes } from 'ssh2';
import type { BackendDirent, BackendStats } from '../backend.js';
import { FsError } from '../../errors.js';

/** SFTP status codes (draft-ietf-secsh-filexfer-02, the version OpenSSH speaks). */
export const SFTP_STATUS = { EOF: 1, NO_SUCH_FILE: 2, PERMISSION_DENIED: 3, FAILURE: 4, BAD_MESSAGE: 5, OP_UNSUPPORTED: 8 } as const;

/** A status the server answered with: a file system outcome, to be mapped to a Node code by the caller. */
export class SftpStatus extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;

/** The code a status stands for when nothing more precise is known (see `sftp-errors.ts` for that). */
export function statusError(err: SftpStatus, syscall: string, path: string, dest?: string): FsError {
  switch (err.status) {
    case SFTP_STATUS.NO_SUCH_FILE: return new FsError('ENOENT', syscall, path, dest);
    case SFTP_STATUS.PERMISSION_DENIED: return new FsError('EACCES', syscall, path, dest);
    case SFTP_STATUS.OP_UNSUPPORTED: return new FsError('ENOTSUP', syscall, path, dest, 'operation not supported by the server');
    case SFTP_STATUS.BAD_MESSAGE: return new FsError('EINVAL', syscall, path, dest);
    default: return new FsError('EIO', syscall, path, dest, `the server failed: ${err.message}`);
  }
}

export function direntType(mode: number): BackendDirent['type'] {
  const type = mode & S_IFMT;
  return type === S_IFREG ? 'file' : type === S_IFDIR ? 'directory' : type === S_IFLNK ? 'symlink' : 'other';
}

/** Node's stats from SFTP attributes (version 3: whole seconds, no inode, no ctime). */
export function toStats(a: Attributes): BackendStats {
  const mtimeMs = a.mtime * 1000;
  return {
    dev: 0, ino: 0, mode: a.mode, nlink: 1, uid: a.uid, gid: a.gid, rdev: 0, size: a.size,
    blksize: 4096, blocks: Math.ceil(a.size / 512),
    atimeMs: a.atime * 1000, mtimeMs, ctimeMs: mtimeMs, birthtimeMs: 0,
  };
}
