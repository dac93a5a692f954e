// The part of a TypeScript compiler host that asks the file system about paths, routed through an object
// shaped like node:fs (the drop-in or Node's own). The program test and the `nodefs` bench both use it;
// each keeps its own readFile and getSourceFile, which differ on purpose.
import type * as nodeFs from 'node:fs';
import type ts from 'typescript';

/** Points `host`'s existence, realpath and directory calls at `fileSystem`. */
export function routeLookups(host: ts.CompilerHost, fileSystem: typeof nodeFs): void {
  // As TypeScript's own sys does: any error (ENOENT, ENOTDIR under a file) means "no".
  const stat = (p: string): nodeFs.Stats | undefined => {
    try {
      return fileSystem.statSync(p, { throwIfNoEntry: false });
    } catch {
      return undefined;
    }
  };
  host.fileExists = (p) => stat(p)?.isFile() ?? false;
  host.directoryExists = (p) => stat(p)?.isDirectory() ?? false;
  host.realpath = (p) => fileSystem.realpathSync(p);
  host.getDirectories = (p) => fileSystem.readdirSync(p, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
}
