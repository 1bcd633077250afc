-- wrk script: GET /saldo/<random id in 1..KEYS> (or always ID), as fast as possible or at a fixed rate.
--   wrk -t1 -cC -dD -s random-get.lua URL -- KEYS [RATE_PER_THREAD (0: as fast as possible)] [BEARER_TOKEN] [ID]
-- wrk (not wrk2) has no fixed-rate mode; this one paces with wrk's delay() hook: each request gets
-- the next slot of a per-thread schedule, RATE slots a second, read from the monotonic clock. wrk's
-- latency counts from the moment a request is written, so time spent waiting for a free connection
-- is not in it (coordinated omission); with many connections and a rate well below saturation that
-- wait is nil. done() prints one JSON line for the bench to read.
local ffi = require('ffi')
ffi.cdef([[
  typedef struct { long tv_sec; long tv_nsec; } saldo_timespec;
  int clock_gettime(int clock, saldo_timespec *ts);
]])
local CLOCK_MONOTONIC = 1
local now = ffi.new('saldo_timespec')
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now)
  return tonumber(now.tv_sec) * 1000 + tonumber(now.tv_nsec) / 1e6
end

local keys = 1
local interval_ms = 0
local next_slot = nil
local headers = {}
local fixed_id = nil

function init(args)
  keys = tonumber(args[1])
  local rate = tonumber(args[2] or '0')
  if rate > 0 then interval_ms = 1000 / rate end
  if args[3] then headers['Authorization'] = 'Bearer ' .. args[3] end
  -- One id: the partitioned bench reads a key of a local partition, then one another instance holds.
  if args[4] then fixed_id = args[4] end
  math.randomseed(os.time() + tonumber(tostring({}):match('0x(%x+)'), 16) % 100000)
end

function request()
  return wrk.format('GET', '/saldo/' .. (fixed_id or math.random(1, keys)), headers)
end

function delay()
  if interval_ms == 0 then return 0 end
  local t = now_ms()
  -- After a stall, catch up for at most a second instead of bursting without end.
  if next_slot == nil or next_slot < t - 1000 then next_slot = t end
  local wait = next_slot - t
  next_slot = next_slot + interval_ms
  if wait < 1 then return 0 end
  return math.floor(wait)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"errors":%d,"p50Us":%d,"p99Us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout + e.status,
    latency:percentile(50), latency:percentile(99)))
end
