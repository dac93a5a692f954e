import type { Namespace } from '../engine/namespace.js';
import { joinPath } from '../paths.js';
import { DirEntry } from './stats-object.js';

/**
 * `readdir` of directory `key` (shown as `viewDir`): names, or `DirEntry` objects with `withTypes`,
 * sorted by name as Node's are on Linux; `recursive` walks below it, naming entries by their relative
 * paths. An error in the listed directory names `shown`, one below it the path in the view.
 */
export async function listDirectory(
  namespace: Namespace, key: string, shown: string, viewDir: string, withTypes: boolean, recursive: boolean,
): Promise<string[] | DirEntry[]> {
  const names: string[] = [];
  const entries: DirEntry[] = [];
  const walk = async (dirKey: string, viewPath: string, prefix: string): Promise<void> => {
    const list = await namespace.list(dirKey, dirKey === key ? shown : viewPath);
    list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of list) {
      names.push(prefix + e.name);
      if (withTypes) entries.push(new DirEntry(e.name, e.type, viewPath));
      if (recursive && e.type === 'directory') await walk(joinPath(dirKey, e.name), joinPath(viewPath, e.name), `${prefix}${e.name}/`);
    }
  };
  await walk(key, viewDir, '');
  return withTypes ? entries : names;
}
