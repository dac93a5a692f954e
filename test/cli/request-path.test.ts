import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodePath, parseRequestPath } from '../../src/server/request-path.js';

test('plain, encoded, absolute-form and query-carrying targets map to normalized paths', () => {
  assert.deepEqual(parseRequestPath('/', false), { path: '/', trailingSlash: false, query: '' });
  assert.deepEqual(parseRequestPath('/a/b.css', false), { path: '/a/b.css', trailingSlash: false, query: '' });
  assert.deepEqual(parseRequestPath('/a/b/?x=1#frag', false), { path: '/a/b', trailingSlash: true, query: '?x=1' });
  assert.deepEqual(parseRequestPath('/caf%C3%A9%20menu.html', false), { path: '/café menu.html', trailingSlash: false, query: '' });
  assert.deepEqual(parseRequestPath('//a///b', false), { path: '/a/b', trailingSlash: false, query: '' });
  assert.deepEqual(parseRequestPath('http://example.com/x/y?q', false), { path: '/x/y', trailingSlash: false, query: '?q' });
});

test('dot segments, NUL bytes and backslashes are refused with 403, raw or encoded', () => {
  for (const target of [
    '/../etc/passwd',
    '/a/../../etc/passwd',
    '/%2e%2e/etc/passwd',
    '/%2E%2E/%2e%2e/etc/passwd',
    '/a/%2e%2e%2f%2e%2e%2fetc/passwd',
    '/./a',
    '/a/.',
    '/index.html%00.txt',
    '/a\\..\\b',
    '/%5c..%5cetc',
  ]) {
    assert.equal(parseRequestPath(target, false), 403, target);
    assert.equal(parseRequestPath(target, true), 403, `${target} with dotfiles`);
  }
});

test('dotfiles are 404 unless allowed; /.well-known/ is served', () => {
  assert.equal(parseRequestPath('/.env', false), 404);
  assert.equal(parseRequestPath('/.git/config', false), 404);
  assert.equal(parseRequestPath('/a/.hidden/b', false), 404);
  assert.equal(parseRequestPath('/%2egit/config', false), 404);
  assert.deepEqual(parseRequestPath('/.env', true), { path: '/.env', trailingSlash: false, query: '' });
  assert.deepEqual(parseRequestPath('/.well-known/security.txt', false), { path: '/.well-known/security.txt', trailingSlash: false, query: '' });
  assert.equal(parseRequestPath('/a/.well-known/x', false), 404);
});

test('malformed targets are 400', () => {
  assert.equal(parseRequestPath('/%E0%A4%A', false), 400);
  assert.equal(parseRequestPath('/%zz', false), 400);
  assert.equal(parseRequestPath('*', false), 400);
  assert.equal(parseRequestPath('', false), 400);
  assert.equal(parseRequestPath(undefined, false), 400);
  assert.equal(parseRequestPath('ftp://example.com/x', false), 400);
});

test('encodePath re-encodes each segment for a Location header', () => {
  assert.equal(encodePath('/docs'), '/docs');
  assert.equal(encodePath('/café menu/a?b#c'), '/caf%C3%A9%20menu/a%3Fb%23c');
});
