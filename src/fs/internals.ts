/**
 * The key under which a cache hands its view (root and working directory) to the node:fs drop-in,
 * which lives beside the facade rather than inside it (src/fs/node-fs.ts).
 */
export const VIEW_OF = Symbol('cachefs.view');
