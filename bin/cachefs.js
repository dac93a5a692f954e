#!/usr/bin/env node
// The `cachefs` executable: the command itself is compiled TypeScript (src/cli/main.ts). On a clone
// that was not installed or built yet, it says what to do instead of printing a stack trace.
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('cachefs: not built yet: run `npm install` in the repository (it builds), or `npm run build`.\n');
  process.exit(1);
}
let run;
try {
  ({ run } = await import(main.href));
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  const missing = /Cannot find (?:package|module) '([^']+)'/.exec(err.message)?.[1] ?? 'a dependency';
  process.stderr.write(`cachefs: ${missing} is missing: run \`npm install\` first.\n`);
  process.exit(1);
}
await run(process.argv);
