// The write-back journal: its record format, torn tails, replay (renames, removals, flushed data,
// failures), the lock, and compaction.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { appendFile as appendDisk, mkdir, readdir, readFile, rm, stat, truncate as truncateDisk, writeFile as writeDisk } from 'node:fs/promises';
import { join } from 'node:path';
import { CacheFS, memoryBackend, nodeBackend, type Backend } from '../src/index.js';
import { faultyBackend } from './fault-backend.js';
import { crc32, crc32Table } from '../src/write/back/crc32.js';
import { decodeSegment, encodeRecord, encodeRecordParts, SEGMENT_MAGIC, type JournalRecord } from '../src/write/back/journal-format.js';
import { Journal } from '../src/write/back/journal.js';
import { tempDirs, until, backendText } from './support.js';

const dirs = tempDirs();
after(() => dirs.cleanup());

const SAMPLE: JournalRecord[] = [
  { type: 'write', lsn: 1, path: '/a', data: Buffer.from('whole content') },
  { type: 'pwrite', lsn: 2, path: '/dir/é b', position: 2 ** 40 + 7, data: Buffer.from([0, 1, 2, 255]) },
  { type: 'truncate', lsn: 3, path: '/a', length: 12345 },
  { type: 'flushed', lsn: 4, path: '/a', upTo: 3 },
  { type: 'renameIntent', lsn: 5, from: '/a', to: '/b' },
  { type: 'renameDone', lsn: 6, intent: 5, from: '/a', to: '/b' },
  { type: 'renameAbort', lsn: 7, intent: 5 },
  { type: 'removed', lsn: 2 ** 52, path: '/b' },
  { type: 'write', lsn: 9, path: '/empty', data: Buffer.alloc(0) },
];

function segmentOf(records: JournalRecord[]): Buffer {
  return Buffer.concat([SEGMENT_MAGIC, ...records.map(encodeRecord)]);
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.cfj')).sort();
}


/** Stops `cfs` as if its process had died: no flush, the journal files left as they are. */
async function crash(cfs: CacheFS): Promise<void> {
  await cfs.core.journal!.detach();
}

describe('record format', () => {
  test('CRC-32 is the standard one, natively and in JavaScript', () => {
    assert.equal(crc32Table(Buffer.from('123456789')), 0xcbf43926);
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    for (let i = 0; i < 20; i++) {
      const data = randomBytes(i * 97);
      assert.equal(crc32Table(data), crc32(data));
      const cut = Math.floor(data.length / 3);
      assert.equal(crc32(data.subarray(cut), crc32(data.subarray(0, cut))), crc32(data), 'continued over two buffers');
      assert.equal(crc32Table(data.subarray(cut), crc32Table(data.subarray(0, cut))), crc32(data));
    }
  });

  test('a record written in two parts (header, then the data uncopied) has the same bytes', () => {
    for (const r of SAMPLE) {
      const [head, data] = encodeRecordParts(r);
      assert.deepEqual(Buffer.concat(data ? [head, data] : [head]), encodeRecord(r), r.type);
    }
  });

  test('every record type survives encoding and decoding', () => {
    const decoded = decodeSegment(segmentOf(SAMPLE));
    assert.equal(decoded.torn, false);
    assert.deepEqual(decoded.records, SAMPLE);
  });

  test('each record is length, CRC-32 of the body, then the body', () => {
    const buf = encodeRecord({ type: 'truncate', lsn: 1, path: '/x', length: 5 });
    const body = buf.subarray(8);
    assert.equal(buf.readUInt32LE(0), body.length);
    assert.equal(buf.readUInt32LE(4), crc32(body));
    assert.equal(body[0], 3, 'type byte');
  });

  test('a torn tail is ignored wherever the append was cut', () => {
    const full = segmentOf(SAMPLE);
    const ends = [SEGMENT_MAGIC.length];
    for (const r of SAMPLE) ends.push(ends[ends.length - 1]! + encodeRecord(r).length);
    for (let cut = 0; cut <= full.length; cut++) {
      const whole = ends.filter((e) => e <= cut).length - 1;
      const decoded = decodeSegment(full.subarray(0, cut));
      assert.deepEqual(decoded.records, SAMPLE.slice(0, Math.max(0, whole)), `cut at ${cut}`);
      assert.equal(decoded.torn, cut > SEGMENT_MAGIC.length && !ends.includes(cut) || (cut > 0 && cut < SEGMENT_MAGIC.length));
    }
  });

  test('a record whose bytes were damaged ends the segment there', () => {
    const full = segmentOf(SAMPLE);
    const third = SEGMENT_MAGIC.length + encodeRecord(SAMPLE[0]!).length + encodeRecord(SAMPLE[1]!).length;
    const damaged = Buffer.from(full);
    damaged[third + 12]! ^= 0x40;
    const decoded = decodeSegment(damaged);
    assert.deepEqual(decoded.records, SAMPLE.slice(0, 2));
    assert.equal(decoded.torn, true);
  });
});

