-- wrk script: spreads requests over every rule of the benchmark.
-- Usage: wrk ... -s requests.lua URL -- REQUEST_LIST
-- REQUEST_LIST has one "host path" per line; requests cycle through it in
-- order, each with its own Host header.  All requests are prebuilt in
-- init() so that the generator spends nothing on formatting.
local requests = {}
local next_index = 0

function init(args)
   for line in io.lines(args[1]) do
      local host, path = line:match("^(%S+)%s+(%S+)$")
      if host then
         requests[#requests + 1] = wrk.format("GET", path, { Host = host })
      end
   end
   if #requests == 0 then
      error("no requests in " .. tostring(args[1]))
   end
end

function request()
   next_index = next_index % #requests + 1
   return requests[next_index]
end
