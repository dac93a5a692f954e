import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { promisify } from 'node:util';

// Whole writes to the journal's files: the kernel may write less than asked (rarely), so each helper
// goes on until everything is out.

const writevAsync = promisify(fs.writev);

/** Writes `head` (and `data`) at the file's position, synchronously. */
export function writeAllSync(fd: number, head: Buffer, data?: Buffer): void {
  let written = data ? fs.writevSync(fd, [head, data]) : fs.writeSync(fd, head);
  // A short write (rare, but allowed): write the rest.
  const total = head.length + (data?.length ?? 0);
  while (written < total) {
    const rest = written < head.length ? Buffer.concat([head.subarray(written), data ?? Buffer.alloc(0)]) : data!.subarray(written - head.length);
    written += fs.writeSync(fd, rest);
  }
}

/** Writes `buffers` in order at the file's position. */
export async function writeAll(fd: number, buffers: Buffer[]): Promise<void> {
  let rest = buffers;
  let left = buffers.reduce((n, b) => n + b.length, 0);
  while (left > 0) {
    const { bytesWritten } = await writevAsync(fd, rest);
    left -= bytesWritten;
    if (left === 0) break;
    // A short write (rare, but allowed): continue after what went out.
    let skip = bytesWritten;
    const next: Buffer[] = [];
    for (const b of rest) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      next.push(skip > 0 ? b.subarray(skip) : b);
      skip = 0;
    }
    rest = next;
  }
}

/** Makes a directory's entries (a new segment's name) durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
