-- wrk: GET /v1/customers?q= over the paths in BENCH_QUERIES (one a line,
-- from find_queries.sql), each thread from its own place in the list, with
-- BENCH_KEY. Prints one line run.sh reads.
local key = os.getenv("BENCH_KEY")
local paths = {}
for line in io.lines(os.getenv("BENCH_QUERIES")) do
    if #line > 0 then
        paths[#paths + 1] = line
    end
end

local threads = {}
function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

local i = 0
function init(args)
    i = id * 97
end

function request()
    i = i % #paths + 1
    return wrk.format("GET", paths[i], {["Authorization"] = "Bearer " .. key})
end

local failures = 0
function response(status, headers, body)
    if status ~= 200 then
        failures = failures + 1
        if failures <= 3 then
            io.stderr:write("bench: unexpected " .. status .. ": " .. body .. "\n")
        end
    end
end

-- requests, seconds, failures, p50 and p99 in microseconds
function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("bench-result %d %.6f %d %d %d\n", summary.requests, summary.duration / 1e6,
                           e.connect + e.read + e.write + e.status + e.timeout,
                           latency:percentile(50), latency:percentile(99)))
end
