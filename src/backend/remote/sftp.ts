import type { Attributes } from 'ssh2';
import type { Backend, BackendDirent, BackendFile, BackendStats } from '../backend.js';
import { FsError } from '../../errors.js';
import { RemoteCalls, type Attempt } from './calls.js';
import { SessionPool, SFTP_STATUS, SftpStatus, type SftpSession } from './sftp-session.js';

/** Options of {@link sftpBackend}. A secret given here never appears in an error, an event or a log line. */
export interface SftpBackendOptions {
  host: string;
  /** Default 22. */
  port?: number;
  username: string;
  /** An OpenSSH or PEM private key (its text, not a file name). */
  privateKey?: string | Buffer;
  /** The private key's passphrase. */
  passphrase?: string;
  password?: string;
  /** The SSH agent's socket (`process.env.SSH_AUTH_SOCK`). */
  agent?: string;
  /** The server directory that is `/` for the cache; nothing outside it can be reached. Default `/`. */
  root?: string;
  /** SSH connections kept open, each with one SFTP channel. Default 4. */
  connections?: number;
  /** Milliseconds one whole call may take, all attempts and reconnections included. Default 10000. */
  timeout?: number;
  /**
   * Milliseconds an answer of the server about a path (its lstat) is reused by the next calls, as NFS's
   * attribute cache does (there for 3 s or more). One cache call makes several backend calls on one
   * path (stat, realpath, read); this makes them one round trip. Any change made through this backend
   * drops every such answer. Default 100; 0 turns it off.
   */
  attributeCacheMs?: number;
}

/** A directory's checked resolution is trusted this long (API.md 1.3 §4), unless a change drops it. */
const RESOLUTION_TRUST_MS = 1000;
const MAX_LINKS = 40;
/** Read requests in flight per file: enough to fill a 20 ms round trip at loopback speeds. */
const READ_CHUNK = 255 * 1024;
/** Bytes read past the size a file had at its lstat, to notice that it grew (most files did not). */
const PROBE = 4096;
/** How long a file opened for positional reads stays open unused. */
const HANDLE_IDLE_MS = 1000;
const MAX_READ_HANDLES = 64;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFREG = 0o100000;

/**
 * A {@link Backend} over an SFTP server (OpenSSH's `sftp-server`/`internal-sftp` and compatible), on the
 * `ssh2` client with a small pool of connections.
 *
 * Confinement: `/` is `root` on the server; a path climbing above it, or a symbolic link on the server
 * whose target leads out of it, fails with `EACCES`. Links are resolved by the server (`realpath`), and
 * the result is checked to lie below the root's own real path. Absolute link targets given to `symlink`
 * are virtual paths (stored below the root), as with `nodeBackend`.
 *
 * Identity for revalidation: SFTP has no inode and no ctime, so a file's identity is its size and its
 * mtime in whole seconds. Two writes of the same size within one second look alike; the engine records
 * no identity for a file changed within 2 s of its read (the coarse racy window of
 * `coherence/identity.ts`), so such a file is reloaded at its next revalidation instead.
 *
 * Errors: Node's codes with the cache's path. OpenSSH reports most failures as a bare `FAILURE` status
 * (EEXIST, EISDIR, ENOTEMPTY, …) or `NO_SUCH_FILE` (ENOENT, ENOTDIR, ELOOP); the code is recovered by
 * looking at the paths involved, only when a call failed. Network failures are `ECONNREFUSED`,
 * `ETIMEDOUT` or `ECONNRESET` naming `sftp://user@host:port`.
 */
