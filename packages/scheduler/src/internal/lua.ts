/**
 * Lua scripts of the Redis store. Every script takes the key prefix as ARGV[1] and the current time
 * (from the Effect Clock) as an argument; none reads Redis TIME. KEYS[1] is one key of the operation,
 * so a cluster routes the call to the slot of the prefix's hash tag (all keys share it).
 *
 * Keys (all under the prefix): task:<id> (hash), index (zset by seq), seq, q:<pool> and
 * q:<pool>:i:<instance> (zsets by seq), delayed:<pool> (zset by ready time), leases:<pool> (zset by lease
 * expiry), expiry (zset by expiry time), dlq:<pool> (zset by failure time), idem:<key>,
 * circuit:<instance> (hash), circuit:events (list), durations:<pool> (hash: seq mod 20 → duration, a ring
 * of recent scans), and scanners (hash of live figures per instance: <id>:running slots held, <id>:bound
 * queued tasks bound to it, <id>:open present while its circuit is not closed), so that a claim reads
 * everything it needs about every scanner with one HMGET.
 */
import * as Redis from "../Redis.js"
import { recordFields } from "./store.js"

const header = `local P = ARGV[1]`

// Helpers, in dependency order; each script gets only those it (transitively) uses, since defining
// closures costs time on every call.
const helpers: ReadonlyArray<readonly [string, string]> = [
  ["tkey", `local function tkey(id) return P .. 'task:' .. id end`],
  ["tread", `-- A task's values in the order of recordFields (store.ts): no field names in the reply.
local function tread(tk) return redis.call('HMGET', tk, ${recordFields.map((f) => `'${f}'`).join(", ")}) end`],
  ["nz", `-- Optional hash fields are cleared by writing '' (one HSET instead of HSET + HDEL).
local function nz(v)
  if v == false or v == nil or v == '' then return nil end
  return v
end`],
  ["qkey", `local function qkey(pool, inst)
  if inst and inst ~= '' then return P .. 'q:' .. pool .. ':i:' .. inst end
  return P .. 'q:' .. pool
end`],
  ["qadd", `-- Queue membership changes guard the bound counts: only a real add or removal counts.
local function qadd(pool, inst, seq, id)
  if redis.call('ZADD', qkey(pool, inst), seq, id) == 1 and inst and inst ~= '' then
    redis.call('HINCRBY', P .. 'scanners', inst .. ':bound', 1)
  end
end`],
  ["qrem", `local function qrem(pool, inst, id)
  if redis.call('ZREM', qkey(pool, inst), id) == 1 and inst and inst ~= '' then
    redis.call('HINCRBY', P .. 'scanners', inst .. ':bound', -1)
  end
end`],
  ["cget", `local function cget(inst)
  local v = redis.call('HMGET', P .. 'circuit:' .. inst, 'state', 'failures', 'retryAt', 'probe', 'probeUntil', 'changedAt')
  local c = { state = v[1] or 'closed', failures = tonumber(v[2]) or 0 }
  c.retryAt = tonumber(v[3])
  if v[4] then c.probe = v[4] end
  c.probeUntil = tonumber(v[5])
  c.changedAt = tonumber(v[6])
  return c
end`],
  ["cset", `local function cset(inst, c)
  local k = P .. 'circuit:' .. inst
  redis.call('DEL', k)
  local a = { 'state', c.state, 'failures', c.failures }
  if c.retryAt then a[#a + 1] = 'retryAt'; a[#a + 1] = c.retryAt end
  if c.probe then a[#a + 1] = 'probe'; a[#a + 1] = c.probe end
  if c.probeUntil then a[#a + 1] = 'probeUntil'; a[#a + 1] = c.probeUntil end
  if c.changedAt then a[#a + 1] = 'changedAt'; a[#a + 1] = c.changedAt end
  redis.call('HSET', k, unpack(a))
  if c.state == 'closed' then redis.call('HDEL', P .. 'scanners', inst .. ':open') else redis.call('HSET', P .. 'scanners', inst .. ':open', '1') end
end`],
  ["cevent", `local function cevent(inst, from, to, now, reason)
  redis.call('LPUSH', P .. 'circuit:events', cjson.encode({ instanceId = inst, from = from, to = to, at = now, reason = reason }))
  redis.call('LTRIM', P .. 'circuit:events', 0, 999)
end`],
  ["admits", `local function admits(c, now)
  if c.state == 'closed' then return 'yes' end
  if c.state == 'open' then
    if c.retryAt and now >= c.retryAt then return 'probe' end
    return 'no'
  end
  if (not c.probeUntil) or now >= c.probeUntil then return 'probe' end
  return 'no'
end`],
  ["crecord", `local function crecord(inst, outcome, taskId, now, threshold, cooldown)
  if not inst then return end
  local c = cget(inst)
  if c.state == 'open' then return end
  if c.state == 'half_open' then
    if (not taskId) or taskId ~= c.probe then return end
    if outcome == 'success' then
      cset(inst, { state = 'closed', failures = 0, changedAt = now })
      cevent(inst, 'half_open', 'closed', now, 'probe succeeded')
    else
      cset(inst, { state = 'open', failures = c.failures + 1, retryAt = now + cooldown, changedAt = now })
      cevent(inst, 'half_open', 'open', now, 'probe failed')
    end
    return
  end
  if outcome == 'success' then
    if c.failures ~= 0 then redis.call('HSET', P .. 'circuit:' .. inst, 'failures', 0) end
    return
  end
  local f = c.failures + 1
  if f >= threshold then
    cset(inst, { state = 'open', failures = f, retryAt = now + cooldown, changedAt = now })
    cevent(inst, 'closed', 'open', now, f .. ' consecutive failures')
  else
    redis.call('HSET', P .. 'circuit:' .. inst, 'failures', f)
  end
end`],
  ["cabandon", `local function cabandon(inst, id)
  if not inst then return end
  local c = cget(inst)
  if c.state == 'half_open' and c.probe == id then
    redis.call('HDEL', P .. 'circuit:' .. inst, 'probe', 'probeUntil')
  end
end`],
  ["freeslot", `-- The lease entry guards the count: only the call that removes it gives the slot back.
local function freeslot(id, pool, inst)
  if redis.call('ZREM', P .. 'leases:' .. pool, id) == 1 and inst then redis.call('HINCRBY', P .. 'scanners', inst .. ':running', -1) end
end`],
  ["ttlof", `local function ttlof(state, tc, tf, tx)
  if state == 'completed' then return tc end
  if state == 'failed' or state == 'timeout' then return tf end
  if state == 'cancelled' then return tx end
  return nil
end`],
  ["checked", `-- lease check: returns state, fields or an outcome string
local function checked(id, token, extra)
  local f = redis.call('HMGET', tkey(id), 'state', 'leaseToken', 'pool', 'instance', unpack(extra or {}))
  if not f[1] then return nil, 'not_found' end
  if f[2] ~= token then return nil, 'lost' end
  if f[1] == 'cancelled' then return nil, 'cancelled' end
  if f[1] ~= 'running' then return nil, 'lost' end
  return f, nil
end`]
]

