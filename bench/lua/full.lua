-- POST /api/evaluation/full, signed in: random basic and advanced answers, in pairs of requests
-- of one user with the same basic answers and different advanced ones. Of each pair, the one
-- the server takes first adds a record (the user's latest has other basic answers) and the
-- other completes that record (same basic answers, within 24 h): half inserts, half updates.
local headers = {["Content-Type"] = "application/json"}
local counter, basic = 0, nil

function request()
  counter = counter + 1
  if counter % 2 == 1 then
    headers["Authorization"] = bearer()
    basic = random_answers("basic")
  end
  local answers = random_answers("advanced", {unpack(basic)})
  return wrk.format("POST", "/api/evaluation/full", headers, answers_body(answers))
end
