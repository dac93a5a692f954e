import type { Backend, BackendDirent, BackendStats } from '../backend.js';
import { FsError } from '../../errors.js';
import { RemoteCalls } from './calls.js';
import { SftpConnection } from './sftp-connection.js';
import { explainStatus } from './sftp-errors.js';
import { openFile } from './sftp-file.js';
import { closeLater, readAll, readFully, writeAll } from './sftp-io.js';
import { normal, SftpPaths } from './sftp-paths.js';
import { direntType, S_IFDIR, S_IFMT, S_IFREG, SFTP_STATUS, SftpStatus, toStats } from './sftp-protocol.js';
import { SessionPool } from './sftp-session.js';

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
  const paths = new SftpPaths(options.root ?? '/', options.attributeCacheMs ?? 100);
  const conn = new SftpConnection(calls, pool, paths);

  /**
   * The whole file with the lstat that travelled beside its open (one round trip for both, answered by
   * the server before the read began: the identity of the bytes read, for no request more). A link is
   * followed, and the stats are then its target's.
   */
  const readWhole = (path: string): Promise<{ data: Uint8Array; stats: BackendStats }> =>
    conn.run('open', path, undefined, true, async (s) => {
      const { real, isRoot } = await paths.locate(s, 'open', path);
      if (isRoot) throw new FsError('EISDIR', 'read', path);
      const [attrs, handle] = await Promise.all([paths.lstatOf(s, real), s.open(real, 'r').catch((err: unknown) => err as Error)]);
      const type = attrs.mode & S_IFMT;
      if (type !== S_IFREG) {
        if (Buffer.isBuffer(handle)) closeLater(s, handle);
        if (type === S_IFDIR) throw new FsError('EISDIR', 'read', path);
        const target = await paths.existing(s, 'open', path);
        if ((target.attrs.mode & S_IFMT) === S_IFDIR) throw new FsError('EISDIR', 'read', path);
        const h = await s.open(target.real, 'r');
        try {
          return { data: await readAll(s, h, target.attrs.size), stats: toStats(target.attrs) };
        } finally {
          closeLater(s, h);
        }
      }
      if (!Buffer.isBuffer(handle)) throw handle;
      try {
        return { data: await readAll(s, handle, attrs.size), stats: toStats(attrs) };
      } finally {
        closeLater(s, handle);
      }
    });

  const backend: Backend = {
    name: 'sftp',
    defaultRevalidate: 5000,

    stat(path) {
      return conn.run('stat', path, undefined, true, async (s) => toStats((await paths.existing(s, 'stat', path)).attrs));
    },

    lstat(path) {
      return conn.run('lstat', path, undefined, true, async (s) => toStats(await paths.lstatOf(s, (await paths.locate(s, 'lstat', path)).real)));
    },

    async readFile(path) {
      return (await readWhole(path)).data;
    },

    writeFile(path, data, options) {
      const exclusive = options?.flag === 'wx';
      // A whole-file replace can be sent again; an exclusive create cannot (the retry would see EEXIST).
      return conn.runChange('open', path, undefined, !exclusive, async (s, sent) => {
        const real = exclusive ? (await paths.locate(s, 'open', path)).real : (await paths.follow(s, 'open', path)).real;
        if (real === paths.root) throw new FsError('EISDIR', 'open', path);
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
      return conn.run('scandir', path, undefined, true, async (s) => {
        const { real, attrs } = await paths.existing(s, 'scandir', path);
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
          const found = await conn.run('mkdir', path, undefined, true, async (s) => {
            try {
              return (await paths.follow(s, 'mkdir', vpath)).attrs;
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
      return conn.runChange('mkdir', path, undefined, false, async (s, sent) => {
        const { real, isRoot } = await paths.locate(s, 'mkdir', path);
        if (isRoot) throw new FsError('EEXIST', 'mkdir', path);
        sent();
        await s.mkdir(real, mode);
      });
    },

    rmdir(path) {
      return conn.runChange('rmdir', path, undefined, false, async (s, sent) => {
        const { real, isRoot } = await paths.locate(s, 'rmdir', path);
        if (isRoot) throw new FsError('EBUSY', 'rmdir', path);
        conn.forget();
        sent();
        await s.rmdir(real);
      });
    },

    unlink(path) {
      return conn.runChange('unlink', path, undefined, false, async (s, sent) => {
        const { real, isRoot } = await paths.locate(s, 'unlink', path);
        if (isRoot) throw new FsError('EISDIR', 'unlink', path);
        conn.forget();
        sent();
        await s.unlink(real);
      });
    },

    rename(from, to) {
      return conn.runChange('rename', from, to, false, async (s, sent) => {
        const src = await paths.locate(s, 'rename', from);
        const dst = await paths.locate(s, 'rename', to);
        if (src.isRoot || dst.isRoot) throw new FsError('EBUSY', 'rename', from, to);
        if (src.real === dst.real) {
          await s.lstat(src.real);
          return;
        }
        conn.forget();
        sent();
        await s.rename(src.real, dst.real);
      });
    },

    truncate(path, length) {
      return conn.runChange('open', path, undefined, true, async (s) => {
        const { real, attrs } = await paths.existing(s, 'open', path);
        if ((attrs.mode & S_IFMT) === S_IFDIR) throw new FsError('EISDIR', 'open', path);
        await s.setstat(real, { size: length });
      });
    },

    chmod(path, mode) {
      return conn.runChange('chmod', path, undefined, true, async (s) => {
        await s.setstat((await paths.existing(s, 'chmod', path)).real, { mode: mode & 0o7777 });
      });
    },

    chown(path, uid, gid) {
      return conn.runChange('chown', path, undefined, true, async (s) => {
        await s.setstat((await paths.existing(s, 'chown', path)).real, { uid, gid });
      });
    },

    utimes(path, atimeMs, mtimeMs) {
      // SFTP (version 3) carries whole seconds.
      return conn.runChange('utime', path, undefined, true, async (s) => {
        await s.setstat((await paths.existing(s, 'utime', path)).real, { atime: Math.floor(atimeMs / 1000), mtime: Math.floor(mtimeMs / 1000) });
      });
    },

    symlink(target, path) {
      return conn.runChange('symlink', target, path, false, async (s, sent) => {
        const { real, isRoot } = await paths.locate(s, 'symlink', path);
        if (isRoot) throw new FsError('EEXIST', 'symlink', target, path);
        conn.forget();
        sent();
        try {
          await s.symlink(target.startsWith('/') && paths.root !== '/' ? paths.root + target : target, real);
        } catch (err) {
          if (err instanceof SftpStatus) {
            const e = await explainStatus(paths, s, err, 'symlink', path);
            throw new FsError((e as FsError).code ?? 'EIO', 'symlink', target, path);
          }
          throw err;
        }
      });
    },

    readlink(path) {
      return conn.run('readlink', path, undefined, true, async (s) => {
        const target = await s.readlink((await paths.locate(s, 'readlink', path)).real);
        if (!target.startsWith('/') || paths.root === '/') return target;
        if (target === paths.root) return '/';
        return target.startsWith(paths.root + '/') ? target.slice(paths.root.length) : target;
      });
    },

    realpath(path) {
      return conn.run('realpath', path, undefined, true, async (s) => paths.toVirtual((await paths.existing(s, 'realpath', path)).real));
    },

    read(path, into, offset, length, position) {
      return conn.run('read', path, undefined, true, async (s) => {
        const { real, attrs } = await paths.existing(s, 'read', path);
        if ((attrs.mode & S_IFMT) === S_IFDIR) throw new FsError('EISDIR', 'read', path);
        const open = conn.readHandles.get(s, real);
        return readFully(open.session, await open.handle, into, offset, length, position);
      });
    },

    write(path, data, position) {
      return conn.runChange('write', path, undefined, true, async (s) => {
        const { real, attrs } = await paths.existing(s, 'write', path);
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
      return conn.runChange('copyfile', src, dest, !exclusive, async (s, sent) => {
        const from = await paths.existing(s, 'copyfile', src);
        if ((from.attrs.mode & S_IFMT) === S_IFDIR) throw new FsError('EISDIR', 'copyfile', src, dest);
        const to = exclusive ? { real: (await paths.locate(s, 'copyfile', dest)).real, attrs: undefined } : await paths.follow(s, 'copyfile', dest);
        if (to.attrs && (to.attrs.mode & S_IFMT) === S_IFDIR) throw new FsError('EISDIR', 'copyfile', src, dest);
        if (to.attrs && exclusive) throw new FsError('EEXIST', 'copyfile', src, dest);
        if (to.real === from.real) return;
        const input = await s.open(from.real, 'r');
        try {
          sent();
          const output = await s.open(to.real, exclusive ? 'wx' : 'w', from.attrs.mode & 0o7777).catch(async (err: unknown) => {
            if (err instanceof SftpStatus) {
              const e = (await explainStatus(paths, s, err, 'open', dest)) as FsError;
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
      return conn.runChange('link', existingPath, newPath, false, async (s, sent) => {
        const from = await paths.locate(s, 'link', existingPath);
        const to = await paths.locate(s, 'link', newPath);
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
      return conn.runChange('lutime', path, undefined, true, async (s) => {
        await s.lsetstat((await paths.locate(s, 'lutime', path)).real, { atime: Math.floor(atimeMs / 1000), mtime: Math.floor(mtimeMs / 1000) });
      });
    },

    statfs(path) {
      return conn.run('statfs', path, undefined, true, async (s) => {
        const v = await s.statvfs((await paths.existing(s, 'statfs', path)).real);
        return { type: 0, bsize: v.frsize || v.bsize, blocks: v.blocks, bfree: v.bfree, bavail: v.bavail, files: v.files, ffree: v.ffree };
      });
    },

    open(path, flags) {
      return conn.run('open', path, undefined, true, async (s) => {
        const { real, attrs } = await paths.existing(s, 'open', path);
        if ((attrs.mode & S_IFMT) === S_IFDIR) throw new FsError('EISDIR', 'open', path);
        const handle = await s.open(real, flags);
        return openFile(conn, path, real, flags, s, handle);
      });
    },

    async close() {
      conn.close();
    },
  };

  // Non-enumerable (see Backend.readFileWithStats): a spread wrapper replacing readFile is not bypassed.
  Object.defineProperty(backend, 'readFileWithStats', { value: readWhole, enumerable: false });
  return backend;
}