const prelude = (body: string): string => {
  const used = new Set<string>()
  let text = body
  for (let changed = true; changed;) {
    changed = false
    for (const [name, code] of helpers) {
      if (!used.has(name) && new RegExp(`\\b${name}\\(`).test(text)) {
        used.add(name)
        text += code
        changed = true
      }
    }
  }
  return [header, ...helpers.filter(([name]) => used.has(name)).map(([, code]) => code), body].join("\n")
}

const script = (name: string, body: string) => Redis.script(name, prelude(body))

/** ARGV: P, id, now, idemKey, idemHash, idemExpiresAt, idemTtlMs, pool, requestedInstance, ...field/value. */
export const submit = script("submit", `
local id, now, ik, ih, iexp, ittl, pool, rinst = ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7], ARGV[8], ARGV[9]
if ik ~= '' then
  local v = redis.call('GET', P .. 'idem:' .. ik)
  if v then
    local d = cjson.decode(v)
    if d.expiresAt > now and redis.call('EXISTS', tkey(d.taskId)) == 1 then
      if d.hash == ih then return { 'existing', d.taskId } end
      return { 'conflict', d.taskId }
    end
  end
end
local seq = redis.call('INCR', P .. 'seq')
local fields = {}
for i = 10, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', tkey(id), 'seq', seq, unpack(fields))
redis.call('ZADD', P .. 'index', seq, id)
qadd(pool, rinst, seq, id)
if ik ~= '' then
  redis.call('SET', P .. 'idem:' .. ik, cjson.encode({ taskId = id, hash = ih, expiresAt = iexp }), 'PX', ittl)
end
return { 'created', seq }
`
)

