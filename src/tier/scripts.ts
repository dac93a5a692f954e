import { createHash } from 'node:crypto';

/** A Lua script run by its SHA1, loaded on first use (EVALSHA, then EVAL after NOSCRIPT). */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

// KEYS[1] is the namespace's change clock in every script that sets tokens. A token is the clock's
// next value, a colon and a fresh suffix (unique per process and call): a version is made of tokens, so
// the largest stamp in it orders it against every other version of the namespace (port.ts, seqOf), and
// a process can tell an older change from a newer one whatever order their messages arrive in. The clock
// never goes back: it takes Redis's time in microseconds whenever that is ahead (one change per
// microsecond is more than a script-per-change Redis runs), so a clock lost to a restart or an eviction
// resumes above every stamp handed out before.
const CLOCK = `
local function nextStamp()
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local n = redis.pcall('INCR', KEYS[1])
  if type(n) ~= 'number' or n < now then
    n = now
    redis.call('SET', KEYS[1], string.format('%d', n))
  end
  return string.format('%d', n)
end
local function stamped(fresh)
  return nextStamp() .. ':' .. fresh
end
`;

// A token key that is missing (Redis restarted empty, or evicted it) or holds something that is not a
// stamped token (a foreign value under our key) gets a fresh token: versions only ever change to unseen values.
const TOKEN_OF = `${CLOCK}
local function tokenOf(key, fresh)
  local v = redis.pcall('GET', key)
  if type(v) ~= 'string' or not string.find(v, '^%d+:') then
    v = stamped(fresh)
    redis.call('DEL', key)
    redis.call('SET', key, v)
  end
  return v
end
`;

/**
 * KEYS: the clock, the path's version keys (epoch, ancestors, path) and, when ARGV[2] is '1', its data
 * key last. ARGV: a fresh token suffix, '1' to return the data. Returns { version, data-or-nil }.
 */
export const LOOKUP = script(`${TOKEN_OF}
local last = #KEYS
if ARGV[2] == '1' then last = last - 1 end
local parts = {}
for i = 2, last do parts[i - 1] = tokenOf(KEYS[i], ARGV[1]) end
local version = table.concat(parts, '.')
if ARGV[2] == '1' then
  local data = redis.pcall('GET', KEYS[#KEYS])
  if type(data) ~= 'string' then data = false end
  return { version, data }
end
return { version }
`);

/**
 * KEYS: the clock, version keys, then the data key. ARGV: version, framed value, ttl ms ('0' = none).
 * Stores the value only if the path's version is still ARGV[1]; returns 1 when stored.
 */
export const STORE = script(`
local parts = {}
for i = 2, #KEYS - 1 do
  local v = redis.pcall('GET', KEYS[i])
  if type(v) ~= 'string' then return 0 end
  parts[i - 1] = v
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
 * A path changed. KEYS: the clock, version keys, then the data key. ARGV: fresh token suffix, channel,
 * message head, the path, what the change shares ('0' nothing, '1' the content, '2' the content also in
 * the message), the new content, a ttl in ms ('0' = none), the head of a message that carries the
 * content, and the version the writer saw before it wrote ('' = none). Gives the path a new token and
 * replaces its shared value: with the content framed as codec.ts frames it, but only if no other change
 * of the path ran since the version the writer saw (else a concurrent writer's bytes may be the ones the
 * backend kept: no value, and the readers go to the backend); publishes (head, version, '|', path; or
 * the content head, a NUL and the framed content, which holds the version, so that small files reach
 * the others without a round trip). Returns { new version, 1 if another change ran since the one the
 * writer saw, else 0 }.
 */
export const BUMP_PATH = script(`${TOKEN_OF}
local parts = {}
for i = 2, #KEYS - 1 do parts[i - 1] = tokenOf(KEYS[i], ARGV[1]) end
local raced = ARGV[9] ~= '' and table.concat(parts, '.') ~= ARGV[9]
local token = stamped(ARGV[1])
redis.call('SET', KEYS[#KEYS - 1], token)
parts[#parts] = token
local version = table.concat(parts, '.')
if ARGV[5] ~= '0' and not raced then
  local framed = 'CFT1' .. struct.pack('>I4', #version) .. version .. struct.pack('>I4', #ARGV[6]) .. ARGV[6]
  if ARGV[7] ~= '0' then
    redis.call('SET', KEYS[#KEYS], framed, 'PX', ARGV[7])
  else
    redis.call('SET', KEYS[#KEYS], framed)
  end
  if ARGV[5] == '2' then
    redis.call('PUBLISH', ARGV[2], ARGV[8] .. '\0' .. framed)
    return { version, 0 }
  end
else
  redis.call('DEL', KEYS[#KEYS])
end
redis.call('PUBLISH', ARGV[2], ARGV[3] .. version .. '|' .. ARGV[4])
if raced then return { version, 1 } end
return { version, 0 }
`);

/**
 * Everything at or below a directory changed. KEYS: the clock, its prefix token, its path token, its
 * data key. ARGV: fresh token suffix, channel, message head, the directory.
 */
export const BUMP_PREFIX = script(`${CLOCK}
local token = stamped(ARGV[1])
redis.call('SET', KEYS[2], token)
redis.call('SET', KEYS[3], token)
redis.call('DEL', KEYS[4])
redis.call('PUBLISH', ARGV[2], ARGV[3] .. token .. '|' .. ARGV[4])
return 1
`);

/** The whole namespace changed. KEYS: the clock, the epoch. ARGV: fresh token suffix, channel, message head. */
export const BUMP_ALL = script(`${CLOCK}
local token = stamped(ARGV[1])
redis.call('SET', KEYS[2], token)
redis.call('PUBLISH', ARGV[2], ARGV[3] .. token .. '|')
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
