-- GET /api/evaluation/history: the first page of 10 of a seeded user's records.
function request()
  return wrk.format("GET", "/api/evaluation/history?page=1&page_size=10", {["Authorization"] = bearer()})
end