/** ARGV: P, id, now, touch(0/1), ttlCompleted, ttlFailed, ttlCancelled. Returns the task's values (tread). */
export const get = script("get", `
local id, now = ARGV[2], ARGV[3]
local st = redis.call('HGET', tkey(id), 'state')
if not st then return {} end
if ARGV[4] == '1' then
  redis.call('HSET', tkey(id), 'accessedAt', now)
  local ttl = ttlof(st, tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]))
  if ttl then redis.call('ZADD', P .. 'expiry', 'XX', tonumber(now) + ttl, id) end
end
return tread(tkey(id))
`
)

/** ARGV: P, pool, now, leaseMs, owner, token, probeMs, ttlC, ttlF, ttlX, n, n × (id, max, enabled). */
export const claim = script("claim", `
local pool, now, leaseMs, owner, token, probeMs = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5], ARGV[6], tonumber(ARGV[7])
local tc, tf, tx, n = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local leases = P .. 'leases:' .. pool
while true do
  local exp = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, 1)
  local id = exp[1]
  if not id then break end
  local tk = tkey(id)
  local f = redis.call('HMGET', tk, 'state', 'instance')
  if f[1] == 'running' then
    redis.call('HSET', tk, 'leaseToken', token, 'leaseOwner', owner, 'leaseUntil', now + leaseMs, 'updatedAt', now)
    redis.call('HINCRBY', tk, 'takeovers', 1)
    redis.call('ZADD', leases, now + leaseMs, id)
    return { 'takeover', tread(tk) }
  end
  local inst = nz(f[2])
  freeslot(id, pool, inst)
  if f[1] then
    cabandon(inst, id)
    redis.call('HSET', tk, 'leaseToken', '', 'leaseOwner', '', 'leaseUntil', '')
    local ttl = ttlof(f[1], tc, tf, tx)
    if ttl then redis.call('ZADD', P .. 'expiry', now + ttl, id) end
  end
end
local dk = P .. 'delayed:' .. pool
local due = redis.call('ZRANGEBYSCORE', dk, '-inf', now, 'LIMIT', 0, 100)
for _, id in ipairs(due) do
  redis.call('ZREM', dk, id)
  local f = redis.call('HMGET', tkey(id), 'state', 'seq', 'requestedInstance')
  if f[1] == 'queued' then
    qadd(pool, nz(f[3]), f[2], id)
    redis.call('HSET', tkey(id), 'retryAt', '')
  end
end
local head = redis.call('ZRANGE', qkey(pool, nil), 0, 0, 'WITHSCORES')
-- Least-utilised admissible scanner; ties go round-robin (the scan starts at the head task's sequence
-- number, which moves with every claim).
local rot = tonumber(head[2]) or 0
-- A worker whose instance filter leaves no scanner of this pool only takes over (above).
if n == 0 then return { 'none' } end
local fields = {}
for i = 0, n - 1 do
  local sid = ARGV[12 + i * 3]
  fields[#fields + 1] = sid .. ':running'
  fields[#fields + 1] = sid .. ':open'
  fields[#fields + 1] = sid .. ':bound'
end
local live = redis.call('HMGET', P .. 'scanners', unpack(fields))
local allowed, least = {}, nil
for j = 0, n - 1 do
  local i = (j + rot) % n
  local sid, max, enabled = ARGV[12 + i * 3], tonumber(ARGV[13 + i * 3]), ARGV[14 + i * 3]
  if enabled == '1' then
    local running = tonumber(live[i * 3 + 1]) or 0
    if running < max then
      local c, adm = nil, 'yes'
      if live[i * 3 + 2] then
        c = cget(sid)
        adm = admits(c, now)
      end
      if adm ~= 'no' then
        local cand = { id = sid, max = max, running = running, probe = (adm == 'probe'), c = c, bound = (tonumber(live[i * 3 + 3]) or 0) > 0 }
        allowed[sid] = cand
        if (not least) or running * least.max < least.running * max then least = cand end
      end
    end
  end
end
if not least then return { 'none' } end
local best, bestSeq, bestCand, bestInst = nil, nil, nil, nil
if head[1] then best, bestSeq, bestCand = head[1], tonumber(head[2]), least end
for sid, c in pairs(allowed) do
  if c.bound then
    local h = redis.call('ZRANGE', qkey(pool, sid), 0, 0, 'WITHSCORES')
    if h[1] and ((not bestSeq) or tonumber(h[2]) < bestSeq) then best, bestSeq, bestCand, bestInst = h[1], tonumber(h[2]), c, sid end
  end
end
if not best then return { 'none' } end
qrem(pool, bestInst, best)
local tk = tkey(best)
redis.call('HINCRBY', tk, 'attempt', 1)
redis.call('HSET', tk, 'state', 'running', 'phase', 'creating', 'instance', bestCand.id, 'leaseToken', token, 'leaseOwner', owner,
  'leaseUntil', now + leaseMs, 'startedAt', now, 'updatedAt', now)
redis.call('HINCRBY', P .. 'scanners', bestCand.id .. ':running', 1)
redis.call('ZADD', leases, now + leaseMs, best)
if bestCand.probe then
  local c = bestCand.c or cget(bestCand.id)
  local changed = c.changedAt
  if c.state == 'open' then
    changed = now
    cevent(bestCand.id, 'open', 'half_open', now, 'cooldown elapsed; probing')
  end
  cset(bestCand.id, { state = 'half_open', failures = c.failures, retryAt = c.retryAt, probe = best, probeUntil = now + probeMs, changedAt = changed })
end
return { 'claimed', tread(tk) }
`
)

