-- wrk script for bench/balance: like bench/request-path/requests.lua, with
-- an optional Cookie per request.
-- REQUEST_LIST has one "host path [cookie]" per line; requests cycle
-- through it in order.  All requests are prebuilt in init().
local requests = {}
local next_index = 0

function init(args)
   for line in io.lines(args[1]) do
      local host, path, cookie = line:match("^(%S+)%s+(%S+)%s*(%S*)$")
      if host then
         local headers = { Host = host }
         if cookie ~= "" then
            headers["Cookie"] = cookie
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