describe('replay', () => {
  test('acknowledged writes of a crashed cache reach the backend before the next one serves', async () => {
    const journal = await dirs.make();
    const backend = memoryBackend({ '/keep': 'keep me', '/f': 'abcdef' });
    const first = new CacheFS(backend, { writeMode: 'write-back', journal, flushInterval: 0 });
    await first.ready();
    await first.writeFile('/new', 'fresh');
    const h = await first.open('/f', 'r+');
    await h.write('XY', 2);
    await h.write('!', 10);
    await first.truncate('/f', 12);
    await first.appendFile('/f', '+tail');
    await first.writeFile('/gone', 'removed later');
    await first.unlink('/gone');
    await first.writeFile('/old-name', 'moved');
    await first.rename('/old-name', '/new-name');
    await crash(first);
    assert.equal(await backendText(backend, '/new'), '', 'nothing was flushed');

    const second = new CacheFS(backend, { writeMode: 'write-back', journal, flushInterval: 0 });
    // Called before ready(): it must wait for the replay, not read the stale backend.
    const early = second.readFile('/f', 'latin1');
    assert.equal(await early, 'abXYef\0\0\0\0!\0+tail');
    await second.ready();
    assert.equal(await backendText(backend, '/new'), 'fresh');
    assert.equal(await backendText(backend, '/f'), 'abXYef\0\0\0\0!\0+tail');
    assert.equal(await backendText(backend, '/gone'), undefined, 'a removed file is not resurrected');
    assert.equal(await backendText(backend, '/old-name'), undefined);
    assert.equal(await backendText(backend, '/new-name'), 'moved');
    assert.equal(await backendText(backend, '/keep'), 'keep me');
    assert.deepEqual(second.core.journal!.lastReplay!.replayed.sort(), ['/f', '/new', '/new-name']);
    await second.close();
    assert.deepEqual(await segmentFiles(journal), [], 'a clean close leaves no segment');
  });

  test('flushed records are not replayed over later changes made outside the cache', async () => {
    const journal = await dirs.make();
    const backend = memoryBackend({ '/a': '' });
    const first = new CacheFS(backend, { writeMode: 'write-back', journal, flushInterval: 0 });
    await first.writeFile('/a', 'flushed');
    await first.flush();
    await first.writeFile('/b', 'not flushed');
    await crash(first);
    await backend.writeFile('/a', Buffer.from('changed by someone else'));
    const second = new CacheFS(backend, { writeMode: 'write-back', journal });
    await second.ready();
    assert.equal(await backendText(backend, '/a'), 'changed by someone else');
    assert.equal(await backendText(backend, '/b'), 'not flushed');
    await second.close();
  });

  test('a file removed with its dirty data, directory and all, stays removed', async () => {
    const journal = await dirs.make();
    const backend = memoryBackend({ '/d/x': '', '/d/y': '' });
    const first = new CacheFS(backend, { writeMode: 'write-back', journal, flushInterval: 0 });
    await first.writeFile('/d/x', 'x');
    await first.writeFile('/d/y', 'y');
    await first.rm('/d', { recursive: true });
    await first.mkdir('/d');
    await first.writeFile('/d/x', 'second life');
    await crash(first);
    const second = new CacheFS(backend, { writeMode: 'write-back', journal });
    await second.ready();
    assert.deepEqual((await second.readdir('/d')).sort(), ['x']);
    assert.equal(await second.readFile('/d/x', 'utf8'), 'second life');
    await second.close();
  });

  test('data written into a directory that was then renamed lands under the new name', async () => {
    const journal = await dirs.make();
    const root = await dirs.make();
    const backend = nodeBackend(root);
    await backend.mkdir('/d');
    await backend.writeFile('/d/x', Buffer.from('x0'));
    const first = new CacheFS(backend, { writeMode: 'write-back', journal, flushInterval: 0 });
    await first.writeFile('/d/x', 'x1');
    await first.rename('/d', '/e');
    await first.writeFile('/e/y', 'y1');
    await first.rename('/e/y', '/e/x');
    await crash(first);
    const second = new CacheFS(backend, { writeMode: 'write-back', journal });
    await second.ready();
    assert.equal(await readFile(join(root, 'e/x'), 'utf8'), 'y1');
    assert.deepEqual(await readdir(join(root, 'e')), ['x']);
    await second.close();
  });

  test('a rename cut short by the crash is settled by asking the backend whether it happened', async () => {
    for (const happened of [true, false]) {
      const journalDir = await dirs.make();
      const backend = memoryBackend({ '/a': '', '/b': 'b before' });
      const journal = Journal.open(journalDir, { sync: false });
      await journal.replay(backend);
      await journal.write('/a', Buffer.from('data of a'));
      await journal.write('/b', Buffer.from('data of b'));
      await journal.renameIntent('/a', '/b').written;
      if (happened) await backend.rename('/a', '/b');
      await journal.detach();
      const cfs = new CacheFS(backend, { journal: journalDir });
      await cfs.ready();
      if (happened) {
        assert.equal(await backendText(backend, '/b'), 'data of a', 'the rename happened: a’s data is b’s, b’s is gone');
        assert.equal(await backendText(backend, '/a'), undefined);
      } else {
        assert.equal(await backendText(backend, '/a'), 'data of a', 'no rename: each keeps its data');
        assert.equal(await backendText(backend, '/b'), 'data of b');
      }
      await cfs.close();
    }
  });

  test('a replay never creates a file: one removed after its data was journaled stays removed', async () => {
    const journalDir = await dirs.make();
    const backend = memoryBackend({ '/a': '', '/d/b': '' });
    const journal = Journal.open(journalDir, { sync: false });
    await journal.replay(backend);
    await journal.write('/a', Buffer.from('data of a'));
    await journal.pwrite('/d/b', 3, Buffer.from('data of b'));
    // The crash hit after the backend removed them and before the removal was journaled.
    await backend.unlink('/a');
    await backend.unlink('/d/b');
    await backend.rmdir('/d');
    await journal.detach();
    const cfs = new CacheFS(backend, { journal: journalDir });
    await cfs.ready();
    assert.deepEqual((await backend.readdir('/')).map((e) => e.name), []);
    assert.deepEqual(cfs.core.journal!.lastReplay!.skipped.sort(), ['/a', '/d/b']);
    await cfs.close();
  });

  test('log before data: when a flush reaches the backend, the writes it carries are already journaled', async () => {
    const journal = await dirs.make();
    const inner = memoryBackend({ '/f': 'abcdef' });
    // Looks at the journal file at the very moment the flush asks the backend to write.
    let journaledAtWrite: JournalRecord[] | undefined;
    const backend: Backend = {
      ...inner,
      write(path, data, position) {
        const [segment] = readdirSync(journal).filter((n) => n.endsWith('.cfj'));
        journaledAtWrite = decodeSegment(readFileSync(join(journal, segment!))).records;
        return inner.write!(path, data, position);
      },
    };
    // journalSync: appends are asynchronous (each waits for an fdatasync), so a flush can start while
    // the append of a write it carries is still on its way.
    const cfs = new CacheFS(backend, { writeMode: 'write-back', journal, flushInterval: 0, journalSync: true });
    await cfs.readFile('/f');
    const h = await cfs.open('/f', 'r+');
    const writing = h.write('XYZ', 1);
    while (cfs.detailedStats().dirtyEntries === 0) await new Promise((resolve) => setImmediate(resolve));
    await cfs.flush();
    await writing;
    assert.ok(
      journaledAtWrite!.some((r) => r.type === 'pwrite' && r.path === '/f' && r.data.toString() === 'XYZ'),
      'the pwrite record was in the journal file before the backend was written',
    );
    await h.close();
    await cfs.close();
    assert.equal(await backendText(backend, '/f'), 'aXYZef');
  });

  test('a torn last record (an append the crash cut) is ignored; the records before it are replayed', async () => {
    const journal = await dirs.make();
    const backend = memoryBackend({ '/f': '' });
    const first = new CacheFS(backend, { writeMode: 'write-back', journal, flushInterval: 0 });
    await first.writeFile('/f', 'acknowledged');
    await first.appendFile('/f', ' and this too');
    await crash(first);
    const [segment] = await segmentFiles(journal);
    const file = join(journal, segment!);
    const whole = (await stat(file)).size;
    // Half of an append that never completed: a record header promising more than is there.
    const torn = encodeRecord({ type: 'pwrite', lsn: 99, path: '/f', position: 0, data: Buffer.from('GARBAGE!') });
    await appendDisk(file, torn.subarray(0, torn.length - 3));
    const second = new CacheFS(backend, { writeMode: 'write-back', journal });
    await second.ready();
    assert.equal(await backendText(backend, '/f'), 'acknowledged and this too');
    await second.close();
    // And a tail cut inside the last acknowledged record's bytes loses only that record.
    const third = new CacheFS(backend, { writeMode: 'write-back', journal, flushInterval: 0 });
    await third.writeFile('/f', 'v1');
    await third.writeFile('/f', 'v2');
    await crash(third);
    const [seg2] = await segmentFiles(journal);
    await truncateDisk(join(journal, seg2!), (await stat(join(journal, seg2!))).size - 1);
    const fourth = new CacheFS(backend, { writeMode: 'write-back', journal });
    await fourth.ready();
    assert.equal(await backendText(backend, '/f'), 'v1');
    await fourth.close();
    assert.ok(whole > SEGMENT_MAGIC.length);
  });

  test('a replay the backend refuses fails ready() and every call, keeps the journal, and succeeds later', async () => {
    const journal = await dirs.make();
    const inner = memoryBackend({ '/f': '' });
    const first = new CacheFS(inner, { writeMode: 'write-back', journal, flushInterval: 0 });
    await first.writeFile('/f', 'must arrive');
    await crash(first);
    const failing = faultyBackend(inner, { failWrites: 'EIO' });
    const second = new CacheFS(failing, { writeMode: 'write-back', journal });
    await assert.rejects(second.ready(), (err: Error & { code?: string; errors?: unknown[] }) => {
      assert.equal(err.code, 'ERR_CACHEFS_JOURNAL_REPLAY');
      assert.match(err.message, /\/f/);
      assert.equal((err.errors![0] as { code: string }).code, 'EIO');
      return true;
    });
    await assert.rejects(second.readFile('/f'), { code: 'ERR_CACHEFS_JOURNAL_REPLAY' });
    await second.close();
    assert.equal((await segmentFiles(journal)).length, 1, 'the journal is kept');
    const third = new CacheFS(inner, { writeMode: 'write-back', journal });
    await third.ready();
    assert.equal(await backendText(inner, '/f'), 'must arrive');
    await third.close();
  });

  test('a journal of a write-back process is replayed by a cache in another write mode, which appends nothing', async () => {
    const journal = await dirs.make();
    const backend = memoryBackend({ '/f': '' });
    const first = new CacheFS(backend, { writeMode: 'write-back', journal, flushInterval: 0, journalSync: true });
    await first.writeFile('/f', 'synced');
    await crash(first);
    const second = new CacheFS(backend, { writeMode: 'write-through', journal });
    assert.equal(await second.readFile('/f', 'utf8'), 'synced');
    await second.writeFile('/g', 'through');
    assert.deepEqual(await segmentFiles(journal), []);
    await second.close();
  });

  test('a sub() view made during the replay waits for it too', async () => {
    const journal = await dirs.make();
    const backend = memoryBackend({ '/v/f': '' });
    const first = new CacheFS(backend, { writeMode: 'write-back', journal, flushInterval: 0 });
    await first.writeFile('/v/f', 'in the view');
    await crash(first);
    const second = new CacheFS(backend, { writeMode: 'write-back', journal });
    const view = second.sub('/v');
    assert.equal(await view.readFile('/f', 'utf8'), 'in the view');
    await second.close();
  });
});

