-- POST /api/auth/verify, each request with the next user's valid token.
function request()
  return wrk.format("POST", "/api/auth/verify", {["Authorization"] = bearer()})
end
