-- wrk script of the benches: spreads requests over a list of targets.
-- Usage: wrk ... -s requests.lua URL -- REQUEST_LIST
-- REQUEST_LIST has one "host path [Header-Name: value]" per line (one
-- optional extra header, e.g. Authorization or Cookie); requests cycle
-- through it in order, each with its own Host header.  All requests are
-- prebuilt in init() so that the generator spends nothing on formatting.
local requests = {}
local next_index = 0

function init(args)
   for line in io.lines(args[1]) do
      local host, path, extra = line:match("^(%S+)%s+(%S+)%s*(.*)$")
      if host then
         local headers = { Host = host }
         if extra ~= "" then
            local name, value = extra:match("^([%w-]+):%s*(.*)$")
            if not name then
               error("bad header in " .. tostring(args[1]) .. ": " .. extra)
            end
            headers[name] = value
         end
         requests[#requests + 1] = wrk.format("GET", path, headers)
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
