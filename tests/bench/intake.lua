-- wrk: POST /v1/payments, each request a new Idempotency-Key and source_ref,
-- to a random bench account. BENCH_KEY, BENCH_FIRST, BENCH_LAST and
-- BENCH_RECEIVED_AT come from tests/bench/run.sh.
local key = os.getenv("BENCH_KEY")
local first = tonumber(os.getenv("BENCH_FIRST"))
local last = tonumber(os.getenv("BENCH_LAST"))
local received_at = os.getenv("BENCH_RECEIVED_AT")
local run = os.getenv("BENCH_RUN") or "0"

local threads = {}
local counter = 0
local prefix

function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

function init(args)
    prefix = string.format("wrk-%s-%d-", run, id)
    math.randomseed(os.time() + id)
end

function request()
    counter = counter + 1
    local ref = prefix .. counter
    local body = string.format(
        '{"account_id":%d,"amount_cents":100,"received_at":"%s","source":"bench","source_ref":"%s"}',
        math.random(first, last), received_at, ref)
    return wrk.format("POST", "/v1/payments", {
        ["Authorization"] = "Bearer " .. key,
        ["Content-Type"] = "application/json",
        ["Idempotency-Key"] = ref,
    }, body)
end

local failures = 0
function response(status, headers, body)
    if status ~= 201 then
        failures = failures + 1
        if failures <= 3 then
            io.stderr:write("bench: unexpected " .. status .. ": " .. body .. "\n")
        end
    end
end

-- one line run.sh reads: requests, seconds, failures, p50 and p99 in microseconds
function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("bench-result %d %.6f %d %d %d\n", summary.requests, summary.duration / 1e6,
                           e.connect + e.read + e.write + e.status + e.timeout,
                           latency:percentile(50), latency:percentile(99)))
end
