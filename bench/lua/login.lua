-- POST /api/auth/login through the fake WeChat (code X is openid o_X).
-- Every other request is a first login with a code never seen before (creates a
-- user); the rest log in a random seeded user again (updates it).
-- Arguments: a prefix unique to this run, the number of seeded users.
local prefix, users, counter = "", 1, 0
local headers = {["Content-Type"] = "application/json"}

function init(args)
  prefix, users = args[1], tonumber(args[2])
  math.randomseed(os.time())
end

function request()
  counter = counter + 1
  local code
  if counter % 2 == 0 then
    code = "u" .. math.random(0, users - 1)
  else
    code = prefix .. counter
  end
  local body = '{"code": "' .. code .. '", "nickName": "球友", "avatarUrl": "https://mmbiz.qpic.cn/bench/a.png"}'
  return wrk.format("POST", "/api/auth/login", headers, body)
end
