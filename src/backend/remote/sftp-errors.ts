import { FsError } from '../../errors.js';
import { normal, type SftpPaths } from './sftp-paths.js';
import { S_IFDIR, S_IFMT, SFTP_STATUS, SftpStatus, statusError } from './sftp-protocol.js';
import type { SftpSession } from './sftp-session.js';

/**
 * Maps a status the server answered a call with to Node's code, looking at the paths when the status is
 * vague. OpenSSH reports most failures as a bare `FAILURE` (EEXIST, EISDIR, ENOTEMPTY, …) or
 * `NO_SUCH_FILE` (ENOENT, ENOTDIR, ELOOP); the code is recovered from the tree, only when a call failed.
 */
export async function explainStatus(paths: SftpPaths, s: SftpSession, err: SftpStatus, syscall: string, path: string, dest?: string): Promise<Error> {
  const parts = normal(syscall, path);
  const what = async (p: string): Promise<number | undefined> => {
    try {
      const { real } = await paths.locate(s, syscall, p);
      return (await s.lstat(real)).mode & S_IFMT;
    } catch {
      return undefined;
    }
  };
  if (syscall === 'rename' && dest !== undefined) return explainRename(paths, s, err, path, dest, what);
  if (err.status === SFTP_STATUS.NO_SUCH_FILE) {
    // OpenSSH folds ENOTDIR into NO_SUCH_FILE: an rmdir of something that is there is that.
    if (syscall === 'rmdir' && (await what(path)) !== undefined) return new FsError('ENOTDIR', syscall, path);
    const followLast = !['lstat', 'unlink', 'rmdir', 'readlink', 'symlink', 'mkdir'].includes(syscall);
    return paths.diagnose(s, syscall, path, parts, followLast, err);
  }
  if (err.status !== SFTP_STATUS.FAILURE && err.status !== SFTP_STATUS.BAD_MESSAGE) return statusError(err, syscall, path, dest);
  const type = await what(path);
  switch (syscall) {
    case 'mkdir':
    case 'symlink':
      if (type !== undefined) return new FsError('EEXIST', syscall, path, dest);
      return paths.diagnose(s, syscall, path, parts.slice(0, -1), true, err);
    case 'rmdir':
      return new FsError(type !== S_IFDIR ? 'ENOTDIR' : 'ENOTEMPTY', syscall, path);
    case 'unlink':
      return new FsError(type === S_IFDIR ? 'EISDIR' : 'EIO', syscall, path);
    case 'readlink':
      return new FsError('EINVAL', syscall, path);
    case 'open':
      if (type === S_IFDIR) return new FsError('EISDIR', syscall, path);
      if (type !== undefined) return new FsError('EEXIST', syscall, path);
      return paths.diagnose(s, syscall, path, parts, true, err);
    default:
      return type === S_IFDIR ? new FsError('EISDIR', syscall, path, dest) : statusError(err, syscall, path, dest);
  }
}

/** The code rename(2) would have given, from the types of both ends (checked in the kernel's order). */
async function explainRename(paths: SftpPaths, s: SftpSession, err: SftpStatus, from: string, to: string,
  what: (p: string) => Promise<number | undefined>): Promise<Error> {
  const fromParts = normal('rename', from);
  const toParts = normal('rename', to);
  const type = await what(from);
  // The kernel walks the source's parents, then the target's, and only then looks the source's own
  // name up: a missing source renamed below a file is ENOTDIR.
  if (type === undefined) {
    const e = await paths.walkTrouble(s, 'rename', from, fromParts, false);
    if (e) return new FsError(e.code, 'rename', from, to);
  }
  try {
    const parent = await paths.resolveDir(s, 'rename', to, toParts.slice(0, -1));
    if (((await s.stat(parent)).mode & S_IFMT) !== S_IFDIR) return new FsError('ENOTDIR', 'rename', from, to);
  } catch (e) {
    if (e instanceof FsError) return new FsError(e.code, 'rename', from, to);
    if (e instanceof SftpStatus) {
      // OpenSSH's realpath accepts a missing last component: the parent itself may be missing.
      const d = await paths.diagnose(s, 'rename', to, toParts, false, e);
      return new FsError(d.code, 'rename', from, to);
    }
    throw e;
  }
  if (type === undefined) return statusError(err, 'rename', from, to);
  if (type === S_IFDIR && toParts.length > fromParts.length && fromParts.every((p, i) => toParts[i] === p)) {
    return new FsError('EINVAL', 'rename', from, to);
  }
  // Linux refuses a target that is an ancestor of the source with ENOTEMPTY, before the types.
  if (fromParts.length > toParts.length && toParts.every((p, i) => fromParts[i] === p)) return new FsError('ENOTEMPTY', 'rename', from, to);
  const target = await what(to);
  if (target === undefined) {
    const e = await paths.diagnose(s, 'rename', to, toParts, false, err);
    return new FsError(e.code === 'EIO' ? 'ENOENT' : e.code, 'rename', from, to);
  }
  if (target === S_IFDIR && type !== S_IFDIR) return new FsError('EISDIR', 'rename', from, to);
  if (target !== S_IFDIR && type === S_IFDIR) return new FsError('ENOTDIR', 'rename', from, to);
  if (target === S_IFDIR) return new FsError('ENOTEMPTY', 'rename', from, to);
  return statusError(err, 'rename', from, to);
}