describe('a journal that cannot be written', () => {
  test('the write rejects with the journal file’s error; the data stays cached, dirty, and is flushed', async () => {
    const parent = await dirs.make();
    const journal = join(parent, 'journal');
    const backend = memoryBackend({ '/f': '' });
    const cfs = new CacheFS(backend, { writeMode: 'write-back', journal, flushInterval: 0 });
    await cfs.ready();
    await rm(journal, { recursive: true }); // the journal's directory vanished under the cache
    await assert.rejects(cfs.writeFile('/f', 'not journaled'), (err: Error & { code?: string; syscall?: string; path?: string }) => {
      assert.equal(err.code, 'ENOENT');
      assert.equal(err.syscall, 'write');
      assert.ok(err.path!.startsWith(journal), `names the journal file: ${err.path}`);
      return true;
    });
    assert.equal(await cfs.readFile('/f', 'utf8'), 'not journaled');
    assert.equal(cfs.detailedStats().dirtyEntries, 1);
    await mkdir(journal);
    await cfs.writeFile('/g', 'journaled again');
    await cfs.close();
    assert.equal(await backendText(backend, '/f'), 'not journaled');
    assert.equal(await backendText(backend, '/g'), 'journaled again');
  });
});

describe('one owner per journal', () => {
  test('a second cache on a journal in use is refused with ERR_CACHEFS_JOURNAL_LOCKED', async () => {
    const journal = await dirs.make();
    const first = new CacheFS(memoryBackend(), { writeMode: 'write-back', journal });
    await first.ready();
    assert.throws(() => new CacheFS(memoryBackend(), { writeMode: 'write-back', journal }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'ERR_CACHEFS_JOURNAL_LOCKED');
      assert.ok(err.message.includes(journal));
      return true;
    });
    await first.close();
    const again = new CacheFS(memoryBackend(), { writeMode: 'write-back', journal });
    await again.close();
  });

  test('a lock left by a dead process is taken over', async () => {
    const journal = await dirs.make();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    await writeDisk(join(journal, 'LOCK'), `${dead.stdout.toString()}\n`);
    const cfs = new CacheFS(memoryBackend(), { writeMode: 'write-back', journal });
    assert.equal((await readFile(join(journal, 'LOCK'), 'utf8')).trim(), String(process.pid));
    await cfs.close();
  });

  test('an unusable journal directory fails construction with its fs error code', async () => {
    const parent = await dirs.make();
    await writeDisk(join(parent, 'file'), 'not a directory');
    assert.throws(() => new CacheFS(memoryBackend(), { writeMode: 'write-back', journal: join(parent, 'file', 'j') }), { code: 'ENOTDIR' });
  });
});

