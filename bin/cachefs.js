#!/usr/bin/env node
// The `cachefs` executable: the command itself is compiled TypeScript (src/cli/main.ts).
import { run } from '../dist/src/cli/main.js';

await run(process.argv);