/** ARGV: P, id, token, now, leaseMs. */
export const heartbeat = script("heartbeat", `
local id, token, now, leaseMs = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local f, err = checked(id, token)
if err then return err end
redis.call('HSET', tkey(id), 'leaseUntil', now + leaseMs)
redis.call('ZADD', P .. 'leases:' .. f[3], now + leaseMs, id)
return 'ok'
`
)

/** ARGV: P, id, token, now, phase, nessusScanId or '', progress or ''. */
export const setPhase = script("setPhase", `
local id, token, now, phase, scanId, progress = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local order = { creating = 1, launched = 2, polling = 3, exporting = 4, validating = 5 }
local f, err = checked(id, token, { 'phase' })
if err then return { err } end
local current = nz(f[5])
if current and order[phase] < order[current] then return { 'bad_phase', current } end
local a = { 'phase', phase, 'updatedAt', now }
if scanId ~= '' then a[#a + 1] = 'nessusScanId'; a[#a + 1] = scanId end
if progress and progress ~= '' then a[#a + 1] = 'progress'; a[#a + 1] = progress end
redis.call('HSET', tkey(id), unpack(a))
return { 'ok' }
`
)

/** ARGV: P, id, token, now, ttlCompleted, threshold, cooldownMs, keepDurations, ...field/value. */
export const complete = script("complete", `
local id, token, now = ARGV[2], ARGV[3], tonumber(ARGV[4])
local ttl, threshold, cooldown, keep = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local f, err = checked(id, token, { 'startedAt', 'seq' })
if err then return { err } end
local pool, inst = f[3], nz(f[4])
freeslot(id, pool, inst)
local a = { 'state', 'completed', 'finishedAt', now, 'updatedAt', now, 'leaseToken', '', 'leaseOwner', '', 'leaseUntil', '', 'phase', '' }
for i = 9, #ARGV do a[#a + 1] = ARGV[i] end
redis.call('HSET', tkey(id), unpack(a))
redis.call('HSET', P .. 'durations:' .. pool, (tonumber(f[6]) or 0) % keep, now - (tonumber(f[5]) or now))
redis.call('ZADD', P .. 'expiry', now + ttl, id)
crecord(inst, 'success', id, now, threshold, cooldown)
return { 'ok' }
`
)

