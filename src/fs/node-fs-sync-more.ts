import type { BackendStatFs } from '../backend/backend.js';
import { asCallError, fsError } from '../errors.js';
import { pathString, type PathLike } from '../paths.js';
import { isSymlinkMode } from '../util/modes.js';
import { toTimeMs } from './arguments.js';
import { copyTreeSync, type CopyOptions } from './copy-tree.js';
import { CacheDir } from './dir.js';
import type { BigIntStatFs } from './more-calls.js';
import type { NameEncoding } from './names.js';
import { pathArg, type NodeFsContext } from './node-fs-context.js';
import type { SyncForms } from './node-fs-sync.js';
import type { DirEntry, FileStats } from './stats-object.js';

/**
 * The `…Sync` forms of the calls the cache gained with the rest of the fs surface (`link`, `lchown`,
 * `lutimes`, `statfs`, `opendir`, `cp`), by the same rules as the others (node-fs-sync.ts): the backend's
 * sync face at once, unflushed write-back bytes written through first, the cache forgetting the paths.
 * Each fails as its async twin does where the backend lacks the face (EPERM, ENOTSUP, ENOSYS).
 */
export function moreSyncForms(ctx: NodeFsContext, sync: SyncForms) {
  const { port } = ctx;

  const isLink = (key: string, syscall: string, shown: string): boolean => isSymlinkMode(port.stat(key, false, syscall, shown).mode);

  return {
    linkSync(existingPath: PathLike, newPath: PathLike): void {
      const a = pathArg(ctx, existingPath, 'existingPath');
      const b = pathArg(ctx, newPath, 'newPath');
      port.mutate('link', [a.key, b.key], (face) => {
        try {
          if (!face.link) throw fsError('EPERM', 'link', a.shown, b.shown);
          // The link shares the backend's file: its bytes go first; a dirty name there must stay (EEXIST).
          port.writeDirtyThrough(face, a.key);
          port.writeDirtyThrough(face, b.key);
          face.link(a.key, b.key);
        } catch (err) {
          throw asCallError(err, 'link', a.shown, b.shown);
        }
      });
    },
    lchownSync(path: PathLike, uid: number, gid: number): void {
      const p = pathArg(ctx, path);
      const link = isLink(p.key, 'lchown', p.shown);
      port.mutate('chown', [p.key], (face) => {
        try {
          port.writeDirtyThrough(face, p.key);
          if (face.lchown) face.lchown(p.key, uid, gid);
          else if (!link && face.chown) face.chown(p.key, uid, gid);
          else if (link && face.chown) throw fsError('EPERM', 'lchown', p.shown);
        } catch (err) {
          throw asCallError(err, 'lchown', p.shown);
        }
      });
    },
    lutimesSync(path: PathLike, atime: number | string | Date, mtime: number | string | Date): void {
      const atimeMs = toTimeMs(atime, 'atime');
      const mtimeMs = toTimeMs(mtime, 'mtime');
      const p = pathArg(ctx, path);
      if (!isLink(p.key, 'lutime', p.shown)) return sync.utimesSync(path, atime, mtime);
      port.mutate('utimes', [p.key], (face) => {
        try {
          if (!face.lutimes) throw fsError('ENOTSUP', 'lutime', p.shown);
          face.lutimes(p.key, atimeMs, mtimeMs);
        } catch (err) {
          throw asCallError(err, 'lutime', p.shown);
        }
      });
    },
    statfsSync(path: PathLike, options?: { bigint?: boolean } | null): BackendStatFs | BigIntStatFs {
      const p = pathArg(ctx, path);
      const face = port.face('statfs');
      let found: BackendStatFs;
      try {
        if (!face.statfs) throw fsError('ENOSYS', 'statfs', p.shown);
        found = face.statfs(port.resolve(p.key, 'statfs'));
      } catch (err) {
        throw asCallError(err, 'statfs', p.shown);
      }
      const { type, bsize, blocks, bfree, bavail, files, ffree } = found;
      const plain = { type, bsize, blocks, bfree, bavail, files, ffree };
      if (options?.bigint !== true) return plain;
      return Object.fromEntries(Object.entries(plain).map(([k, v]) => [k, BigInt(v)])) as BigIntStatFs;
    },
    /** Node's `cpSync`: the same steps and checks as the cache's `cp` (copy-tree.ts), through the sync forms. */
    cpSync(src: PathLike, dest: PathLike, options?: Omit<CopyOptions, 'filter'> & { filter?: (src: string, dest: string) => boolean } | null): void {
      copyTreeSync({
        stat: (p) => sync.statSync(p) as FileStats, lstat: (p) => sync.lstatSync(p) as FileStats, mkdir: (p, o) => sync.mkdirSync(p, o),
        copyFile: (a, b, mode) => sync.copyFileSync(a, b, mode), readlink: (p) => sync.readlinkSync(p) as string, symlink: (t, p) => sync.symlinkSync(t, p),
        unlink: (p) => sync.unlinkSync(p), chmod: (p, mode) => sync.chmodSync(p, mode), cwd: () => ctx.cache.cwd(),
        readdir: (p) => sync.readdirSync(p) as string[],
      }, pathString(src), pathString(dest), options ?? {});
    },
    opendirSync(path: PathLike, options?: { recursive?: boolean; encoding?: NameEncoding | null } | null): CacheDir {
      let entries: DirEntry[];
      try {
        entries = sync.readdirSync(path, { withFileTypes: true, recursive: options?.recursive === true, encoding: options?.encoding ?? null }) as DirEntry[];
      } catch (err) {
        throw asCallError(err, 'opendir', pathString(path));
      }
      return new CacheDir(pathString(path), entries);
    },
  };
}