export function sftpBackend(options: SftpBackendOptions): Backend {
  const { host, username } = options;
  const port = options.port ?? 22;
  const timeout = options.timeout ?? 10_000;
  const where = `sftp://${username}@${host}:${port}`;
  const calls = new RemoteCalls(where, timeout);
  const pool = new SessionPool(
    {
      host, port, username,
      privateKey: options.privateKey, passphrase: options.passphrase, password: options.password, agent: options.agent,
      readyTimeout: timeout,
      keepaliveInterval: 10_000,
      keepaliveCountMax: 3,
    },
    Math.max(1, options.connections ?? 4),
    where,
  );
  const rootGiven = options.root ?? '/';
  let rootReal: string | undefined;
  /** Virtual directory → its link-free server path, checked to be inside the root, and when. */
  const dirs = new Map<string, { real: string; at: number }>();
  const attributeTtl = options.attributeCacheMs ?? 100;
  /** Server path → its lstat and when it was asked (see `attributeCacheMs`). */
  const attributes = new Map<string, { attrs: Attributes; at: number }>();
  /** Bumped by every change: an answer asked before a change is not kept after it. */
  let generation = 0;
  /** The lstat of a server path, reused for `attributeCacheMs`. */
  const lstatOf = async (s: SftpSession, real: string): Promise<Attributes> => {
    const asked = Date.now();
    const known = attributes.get(real);
    if (known && asked - known.at < attributeTtl) return known.attrs;
    const seen = generation;
    const attrs = await s.lstat(real);
    if (attributeTtl > 0 && seen === generation) {
      if (attributes.size > 10_000) attributes.clear();
      attributes.set(real, { attrs, at: asked });
    }
    return attrs;
  };
  /** Called before and after every change made through this backend. */
  const changed = (): void => {
    generation++;
    attributes.clear();
    dropReadHandles();
  };

  /**
   * Files kept open for positional `read(path, …)` calls, so that a burst of reads in one file costs one
   * round trip each instead of open + read + close. A handle is closed after {@link HANDLE_IDLE_MS}
   * unused (the trust API.md 1.3 §4 gives a checked resolution) and at once by any change made
   * through this backend.
   */
  const readHandles = new Map<string, { session: SftpSession; handle: Promise<Buffer>; used: number }>();
  let sweeper: NodeJS.Timeout | undefined;
  const dropReadHandles = (): void => {
    for (const { session, handle } of readHandles.values()) handle.then((h) => closeLater(session, h), () => undefined);
    readHandles.clear();
  };
  const sweep = (): void => {
    const now = Date.now();
    for (const [real, open] of readHandles) {
      if (now - open.used >= HANDLE_IDLE_MS || open.session.dead) {
        readHandles.delete(real);
        open.handle.then((h) => closeLater(open.session, h), () => undefined);
      }
    }
    if (readHandles.size === 0 && sweeper) {
      clearInterval(sweeper);
      sweeper = undefined;
    }
  };
  const readHandle = (s: SftpSession, real: string): { session: SftpSession; handle: Promise<Buffer> } => {
    const known = readHandles.get(real);
    if (known && !known.session.dead) {
      known.used = Date.now();
      return known;
    }
    const opened = { session: s, handle: s.open(real, 'r'), used: Date.now() };
    opened.handle.catch(() => readHandles.delete(real));
    if (readHandles.size >= MAX_READ_HANDLES) dropReadHandles();
    readHandles.set(real, opened);
    if (!sweeper) {
      sweeper = setInterval(sweep, HANDLE_IDLE_MS);
      sweeper.unref();
    }
    return opened;
  };

  const inside = (real: string): boolean => rootReal === '/' || real === rootReal || real.startsWith(rootReal + '/');
  const join = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`);
  const toVirtual = (real: string): string => (rootReal === '/' ? real : real.slice(rootReal!.length) || '/');

  /** Runs one call: a session from the pool, the call's deadline, retries of network failures. */
  const run = <T>(syscall: string, path: string, dest: string | undefined, idempotent: boolean,
    body: (s: SftpSession, sent: () => void) => Promise<T>): Promise<T> =>
    calls.run(syscall, path, dest, idempotent, async (attempt: Attempt, sent) => {
      const session = await pool.acquire(attempt);
      attempt.onAbort(() => pool.discard(session)); // a call that hung: its connection is suspect
      try {
        if (rootReal === undefined) {
          const real = await session.realpath(rootGiven).catch((err: unknown) => {
            throw err instanceof SftpStatus ? new FsError(err.status === SFTP_STATUS.PERMISSION_DENIED ? 'EACCES' : 'ENOENT', 'realpath', '/') : err;
          });
          rootReal = real;
        }
        return await body(session, sent);
      } catch (err) {
        if (err instanceof SftpStatus) throw await explain(session, err, syscall, path, dest);
        throw err;
      }
    });

  /** {@link run} for a call that changes the server: the attribute answers are dropped around it. */
  const runChange = <T>(syscall: string, path: string, dest: string | undefined, idempotent: boolean,
    body: (s: SftpSession, sent: () => void) => Promise<T>): Promise<T> =>
    run(syscall, path, dest, idempotent, async (s, sent) => {
      changed();
      try {
        return await body(s, sent);
      } finally {
        changed();
      }
    });

  /** The virtual path's segments with `.` and `..` applied; EACCES when it climbs above `/`. */
  const normal = (syscall: string, path: string): string[] => {
    const out: string[] = [];
    for (const part of path.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (out.length === 0) throw new FsError('EACCES', syscall, path);
        out.pop();
      } else out.push(part);
    }
    return out;
  };

  /** The checked, link-free server path of the directory `vdir` (cached for a second). */
  const resolveDir = async (s: SftpSession, syscall: string, path: string, parts: string[]): Promise<string> => {
    if (parts.length === 0) return rootReal!;
    const key = '/' + parts.join('/');
    const known = dirs.get(key);
    const now = Date.now();
    if (known && now - known.at < RESOLUTION_TRUST_MS) return known.real;
    let real: string;
    try {
      real = await s.realpath(rootReal === '/' ? key : rootReal + key);
    } catch (err) {
      if (err instanceof SftpStatus) throw await diagnose(s, syscall, path, parts, true, err);
      throw err;
    }
    if (!inside(real)) throw new FsError('EACCES', syscall, path);
    dirs.set(key, { real, at: now });
    return real;
  };

  /** Where a call that does not follow the last component acts: the checked parent plus the name. */
  const locate = async (s: SftpSession, syscall: string, path: string): Promise<{ real: string; isRoot: boolean }> => {
    const parts = normal(syscall, path);
    if (parts.length === 0) return { real: rootReal!, isRoot: true };
    const parent = await resolveDir(s, syscall, path, parts.slice(0, -1));
    return { real: join(parent, parts[parts.length - 1]!), isRoot: false };
  };

  /**
   * Where a call that follows links acts, with the lstat of what is there (undefined when nothing is):
   * a link is resolved by the server and must land inside the root.
   */
  const follow = async (s: SftpSession, syscall: string, path: string): Promise<{ real: string; attrs: Attributes | undefined }> => {
    const { real, isRoot } = await locate(s, syscall, path);
    if (isRoot) return { real, attrs: await lstatOf(s, real) };
    let attrs: Attributes;
    try {
      attrs = await lstatOf(s, real);
    } catch (err) {
      if (err instanceof SftpStatus && err.status === SFTP_STATUS.NO_SUCH_FILE) return { real, attrs: undefined };
      throw err;
    }
    if ((attrs.mode & S_IFMT) !== S_IFLNK) return { real, attrs };
    let target: string;
    try {
      target = await s.realpath(real);
    } catch (err) {
      if (err instanceof SftpStatus) throw await diagnose(s, syscall, path, normal(syscall, path), true, err);
      throw err;
    }
    if (!inside(target)) throw new FsError('EACCES', syscall, path);
    return { real: target, attrs: await lstatOf(s, target) };
  };

  /** Like {@link follow}, but what is there must exist. */
  const existing = async (s: SftpSession, syscall: string, path: string): Promise<{ real: string; attrs: Attributes }> => {
    const found = await follow(s, syscall, path);
    if (!found.attrs) throw await diagnose(s, syscall, path, normal(syscall, path), true, new SftpStatus(SFTP_STATUS.NO_SUCH_FILE, 'no such file'));
    return found as { real: string; attrs: Attributes };
  };

  /**
   * The precise code of a failed call, found by walking the path component by component on the server
   * (lstat and readlink, as the kernel would): ENOENT, ENOTDIR, ELOOP or EACCES for a link out. Used only
   * on failures, so its round trips cost nothing on the common path.
   */
  const diagnose = async (s: SftpSession, syscall: string, path: string, parts: string[], followLast: boolean, cause: SftpStatus): Promise<FsError> =>
    (await walkTrouble(s, syscall, path, parts, followLast)) ?? statusError(cause, syscall, path);

  /** The walk of {@link diagnose}: what stops it (ENOENT, ENOTDIR, ELOOP, EACCES), or undefined when nothing does. */
  const walkTrouble = async (s: SftpSession, syscall: string, path: string, parts: string[], followLast: boolean): Promise<FsError | undefined> => {
    let current = rootReal!;
    const pending = [...parts].reverse();
    let links = 0;
    while (pending.length > 0) {
      const name = pending.pop()!;
      if (name === '..') {
        if (current === rootReal) return new FsError('EACCES', syscall, path);
        current = current.slice(0, current.lastIndexOf('/')) || '/';
        continue;
      }
      const next = join(current, name);
      const last = pending.length === 0;
      if (last && !followLast) break;
      let attrs: Attributes;
      try {
        attrs = await s.lstat(next);
      } catch (err) {
        if (err instanceof SftpStatus && err.status === SFTP_STATUS.NO_SUCH_FILE) return new FsError('ENOENT', syscall, path);
        throw err;
      }
      if ((attrs.mode & S_IFMT) === S_IFLNK) {
        if (++links > MAX_LINKS) return new FsError('ELOOP', syscall, path);
        const target = await s.readlink(next);
        const targetParts = target.split('/').filter((p) => p !== '' && p !== '.');
        if (target.startsWith('/')) {
          const rootParts = rootReal === '/' ? [] : rootReal!.split('/').filter(Boolean);
          if (!rootParts.every((p, i) => targetParts[i] === p)) return new FsError('EACCES', syscall, path);
          current = rootReal!;
          targetParts.splice(0, rootParts.length);
        }
        for (let i = targetParts.length - 1; i >= 0; i--) pending.push(targetParts[i]!);
        continue;
      }
      if (!last && (attrs.mode & S_IFMT) !== S_IFDIR) return new FsError('ENOTDIR', syscall, path);
      current = next;
    }
    return undefined;
  };

  /** Maps a status the server answered a call with, looking at the paths when the status is vague. */
  const explain = async (s: SftpSession, err: SftpStatus, syscall: string, path: string, dest?: string): Promise<Error> => {
    const parts = normal(syscall, path);
    const what = async (p: string): Promise<number | undefined> => {
      try {
        const { real } = await locate(s, syscall, p);
        return (await s.lstat(real)).mode & S_IFMT;
      } catch {
        return undefined;
      }
    };
    if (syscall === 'rename' && dest !== undefined) return explainRename(s, err, path, dest, what);
    if (err.status === SFTP_STATUS.NO_SUCH_FILE) {
      // OpenSSH folds ENOTDIR into NO_SUCH_FILE: an rmdir of something that is there is that.
      if (syscall === 'rmdir' && (await what(path)) !== undefined) return new FsError('ENOTDIR', syscall, path);
      const followLast = !['lstat', 'unlink', 'rmdir', 'readlink', 'symlink', 'mkdir'].includes(syscall);
      return diagnose(s, syscall, path, parts, followLast, err);
    }
    if (err.status !== SFTP_STATUS.FAILURE && err.status !== SFTP_STATUS.BAD_MESSAGE) return statusError(err, syscall, path, dest);
    const type = await what(path);
    switch (syscall) {
      case 'mkdir':
      case 'symlink':
        if (type !== undefined) return new FsError('EEXIST', syscall, path, dest);
        return diagnose(s, syscall, path, parts.slice(0, -1), true, err);
      case 'rmdir':
        return new FsError(type !== S_IFDIR ? 'ENOTDIR' : 'ENOTEMPTY', syscall, path);
      case 'unlink':
        return new FsError(type === S_IFDIR ? 'EISDIR' : 'EIO', syscall, path);
      case 'readlink':
        return new FsError('EINVAL', syscall, path);
      case 'open':
        if (type === S_IFDIR) return new FsError('EISDIR', syscall, path);
        if (type !== undefined) return new FsError('EEXIST', syscall, path);
        return diagnose(s, syscall, path, parts, true, err);
      default:
        return type === S_IFDIR ? new FsError('EISDIR', syscall, path, dest) : statusError(err, syscall, path, dest);
    }
  };

  /** The code rename(2) would have given, from the types of both ends (checked in the kernel's order). */
  const explainRename = async (s: SftpSession, err: SftpStatus, from: string, to: string,
    what: (p: string) => Promise<number | undefined>): Promise<Error> => {
    const fromParts = normal('rename', from);
    const toParts = normal('rename', to);
    const type = await what(from);
    // The kernel walks the source's parents, then the target's, and only then looks the source's own
    // name up: a missing source renamed below a file is ENOTDIR.
    if (type === undefined) {
      const e = await walkTrouble(s, 'rename', from, fromParts, false);
      if (e) return new FsError(e.code, 'rename', from, to);
    }
    try {
      const parent = await resolveDir(s, 'rename', to, toParts.slice(0, -1));
      if (((await s.stat(parent)).mode & S_IFMT) !== S_IFDIR) return new FsError('ENOTDIR', 'rename', from, to);
    } catch (e) {
      if (e instanceof FsError) return new FsError(e.code, 'rename', from, to);
      if (e instanceof SftpStatus) {
        // OpenSSH's realpath accepts a missing last component: the parent itself may be missing.
        const d = await diagnose(s, 'rename', to, toParts, false, e);
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
      const e = await diagnose(s, 'rename', to, toParts, false, err);
      return new FsError(e.code === 'EIO' ? 'ENOENT' : e.code, 'rename', from, to);
    }
    if (target === S_IFDIR && type !== S_IFDIR) return new FsError('EISDIR', 'rename', from, to);
    if (target !== S_IFDIR && type === S_IFDIR) return new FsError('ENOTDIR', 'rename', from, to);
    if (target === S_IFDIR) return new FsError('ENOTEMPTY', 'rename', from, to);
    return statusError(err, 'rename', from, to);
  };

  /**
   * Reads the whole file behind `handle` (`size` from its lstat), the read requests pipelined. One more
   * read past the end travels with them: a file that grew since the lstat is read on, one that shrank
   * ends where it ends now.
   */
  const readAll = async (s: SftpSession, handle: Buffer, size: number): Promise<Uint8Array> => {
    let buffer = Buffer.allocUnsafe(size + PROBE);
    const reads: Promise<number>[] = [];
    for (let at = 0; at < size; at += READ_CHUNK) reads.push(readFully(s, handle, buffer, at, Math.min(READ_CHUNK, size - at), at));
    const probeRead = s.read(handle, buffer, size, PROBE, size);
    probeRead.catch(() => undefined); // its failure, if any, is the same as the reads' (awaited below)
    const counts = await Promise.all(reads);
    // Only a contiguous prefix is returned: a chunk that came back short ended the file at that moment,
    // and anything after it (a file rewritten meanwhile) would not belong with it.
    let length = 0;
    for (const n of counts) {
      length += n;
      if (n < READ_CHUNK) break;
    }
    const extra = await probeRead;
    if (length < size) return buffer.subarray(0, length);
    let position = size + extra;
    while (position - size >= PROBE && extra > 0) {
      const grown = Buffer.allocUnsafe(position * 2);
      buffer.copy(grown, 0, 0, position);
      buffer = grown;
      const n = await s.read(handle, buffer, position, buffer.length - position, position);
      if (n === 0) break;
      position += n;
      if (position < buffer.length) break;
    }
    return buffer.subarray(0, position);
  };

  const writeAll = async (s: SftpSession, handle: Buffer, data: Uint8Array, position: number): Promise<void> => {
    const writes: Promise<void>[] = [];
    for (let at = 0; at < data.byteLength; at += READ_CHUNK) {
      writes.push(s.write(handle, data, at, Math.min(READ_CHUNK, data.byteLength - at), position + at));
    }
    if (data.byteLength === 0 && position > 0) writes.push(s.write(handle, data, 0, 0, position));
    await Promise.all(writes);
  };

  /** Closes without waiting (the request is pipelined behind the last one); errors of a close are moot. */
  const closeLater = (s: SftpSession, handle: Buffer): void => {
    s.close(handle).catch(() => undefined);
  };

  const forget = (): void => {
    dirs.clear();
    changed();
  };

  const backend: Backend = {
    name: 'sftp',
    defaultRevalidate: 5000,

    stat(path) {
      return run('stat', path, undefined, true, async (s) => toStats((await existing(s, 'stat', path)).attrs));
    },

    lstat(path) {
      return run('lstat', path, undefined, true, async (s) => toStats(await lstatOf(s, (await locate(s, 'lstat', path)).real)));
    },

    readFile(path) {
      return run('open', path, undefined, true, async (s) => {
        const { real, isRoot } = await locate(s, 'open', path);
        if (isRoot) throw new FsError('EISDIR', 'read', path);
        // The lstat and the open travel together: one round trip when the path is a plain file.
        const [attrs, handle] = await Promise.all([lstatOf(s, real), s.open(real, 'r').catch((err: unknown) => err as Error)]);
        const type = attrs.mode & S_IFMT;
        if (type !== S_IFREG) {
          if (Buffer.isBuffer(handle)) closeLater(s, handle);
          if (type === S_IFDIR) throw new FsError('EISDIR', 'read', path);
          const target = await existing(s, 'open', path);
          if ((target.attrs.mode & S_IFMT) === S_IFDIR) throw new FsError('EISDIR', 'read', path);
          const h = await s.open(target.real, 'r');
          try {
            return await readAll(s, h, target.attrs.size);
          } finally {
            closeLater(s, h);
          }
        }
        if (!Buffer.isBuffer(handle)) throw handle;
        try {
          return await readAll(s, handle, attrs.size);
        } finally {
          closeLater(s, handle);
        }
      });
    },

    writeFile(path, data, options) {
      const exclusive = options?.flag === 'wx';
      // A whole-file replace can be sent again; an exclusive create cannot (the retry would see EEXIST).
      return runChange('open', path, undefined, !exclusive, async (s, sent) => {
        const real = exclusive ? (await locate(s, 'open', path)).real : (await follow(s, 'open', path)).real;
        if (real === rootReal) throw new FsError('EISDIR', 'open', path);
        sent();
        const handle = await s.open(real, exclusive ? 'wx' : 'w', options?.mode ?? 0o666);
        try {
          await writeAll(s, handle, data, 0);
        } finally {
          await s.close(handle);
        }
      });
    },

    readdir(path) {
      return run('scandir', path, undefined, true, async (s) => {
        const { real, attrs } = await existing(s, 'scandir', path);
        if ((attrs.mode & S_IFMT) !== S_IFDIR) throw new FsError('ENOTDIR', 'scandir', path);
        const entries = await s.readdir(real);
        const out: BackendDirent[] = [];
        for (const entry of entries) {
          if (entry.filename === '.' || entry.filename === '..') continue;
          out.push({ name: entry.filename, type: direntType(entry.attrs.mode) });
        }
        return out;
      });
    },

    mkdir(path, options) {
      const mode = options?.mode ?? 0o777;
      if (options?.recursive) {
        const make = async (p: string[]): Promise<void> => {
          const vpath = '/' + p.join('/');
          const found = await run('mkdir', path, undefined, true, async (s) => {
            try {
              return (await follow(s, 'mkdir', vpath)).attrs;
            } catch (err) {
              const code = (err as { code?: string }).code;
              if (code === 'ENOENT') return undefined;
              throw code === 'ENOTDIR' ? new FsError('ENOTDIR', 'mkdir', path) : err;
            }
          });
          if (found) {
            if ((found.mode & S_IFMT) !== S_IFDIR) throw new FsError(p.length === normal('mkdir', path).length ? 'EEXIST' : 'ENOTDIR', 'mkdir', path);
            return;
          }
          await make(p.slice(0, -1));
          await backend.mkdir(vpath, { mode }).catch((err: { code?: string }) => {
            if (err.code !== 'EEXIST') throw new FsError(err.code ?? 'EIO', 'mkdir', path);
          });
        };
        return make(normal('mkdir', path));
      }
      return runChange('mkdir', path, undefined, false, async (s, sent) => {
        const { real, isRoot } = await locate(s, 'mkdir', path);
        if (isRoot) throw new FsError('EEXIST', 'mkdir', path);
        sent();
        await s.mkdir(real, mode);
      });
    },

    rmdir(path) {
      return runChange('rmdir', path, undefined, false, async (s, sent) => {
        const { real, isRoot } = await locate(s, 'rmdir', path);
        if (isRoot) throw new FsError('EBUSY', 'rmdir', path);
        forget();
        sent();
        await s.rmdir(real);
      });
    },

    unlink(path) {
      return runChange('unlink', path, undefined, false, async (s, sent) => {
        const { real, isRoot } = await locate(s, 'unlink', path);
        if (isRoot) throw new FsError('EISDIR', 'unlink', path);
        forget();
        sent();
        await s.unlink(real);
      });
    },

    rename(from, to) {
      return runChange('rename', from, to, false, async (s, sent) => {
        const src = await locate(s, 'rename', from);
        const dst = await locate(s, 'rename', to);
        if (src.isRoot || dst.isRoot) throw new FsError('EBUSY', 'rename', from, to);
        if (src.real === dst.real) {
          await s.lstat(src.real);
          return;
        }
        forget();
        sent();
        await s.rename(src.real, dst.real);
      });
    },

    truncate(path, length) {
      return runChange('open', path, undefined, true, async (s) => {
        const { real, attrs } = await existing(s, 'open', path);
        if ((attrs.mode & S_IFMT) === S_IFDIR) throw new FsError('EISDIR', 'open', path);
        await s.setstat(real, { size: length });
      });
    },

    chmod(path, mode) {
      return runChange('chmod', path, undefined, true, async (s) => {
        await s.setstat((await existing(s, 'chmod', path)).real, { mode: mode & 0o7777 });
      });
    },

    chown(path, uid, gid) {
      return runChange('chown', path, undefined, true, async (s) => {
        await s.setstat((await existing(s, 'chown', path)).real, { uid, gid });
      });
    },

    utimes(path, atimeMs, mtimeMs) {
      // SFTP (version 3) carries whole seconds.
      return runChange('utime', path, undefined, true, async (s) => {
        await s.setstat((await existing(s, 'utime', path)).real, { atime: Math.floor(atimeMs / 1000), mtime: Math.floor(mtimeMs / 1000) });
      });
    },

    symlink(target, path) {
      return runChange('symlink', target, path, false, async (s, sent) => {
        const { real, isRoot } = await locate(s, 'symlink', path);
        if (isRoot) throw new FsError('EEXIST', 'symlink', target, path);
        forget();
        sent();
        try {
          await s.symlink(target.startsWith('/') && rootReal !== '/' ? rootReal + target : target, real);
        } catch (err) {
          if (err instanceof SftpStatus) {
            const e = await explain(s, err, 'symlink', path);
            throw new FsError((e as FsError).code ?? 'EIO', 'symlink', target, path);
          }
          throw err;
        }
      });
    },

    readlink(path) {
      return run('readlink', path, undefined, true, async (s) => {
        const target = await s.readlink((await locate(s, 'readlink', path)).real);
        if (!target.startsWith('/') || rootReal === '/') return target;
        if (target === rootReal) return '/';
        return target.startsWith(rootReal + '/') ? target.slice(rootReal!.length) : target;
      });
    },

    realpath(path) {
      return run('realpath', path, undefined, true, async (s) => toVirtual((await existing(s, 'realpath', path)).real));
    },

    read(path, into, offset, length, position) {
      return run('read', path, undefined, true, async (s) => {
        const { real, attrs } = await existing(s, 'read', path);
        if ((attrs.mode & S_IFMT) === S_IFDIR) throw new FsError('EISDIR', 'read', path);
        const open = readHandle(s, real);
        return readFully(open.session, await open.handle, into, offset, length, position);
      });
    },

    write(path, data, position) {
      return runChange('write', path, undefined, true, async (s) => {
        const { real, attrs } = await existing(s, 'write', path);
        if ((attrs.mode & S_IFMT) === S_IFDIR) throw new FsError('EISDIR', 'write', path);
        const handle = await s.open(real, 'r+');
        try {
          await writeAll(s, handle, data, position);
        } finally {
          await s.close(handle);
        }
      });
    },

    copyFile(src, dest, mode = 0) {
      const exclusive = (mode & 1) !== 0;
      return runChange('copyfile', src, dest, !exclusive, async (s, sent) => {
        const from = await existing(s, 'copyfile', src);
        if ((from.attrs.mode & S_IFMT) === S_IFDIR) throw new FsError('EISDIR', 'copyfile', src, dest);
        const to = exclusive ? { real: (await locate(s, 'copyfile', dest)).real, attrs: undefined } : await follow(s, 'copyfile', dest);
        if (to.attrs && (to.attrs.mode & S_IFMT) === S_IFDIR) throw new FsError('EISDIR', 'copyfile', src, dest);
        if (to.attrs && exclusive) throw new FsError('EEXIST', 'copyfile', src, dest);
        if (to.real === from.real) return;
        const input = await s.open(from.real, 'r');
        try {
          sent();
          const output = await s.open(to.real, exclusive ? 'wx' : 'w', from.attrs.mode & 0o7777).catch(async (err: unknown) => {
            if (err instanceof SftpStatus) {
              const e = (await explain(s, err, 'open', dest)) as FsError;
              throw new FsError(e.code ?? 'EIO', 'copyfile', src, dest);
            }
            throw err;
          });
          try {
            if (s.has('copy-data')) await s.copyData(input, output);
            else await writeAll(s, output, await readAll(s, input, from.attrs.size), 0);
          } finally {
            await s.close(output);
          }
        } finally {
          closeLater(s, input);
        }
      });
    },

    link(existingPath, newPath) {
      return runChange('link', existingPath, newPath, false, async (s, sent) => {
        const from = await locate(s, 'link', existingPath);
        const to = await locate(s, 'link', newPath);
        sent();
        try {
          await s.hardlink(from.real, to.real);
        } catch (err) {
          if (err instanceof SftpStatus && err.status === SFTP_STATUS.FAILURE) throw new FsError('EEXIST', 'link', existingPath, newPath);
          throw err;
        }
      });
    },

    lutimes(path, atimeMs, mtimeMs) {
      return runChange('lutime', path, undefined, true, async (s) => {
        await s.lsetstat((await locate(s, 'lutime', path)).real, { atime: Math.floor(atimeMs / 1000), mtime: Math.floor(mtimeMs / 1000) });
      });
    },

    statfs(path) {
      return run('statfs', path, undefined, true, async (s) => {
        const v = await s.statvfs((await existing(s, 'statfs', path)).real);
        return { type: 0, bsize: v.frsize || v.bsize, blocks: v.blocks, bfree: v.bfree, bavail: v.bavail, files: v.files, ffree: v.ffree };
      });
    },

    open(path, flags) {
      return run('open', path, undefined, true, async (s) => {
        const { real, attrs } = await existing(s, 'open', path);
        if ((attrs.mode & S_IFMT) === S_IFDIR) throw new FsError('EISDIR', 'open', path);
        const handle = await s.open(real, flags);
        return openFile(path, real, flags, s, handle);
      });
    },

    async close() {
      if (sweeper) clearInterval(sweeper);
      readHandles.clear();
      pool.close();
    },
  };

  /**
   * A file held open on one session. If that session drops, the file is opened again by its server path
   * on a fresh one and the (idempotent, positional) request is sent again.
   */
  const openFile = (path: string, real: string, flags: 'r' | 'r+', session: SftpSession, handle: Buffer): BackendFile => {
    let current = { session, handle };
    const use = <T>(syscall: string, idempotent: boolean, body: (s: SftpSession, h: Buffer) => Promise<T>): Promise<T> =>
      run(syscall, path, undefined, idempotent, async (s) => {
        if (current.session.dead) current = { session: s, handle: await s.open(real, flags) };
        return body(current.session, current.handle);
      });
    return {
      read: (into, offset, length, position) => use('read', true, (s, h) => readFully(s, h, into, offset, length, position)),
      write: async (data, offset, length, position) => {
        await use('write', true, async (s, h) => {
          changed();
          try {
            await writeAll(s, h, data.subarray(offset, offset + length), position);
          } finally {
            changed();
          }
        });
        return length;
      },
      stat: () => use('fstat', true, async (s, h) => toStats(await s.fstat(h))),
      truncate: (length) => use('ftruncate', true, async (s, h) => {
        changed();
        try {
          await s.fsetstat(h, { size: length });
        } finally {
          changed();
        }
      }),
      sync: () => use('fsync', true, async (s, h) => {
        if (s.has('fsync@openssh.com')) await s.fsync(h);
      }),
      close: async () => {
        if (!current.session.dead) await current.session.close(current.handle).catch(() => undefined);
      },
    };
  };

  return backend;
}

/** Reads until `length` bytes or the end of the file (ssh2 may split a large read; a server may return less). */
async function readFully(s: SftpSession, handle: Buffer, into: Uint8Array, offset: number, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const n = await s.read(handle, into, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

function statusError(err: SftpStatus, syscall: string, path: string, dest?: string): FsError {
  switch (err.status) {
    case SFTP_STATUS.NO_SUCH_FILE: return new FsError('ENOENT', syscall, path, dest);
    case SFTP_STATUS.PERMISSION_DENIED: return new FsError('EACCES', syscall, path, dest);
    case SFTP_STATUS.OP_UNSUPPORTED: return new FsError('ENOTSUP', syscall, path, dest, 'operation not supported by the server');
    case SFTP_STATUS.BAD_MESSAGE: return new FsError('EINVAL', syscall, path, dest);
    default: return new FsError('EIO', syscall, path, dest, `the server failed: ${err.message}`);
  }
}

function direntType(mode: number): BackendDirent['type'] {
  const type = mode & S_IFMT;
  return type === S_IFREG ? 'file' : type === S_IFDIR ? 'directory' : type === S_IFLNK ? 'symlink' : 'other';
}

function toStats(a: Attributes): BackendStats {
  const mtimeMs = a.mtime * 1000;
  return {
    dev: 0, ino: 0, mode: a.mode, nlink: 1, uid: a.uid, gid: a.gid, rdev: 0, size: a.size,
    blksize: 4096, blocks: Math.ceil(a.size / 512),
    atimeMs: a.atime * 1000, mtimeMs, ctimeMs: mtimeMs, birthtimeMs: 0,
  };
}