/** ARGV: P, id, token, now, errorJson, transient, scannerFailure, maxRetries, delayMs, ttlFailed, threshold, cooldownMs, ...result field/value. */
export const fail = script("fail", `
local id, token, now, errJson = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local transient, scannerFailure, maxRetries, delay = ARGV[6] == '1', ARGV[7] == '1', tonumber(ARGV[8]), tonumber(ARGV[9])
local ttl, threshold, cooldown = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
local f, err = checked(id, token, { 'attempt', 'runBase', 'errors', 'phase' })
if err then return { err } end
local pool, inst = f[3], nz(f[4])
freeslot(id, pool, inst)
local outcome = 'success'
if scannerFailure then outcome = 'failure' end
crecord(inst, outcome, id, now, threshold, cooldown)
local errors = {}
if nz(f[7]) then
  local ok, decoded = pcall(cjson.decode, f[7])
  if ok and type(decoded) == 'table' then errors = decoded end
end
local e = cjson.decode(errJson)
e.attempt = tonumber(f[5]) or 0
e.phase = nz(f[8])
e.instanceId = inst
errors[#errors + 1] = e
local tk = tkey(id)
local attempt, runBase = tonumber(f[5]) or 0, tonumber(f[6]) or 0
local a
if transient and (attempt - runBase - 1) < maxRetries then
  a = { 'state', 'queued', 'retryAt', now + delay, 'errors', cjson.encode(errors), 'updatedAt', now,
    'leaseToken', '', 'leaseOwner', '', 'leaseUntil', '', 'phase', '', 'instance', '', 'nessusScanId', '', 'progress', '' }
else
  a = { 'state', 'failed', 'finishedAt', now, 'errors', cjson.encode(errors), 'updatedAt', now,
    'leaseToken', '', 'leaseOwner', '', 'leaseUntil', '', 'phase', '' }
end
for i = 13, #ARGV do a[#a + 1] = ARGV[i] end
redis.call('HSET', tk, unpack(a))
if a[2] == 'queued' then
  redis.call('ZADD', P .. 'delayed:' .. pool, now + delay, id)
  return { 'retried', now + delay, tread(tk) }
end
redis.call('ZADD', P .. 'dlq:' .. pool, now, id)
redis.call('ZADD', P .. 'expiry', now + ttl, id)
return { 'failed', 0, tread(tk) }
`
)

/** ARGV: P, id, token, now, ttlCancelled. */
export const release = script("release", `
local id, token, now, ttl = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local tk = tkey(id)
local f = redis.call('HMGET', tk, 'state', 'leaseToken', 'pool', 'instance')
if not f[1] then return 'not_found' end
if f[2] ~= token then return 'lost' end
if f[1] == 'running' then
  redis.call('HSET', tk, 'leaseToken', '', 'leaseOwner', '', 'leaseUntil', now, 'updatedAt', now)
  redis.call('ZADD', P .. 'leases:' .. f[3], now, id)
  return 'ok'
end
if f[1] == 'cancelled' then
  local inst = nz(f[4])
  freeslot(id, f[3], inst)
  cabandon(inst, id)
  redis.call('HSET', tk, 'leaseToken', '', 'leaseOwner', '', 'leaseUntil', '')
  redis.call('ZADD', P .. 'expiry', now + ttl, id)
  return 'ok'
end
return 'lost'
`
)

/** ARGV: P, id, now, ttlCancelled. */
export const cancel = script("cancel", `
local id, now, ttl = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local tk = tkey(id)
local f = redis.call('HMGET', tk, 'state', 'pool', 'requestedInstance')
if not f[1] then return { 'not_found' } end
if f[1] == 'queued' then
  qrem(f[2], nz(f[3]), id)
  redis.call('ZREM', P .. 'delayed:' .. f[2], id)
  redis.call('HSET', tk, 'state', 'cancelled', 'finishedAt', now, 'updatedAt', now, 'retryAt', '')
  redis.call('ZADD', P .. 'expiry', now + ttl, id)
  return { 'cancelled', '0' }
end
if f[1] == 'running' then
  redis.call('HSET', tk, 'state', 'cancelled', 'cancelRequested', '1', 'finishedAt', now, 'updatedAt', now)
  return { 'cancelled', '1' }
end
return { 'terminal', f[1] }
`
)

/** ARGV: P, id, now, errorJson, ttlFailed. */
export const timeout = script("timeout", `
local id, now, errJson, ttl = ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local tk = tkey(id)
local f = redis.call('HMGET', tk, 'state', 'pool', 'instance', 'errors')
if not f[1] then return 'not_found' end
if f[1] ~= 'running' then return 'not_running' end
local inst = nz(f[3])
freeslot(id, f[2], inst)
cabandon(inst, id)
local errors = {}
if nz(f[4]) then
  local ok, decoded = pcall(cjson.decode, f[4])
  if ok and type(decoded) == 'table' then errors = decoded end
end
errors[#errors + 1] = cjson.decode(errJson)
redis.call('HSET', tk, 'state', 'timeout', 'errors', cjson.encode(errors), 'finishedAt', now, 'updatedAt', now,
  'leaseToken', '', 'leaseOwner', '', 'leaseUntil', '', 'phase', '')
redis.call('ZADD', P .. 'dlq:' .. f[2], now, id)
redis.call('ZADD', P .. 'expiry', now + ttl, id)
return 'ok'
`
)

