-- POST /api/evaluation/full without a token: random basic and advanced answers, scored, not saved.
local headers = {["Content-Type"] = "application/json"}

function request()
  local answers = random_answers("advanced", random_answers("basic"))
  return wrk.format("POST", "/api/evaluation/full", headers, answers_body(answers))
end
