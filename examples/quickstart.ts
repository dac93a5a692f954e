// The README's first command runs this: a cache over an in-memory backend, a few reads and writes,
// and the statistics that show what the cache did.
import { CacheFS, memoryBackend } from '../src/index.js';

const backend = memoryBackend({
  '/site/index.html': '<h1>hello from cachefs</h1>\n',
  '/site/app.js': 'console.log("app");\n',
});
const fs = new CacheFS(backend, { maxBytes: 1024 * 1024, metadataCache: true });

const first = await fs.readFile('/site/index.html', 'utf8'); // miss: read from the backend
const second = await fs.readFile('/site/index.html', 'utf8'); // hit: a memory copy
console.log(`read twice, same bytes: ${first === second}`);

await fs.writeFile('/site/app.js', 'console.log("app v2");\n'); // write-through: backend, then cache
console.log(`after a write: ${await fs.readFile('/site/app.js', 'utf8')}`.trimEnd());

const handle = await fs.open('/site/index.html', 'r');
const buf = Buffer.alloc(9);
const { bytesRead } = await handle.read(buf, 0, 9, 4); // positional read, straight out of the cache
await handle.close();
console.log(`handle read ${bytesRead} bytes at position 4: ${buf.toString()}`);

console.log('stats:', fs.stats());
await fs.close();
