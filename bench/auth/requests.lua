-- wrk script for the auth benchmark: like request-path/requests.lua, with
-- an optional Authorization header per request.
-- Usage: wrk ... -s requests.lua URL -- REQUEST_LIST
-- REQUEST_LIST has one "host path [authorization]" per line; requests
-- cycle through it in order.  All requests are prebuilt in init().
local requests = {}
local next_index = 0

function init(args)
   for line in io.lines(args[1]) do
      local host, path, auth = line:match("^(%S+)%s+(%S+)%s*(.*)$")
      if host then
         local headers = { Host = host }
         if auth ~= "" then
            headers["Authorization"] = auth
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
