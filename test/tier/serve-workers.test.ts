// `cachefs serve --redis URL --workers K`: several worker processes on one port sharing the tier.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fetchPath, runCli, tempDir, waitForOutput } from '../cli/helpers.js';
import { RedisServer, redisUnavailable } from './redis-server.js';

const skip = redisUnavailable();

describe('cachefs serve with workers sharing the tier', { skip }, () => {
  let redis: RedisServer;
  before(async () => {
    redis = await RedisServer.start();
  });
  after(async () => {
    await redis?.stop();
  });

  it("3 workers on one port: a PUT through one is what every worker serves next ('strict')", async () => {
    const { dir, remove } = await tempDir();
    try {
      await writeFile(join(dir, 'page.txt'), 'one');
      const cli = runCli(['serve', dir, '--port', '0', '--redis', redis.url, '--workers', '3', '--consistency', 'strict', '--writable']);
      await waitForOutput(cli, (out) => /\(3 workers\)/.test(out), 'the URL');
      const port = Number(/127\.0\.0\.1:(\d+)\//.exec(cli.stdout())![1]);
      const gets = async (): Promise<string[]> => {
        const bodies: string[] = [];
        for (let i = 0; i < 12; i++) bodies.push((await fetchPath(port, '/page.txt')).body.toString());
        return bodies;
      };
      assert.deepEqual(new Set(await gets()), new Set(['one']));
      const put = await fetchPath(port, '/page.txt', { method: 'PUT', body: 'two' });
      assert.ok(put.status >= 200 && put.status < 300, `PUT answered ${put.status}`);
      assert.deepEqual(new Set(await gets()), new Set(['two']));
      const stats = JSON.parse((await fetchPath(port, '/_cachefs/stats')).body.toString()) as { tierState: string };
      assert.equal(stats.tierState, 'up');
      // The primary printed the URL once, for all workers.
      assert.equal(cli.stdout().match(/cachefs serve: http/g)?.length, 1);
      cli.child.kill('SIGTERM');
      assert.deepEqual(await cli.exited, { code: 0, signal: null }, cli.stderr());
    } finally {
      await remove();
    }
  });

  it('--workers, --namespace and --consistency without --redis are usage errors', async () => {
    const { dir, remove } = await tempDir();
    try {
      for (const flags of [['--workers', '2'], ['--namespace', 'n'], ['--consistency', 'strict']]) {
        const cli = runCli(['serve', dir, '--port', '0', ...flags]);
        assert.equal((await cli.exited).code, 1);
        assert.match(cli.stderr(), /need --redis/);
      }
    } finally {
      await remove();
    }
  });
});
