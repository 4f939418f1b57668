-- GET /api/evaluation/questions: every other request carries If-None-Match with the bank's
-- current ETag (the first script argument, as the server sent it at bench start) and gets a
-- 304; the rest get the full 200. report.lua counts both; the run fails unless both occur.
local etag, counter = nil, 0
local fresh, conditional = {}, {}

function init(args)
  etag = args[1]
  conditional["If-None-Match"] = etag
end

function request()
  counter = counter + 1
  return wrk.format("GET", "/api/evaluation/questions", counter % 2 == 0 and conditional or fresh)
end
