-- wrk: the intake requests of intake.lua at a steady rate: each connection
-- waits BENCH_DELAY_MS before each request (run.sh/soak.sh sets it from the
-- target rate).
dofile(os.getenv("BENCH_HERE") .. "/intake.lua")
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")

function delay()
    return pause
end
