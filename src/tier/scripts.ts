import { createHash } from 'node:crypto';

/** A Lua script run by its SHA1, loaded on first use (EVALSHA, then EVAL after NOSCRIPT). */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

// A token key that is missing (Redis restarted empty, or evicted it) or holds something that is not a
// string (a foreign value under our key) gets a fresh token: versions only ever change to unseen values.
const TOKEN_OF = `
local function tokenOf(key, fresh)
  local v = redis.pcall('GET', key)
  if type(v) ~= 'string' then
    redis.call('DEL', key)
    redis.call('SET', key, fresh)
    v = fresh
  end
  return v
end
`;

/**
 * KEYS: the path's version keys (epoch, ancestors, path) and, when ARGV[2] is '1', its data key last.
 * ARGV: a fresh token, '1' to return the data. Returns { version, data-or-nil }.
 */
export const LOOKUP = script(`${TOKEN_OF}
local last = #KEYS
if ARGV[2] == '1' then last = last - 1 end
local parts = {}
for i = 1, last do parts[i] = tokenOf(KEYS[i], ARGV[1]) end
local version = table.concat(parts, '.')
if ARGV[2] == '1' then
  local data = redis.pcall('GET', KEYS[#KEYS])
  if type(data) ~= 'string' then data = false end
  return { version, data }
end
return { version }
`);

/**
 * KEYS: version keys, then the data key. ARGV: version, framed value, ttl ms ('0' = none).
 * Stores the value only if the path's version is still ARGV[1]; returns 1 when stored.
 */
export const STORE = script(`
local parts = {}
for i = 1, #KEYS - 1 do
  local v = redis.pcall('GET', KEYS[i])
  if type(v) ~= 'string' then return 0 end
  parts[i] = v
end
if table.concat(parts, '.') ~= ARGV[1] then return 0 end
if ARGV[3] ~= '0' then
  redis.call('SET', KEYS[#KEYS], ARGV[2], 'PX', ARGV[3])
else
  redis.call('SET', KEYS[#KEYS], ARGV[2])
end
return 1
`);

/**
 * A path changed. KEYS: version keys, then the data key. ARGV: fresh token, channel, message, and
 * optionally the new content, a ttl in ms ('0' = none) and the head of a message that carries the
 * content. Gives the path a new token, replaces its shared value (with the content framed as codec.ts
 * frames it, else none), publishes (the framed content after the head and a NUL when a head is
 * given, so that small files reach the others without a round trip), and returns the new version.
 */
export const BUMP_PATH = script(`${TOKEN_OF}
redis.call('SET', KEYS[#KEYS - 1], ARGV[1])
local parts = {}
for i = 1, #KEYS - 1 do parts[i] = tokenOf(KEYS[i], ARGV[1]) end
local version = table.concat(parts, '.')
if ARGV[4] then
  local framed = 'CFT1' .. struct.pack('>I4', #version) .. version .. struct.pack('>I4', #ARGV[4]) .. ARGV[4]
  if ARGV[5] ~= '0' then
    redis.call('SET', KEYS[#KEYS], framed, 'PX', ARGV[5])
  else
    redis.call('SET', KEYS[#KEYS], framed)
  end
  if ARGV[6] then
    redis.call('PUBLISH', ARGV[2], ARGV[6] .. '\0' .. framed)
    return version
  end
else
  redis.call('DEL', KEYS[#KEYS])
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return version
`);

/**
 * Everything at or below a directory changed. KEYS: its prefix token, its path token, its data key.
 * ARGV: fresh token, channel, message.
 */
export const BUMP_PREFIX = script(`
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[3])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`);

/** The whole namespace changed. KEYS: the epoch. ARGV: fresh token, channel, message. */
export const BUMP_ALL = script(`
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`);

/** Releases the load lock if still ours and tells waiters. KEYS: lock. ARGV: token, channel, message. */
export const RELEASE = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`);

/** Extends the load lock if still ours. KEYS: lock. ARGV: token, ttl ms. */
export const EXTEND = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`);
