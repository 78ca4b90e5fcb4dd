-- wrk: the intake requests of intake.lua at a fixed arrival rate. Each wrk
-- thread sends BENCH_RATE / BENCH_THREADS requests a second on a schedule of
-- its own: every request takes the next slot, and waits for it (or goes at
-- once when it is late). A slow answer therefore does not lower the offered
-- rate, as a fixed pause after each answer would; at most a second of missed
-- slots is caught up. Set by tests/bench/soak.sh.
dofile(os.getenv("BENCH_HERE") .. "/intake.lua")

local ffi = require("ffi")
ffi.cdef [[
    struct kept_timespec { long tv_sec; long tv_nsec; };
    int clock_gettime(int clock, struct kept_timespec *ts);
]]
local ts = ffi.new("struct kept_timespec")
local function now_ms()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local period = tonumber(os.getenv("BENCH_THREADS")) * 1000 / tonumber(os.getenv("BENCH_RATE"))
local slot = nil

function delay()
    local now = now_ms()
    if slot == nil or slot < now - 1000 then
        slot = now
    end
    slot = slot + period
    return math.max(0, math.floor(slot - now))
end
