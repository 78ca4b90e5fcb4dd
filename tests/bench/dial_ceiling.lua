-- wrk: kept-telsim's create endpoint alone, with the request keptd sends.
local sid = os.getenv("BENCH_SID")
wrk.method = "POST"
wrk.path = "/2010-04-01/Accounts/" .. sid .. "/Calls.json"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_AUTH")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
wrk.body = "To=%2B15551230001&From=%2B15550000100&Url=http%3A%2F%2F127.0.0.1%3A9%2Ftelephony%2Ftwiml%2F1"
    .. "&Method=POST&StatusCallback=http%3A%2F%2F127.0.0.1%3A9%2Ftelephony%2Fstatus%2F1&StatusCallbackMethod=POST"
    .. "&StatusCallbackEvent=initiated&StatusCallbackEvent=ringing&StatusCallbackEvent=answered"
    .. "&StatusCallbackEvent=completed&Timeout=30&MachineDetection=Enable"

function done(summary, latency, requests)
    local failed = summary.errors.status + summary.errors.connect + summary.errors.read
        + summary.errors.write + summary.errors.timeout
    io.write(string.format("bench-result %d %.6f %d\n", summary.requests, summary.duration / 1e6, failed))
end
