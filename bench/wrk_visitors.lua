-- wrk: each request from one of VISITORS distinct visitors, in turn, as real traffic arrives
-- through a load balancer: the same browser User-Agent, each visitor its own public address in
-- X-Forwarded-For (the bench's servers trust 127.0.0.1 as the proxy). MODE "returning": each
-- visitor also sends the first-party visitor cookie (afv) an earlier click set; "new": they
-- arrive cookie-less, the costlier case (the edge sets the cookie). FIRST numbers the first
-- visitor, so consecutive runs can send visitors no earlier run sent.
-- The requests are formatted once in init, so wrk's per-request Lua work is a table index.
-- Usage: wrk -s bench/wrk_visitors.lua URL -- VISITORS [MODE] [FIRST]
local requests, n, i = {}, 0, 0

function init(args)
  n = tonumber(args[1] or "100000")
  local returning = args[2] == "returning"
  local first = tonumber(args[3] or "1")
  for k = 1, n do
    local v = first + k - 1
    -- 23.0.0.0 upwards: public unicast, v's bytes in the lower three octets.
    local ip = string.format("%d.%d.%d.%d", 23 + math.floor(v / 16777216), math.floor(v / 65536) % 256,
      math.floor(v / 256) % 256, v % 256)
    local headers = {
      ["User-Agent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
      ["X-Forwarded-For"] = ip,
    }
    if returning then
      headers["Cookie"] = string.format("afv=%020x", v)
    end
    requests[k] = wrk.format(nil, nil, headers)
  end
end

function request()
  i = i % n + 1
  return requests[i]
end
