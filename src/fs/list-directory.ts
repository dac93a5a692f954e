import type { Namespace } from '../engine/namespace.js';
import { joinPath } from '../paths.js';
import { nameAs } from '../util/byte-path.js';
import { namesAs, type NameEncoding } from './names.js';
import { DirEntry } from './stats-object.js';

/**
 * `readdir` of directory `key` (shown as `viewDir`): names, or `DirEntry` objects with `withTypes`,
 * sorted by name as Node's are on Linux; `recursive` walks below it, naming entries by their relative
 * paths. An error in the listed directory names `shown`, one below it the path in the view. Names are
 * in `encoding` (see names.ts); an entry's `parentPath` is a Buffer with `'buffer'`, else UTF-8 text.
 * Listing names, Node 20 also walks below a link to a directory (it stats each entry; with file types it
 * goes by the entry's own type): `linksToDirectory` tells, false for a dangling link.
 */
export async function listDirectory(
  namespace: Namespace, key: string, shown: string, viewDir: string, withTypes: boolean, recursive: boolean,
  encoding: NameEncoding = 'utf8', linksToDirectory: (key: string) => Promise<boolean> = async () => false,
): Promise<(string | Buffer)[] | DirEntry[]> {
  // A Buffer where Node gives one (the type says string, as Node's own `Dirent` type does).
  const entryName = (text: string) => nameAs(text, encoding) as string;
  const parentName = (text: string) => nameAs(text, encoding === 'buffer' ? 'buffer' : 'utf8') as string;
  const names: string[] = [];
  const entries: DirEntry[] = [];
  const walk = async (dirKey: string, viewPath: string, prefix: string): Promise<void> => {
    const list = await namespace.list(dirKey, dirKey === key ? shown : viewPath);
    list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // Node's parentPath is the path as the program gave it (relative, or with its trailing slash) when
    // not recursive, as the sync form's already is; a URL's is its path.
    const parent = withTypes ? parentName(dirKey === key && !recursive && !shown.startsWith('file:') ? shown : viewPath) : '';
    for (const e of list) {
      names.push(prefix + e.name);
      if (withTypes) entries.push(new DirEntry(entryName(e.name), e.type, parent));
      if (!recursive) continue;
      const below = joinPath(dirKey, e.name);
      if (e.type === 'directory' || (e.type === 'symlink' && !withTypes && (await linksToDirectory(below)))) {
        await walk(below, joinPath(viewPath, e.name), `${prefix}${e.name}/`);
      }
    }
  };
  await walk(key, viewDir, '');
  return withTypes ? entries : namesAs(names, encoding);
}
