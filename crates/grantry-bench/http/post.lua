-- wrk: POST the JSON in $BODY with the bearer token in $TOKEN to the URL given. $BODY may hold
-- several bodies, one per line: each connection sends them in turn.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")

local bodies = {}
for line in os.getenv("BODY"):gmatch("[^\n]+") do table.insert(bodies, line) end
local sent = 0
function request()
  sent = sent + 1
  return wrk.format(nil, nil, nil, bodies[(sent % #bodies) + 1])
end

-- Any answer but 2xx is a failure: count them, so a run that only measured errors says so.
local failed = 0
function response(status, headers, body)
  if status < 200 or status >= 300 then
    failed = failed + 1
    if failed == 1 then io.stderr:write("unexpected " .. status .. ": " .. body .. "\n") end
  end
end