describe('compaction', () => {
  test('segments whose records were all flushed are deleted, so the journal stays bounded', async () => {
    const dir = await dirs.make();
    const backend = memoryBackend();
    const journal = Journal.open(dir, { sync: false, segmentBytes: 16 * 1024 });
    await journal.replay(backend);
    const data = Buffer.alloc(1000, 'j');
    let largest = 0;
    for (let round = 0; round < 100; round++) {
      const path = `/f${round % 7}`;
      let last = 0;
      for (let i = 0; i < 5; i++) {
        await journal.pwrite(path, i * 1000, data);
        last = journal.latestLsn(path)!;
      }
      await journal.flushed(path, last);
      await journal.idle(); // segment deletion is asynchronous: measure once it caught up
      largest = Math.max(largest, await journal.sizeOnDisk());
    }
    // 500 KB were journaled; with every write flushed soon after, about two segments' worth remain.
    assert.ok(largest <= 3 * 16 * 1024, `journal peaked at ${largest} bytes`);
    await journal.close();
    assert.deepEqual(await segmentFiles(dir), []);
  });

  test('records of a file not yet flushed keep their segment; flushing it releases it', async () => {
    const dir = await dirs.make();
    const journal = Journal.open(dir, { sync: false, segmentBytes: 4096 });
    await journal.replay(memoryBackend());
    await journal.write('/slow', Buffer.alloc(100, 's'));
    const slowLsn = journal.latestLsn('/slow')!;
    for (let i = 0; i < 50; i++) {
      await journal.write('/fast', Buffer.alloc(500, 'f'));
      await journal.flushed('/fast', journal.latestLsn('/fast')!);
    }
    const files = await segmentFiles(dir);
    assert.ok(files.length >= 2, 'the oldest segment is held by /slow');
    assert.ok(files[0]!.startsWith('0000000000000001'), 'the first segment is still there');
    await journal.flushed('/slow', slowLsn);
    await journal.write('/fast', Buffer.alloc(500, 'f'));
    await until(async () => !(await segmentFiles(dir)).includes(files[0]!), 'the first segment is deleted');
    await journal.flushed('/fast', journal.latestLsn('/fast')!);
    await journal.close();
  });

  test('through a cache: after flush() the journal shrinks, after close() it is gone', async () => {
    const journal = await dirs.make();
    const cfs = new CacheFS(memoryBackend(), { writeMode: 'write-back', journal, flushInterval: 0 });
    for (let i = 0; i < 200; i++) await cfs.writeFile(`/f${i % 10}`, Buffer.alloc(8 * 1024, i));
    const before = await cfs.core.journal!.sizeOnDisk();
    assert.ok(before > 1024 * 1024, `about 1.6 MB journaled, found ${before}`);
    await cfs.flush();
    await cfs.writeFile('/after', 'one more');
    await until(async () => (await cfs.core.journal!.sizeOnDisk()) < 100 * 1024, 'the flushed segments are deleted');
    await cfs.close();
    assert.deepEqual(await segmentFiles(journal), []);
  });
});