/** ARGV: P, instance, outcome ('success'|'failure'|'reset'), taskId or '', now, threshold, cooldownMs. */
export const circuit = script("circuit", `
local inst, outcome, taskId, now, threshold, cooldown = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
if outcome == 'reset' then
  local c = cget(inst)
  cset(inst, { state = 'closed', failures = 0, changedAt = now })
  if c.state ~= 'closed' then cevent(inst, c.state, 'closed', now, 'reset by operator') end
  return 'ok'
end
local tid = nil
if taskId ~= '' then tid = taskId end
crecord(inst, outcome, tid, now, threshold, cooldown)
return 'ok'
`
)

/** ARGV: P, id, now. */
export const dlqRetry = script("dlqRetry", `
local id, now = ARGV[2], ARGV[3]
local tk = tkey(id)
local f = redis.call('HMGET', tk, 'state', 'pool', 'requestedInstance', 'attempt')
if not f[1] then return 'not_found' end
if (f[1] ~= 'failed' and f[1] ~= 'timeout') or not redis.call('ZSCORE', P .. 'dlq:' .. f[2], id) then return 'not_in_dlq' end
redis.call('ZREM', P .. 'dlq:' .. f[2], id)
redis.call('ZREM', P .. 'expiry', id)
local seq = redis.call('INCR', P .. 'seq')
redis.call('HSET', tk, 'state', 'queued', 'seq', seq, 'runBase', f[4] or 0, 'updatedAt', now, 'cancelRequested', '0',
  'finishedAt', '', 'phase', '', 'instance', '', 'nessusScanId', '', 'progress', '', 'retryAt', '', 'leaseToken', '', 'leaseOwner', '', 'leaseUntil', '')
qadd(f[2], nz(f[3]), seq, id)
return 'ok'
`
)

/** ARGV: P, pool, olderThan or ''. */
export const dlqPurge = script("dlqPurge", `
local k = P .. 'dlq:' .. ARGV[2]
local dry = ARGV[4] == '1'
if ARGV[3] == '' then
  local n = redis.call('ZCARD', k)
  if not dry then redis.call('DEL', k) end
  return n
end
if dry then return redis.call('ZCOUNT', k, '-inf', '(' .. ARGV[3]) end
return redis.call('ZREMRANGEBYSCORE', k, '-inf', '(' .. ARGV[3])
`
)

/** ARGV: P, now, dryRun, limit. Returns the HGETALL of every expired task. */
export const expire = script("expire", `
local now, dry, limit = ARGV[2], ARGV[3] == '1', tonumber(ARGV[4])
local ids = redis.call('ZRANGEBYSCORE', P .. 'expiry', '-inf', now, 'LIMIT', 0, limit)
local out = {}
for _, id in ipairs(ids) do
  local tk = tkey(id)
  local h = redis.call('HGETALL', tk)
  if #h > 0 then out[#out + 1] = h end
  if not dry then
    local pool = redis.call('HGET', tk, 'pool')
    redis.call('DEL', tk)
    redis.call('ZREM', P .. 'index', id)
    redis.call('ZREM', P .. 'expiry', id)
    if pool then redis.call('ZREM', P .. 'dlq:' .. pool, id) end
  end
end
return out
`
)

/** ARGV: P, pool, seq, requestedInstance or '', nAll, all..., nRunning, running... */
export const positionInputs = script("positionInputs", `
local pool, below, rinst = ARGV[2], '(' .. ARGV[3], ARGV[4]
local nAll = tonumber(ARGV[5])
local ahead = redis.call('ZCOUNT', qkey(pool, nil), '-inf', below)
if rinst ~= '' then
  ahead = ahead + redis.call('ZCOUNT', qkey(pool, rinst), '-inf', below)
else
  for i = 1, nAll do ahead = ahead + redis.call('ZCOUNT', qkey(pool, ARGV[5 + i]), '-inf', below) end
end
local relevant = {}
for i = 1, tonumber(ARGV[6 + nAll]) do relevant[ARGV[6 + nAll + i]] = true end
local starts = {}
for _, id in ipairs(redis.call('ZRANGE', P .. 'leases:' .. pool, 0, -1)) do
  local f = redis.call('HMGET', tkey(id), 'instance', 'startedAt', 'state')
  if f[3] == 'running' and f[1] and relevant[f[1]] then starts[#starts + 1] = f[2] or '0' end
end
return { ahead, starts, redis.call('HVALS', P .. 'durations:' .. pool) }
`
)
