// `cachefs serve sftp://…` and `webdav://…` against the real servers: the files come through the cache,
// secrets come from the environment only and are never echoed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { runCli, waitForOutput } from '../cli/helpers.js';
import { missingServers, startApache, startSshd, type DavServer, type SshServer } from './servers.js';

const skip = missingServers();
if (skip) console.log(`# skipping the CLI over SFTP and WebDAV: ${skip}`);

async function fetchText(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.text() };
}

describe('cachefs serve over network stores', { skip }, () => {
  let sshd: SshServer;
  let httpd: DavServer;
  before(async () => {
    [sshd, httpd] = await Promise.all([startSshd(), startApache()]);
    await fsp.mkdir(path.join(sshd.data, 'site'));
    await fsp.writeFile(path.join(sshd.data, 'site', 'hello.txt'), 'over sftp');
    await fsp.mkdir(path.join(httpd.data, 'site'));
    await fsp.writeFile(path.join(httpd.data, 'site', 'hello.txt'), 'over webdav');
    const { uid, gid } = await fsp.stat(httpd.data);
    for (const p of ['site', 'site/hello.txt']) await fsp.chown(path.join(httpd.data, p), uid, gid);
  });
  after(async () => {
    await Promise.all([sshd?.stop(), httpd?.stop()]);
  });

  const serveAndGet = async (target: string, env: Record<string, string>, expected: string, secrets: string[]): Promise<void> => {
    const cli = runCli(['serve', target, '--port', '0'], env);
    try {
      await waitForOutput(cli, (out) => /http:\/\/[^ ]+:\d+\//.test(out), 'the URL line');
      const base = /(http:\/\/[^ \n]+)/.exec(cli.stdout())![1]!;
      const got = await fetchText(`${base}hello.txt`);
      assert.equal(got.status, 200);
      assert.equal(got.body, expected);
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
    for (const secret of secrets) assert.ok(!`${cli.stdout()}${cli.stderr()}`.includes(secret), 'a secret was echoed');
  };

  it('serves sftp://user@host:port/path with the key from CACHEFS_SFTP_KEY', async () => {
    await serveAndGet(`sftp://${sshd.username}@127.0.0.1:${sshd.port}${path.join(sshd.data, 'site')}`, { CACHEFS_SFTP_KEY: sshd.keyFile, SSH_AUTH_SOCK: '' }, 'over sftp', [sshd.privateKey.split('\n')[1]!]);
  });

  it('serves webdav://user@host:port/path with the password from CACHEFS_WEBDAV_PASSWORD', async () => {
    await serveAndGet(`webdav://${httpd.username}@127.0.0.1:${httpd.port}/dav/site`, { CACHEFS_WEBDAV_PASSWORD: httpd.password }, 'over webdav', [httpd.password]);
  });

  it('refuses a password on the command line without echoing it', async () => {
    const cli = runCli(['serve', `webdav://${httpd.username}:sneaky-secret@127.0.0.1:${httpd.port}/dav/site`, '--port', '0']);
    const { code } = await cli.exited;
    assert.notEqual(code, 0);
    assert.match(cli.stderr(), /no password on the command line/);
    assert.ok(!`${cli.stdout()}${cli.stderr()}`.includes('sneaky-secret'));
  });

  it('wrong credentials: the first request fails, naming the host, not the secret', async () => {
    const cli = runCli(['serve', `webdav://${httpd.username}@127.0.0.1:${httpd.port}/dav/site`, '--port', '0'], { CACHEFS_WEBDAV_PASSWORD: 'wrong-secret' });
    try {
      await waitForOutput(cli, (out) => /http:\/\/[^ ]+:\d+\//.test(out), 'the URL line');
      const base = /(http:\/\/[^ \n]+)/.exec(cli.stdout())![1]!;
      const got = await fetchText(`${base}hello.txt`);
      assert.ok(got.status === 403 || got.status >= 500, `status ${got.status}`);
      assert.ok(!got.body.includes('wrong-secret'));
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
    assert.ok(!`${cli.stdout()}${cli.stderr()}`.includes('wrong-secret'));
  });
});
