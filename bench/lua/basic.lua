-- POST /api/evaluation/basic, signed in: random basic answers, scored and saved as a new record.
local headers = {["Content-Type"] = "application/json"}

function request()
  headers["Authorization"] = bearer()
  return wrk.format("POST", "/api/evaluation/basic", headers, answers_body(random_answers("basic")))
end
