-- Shared by the authenticated targets: the seeded users' access tokens, one a line
-- in the file named by the first script argument, taken in turn from a random start.
local tokens, count, turn = {}, 0, 0

function init(args)
  for line in io.lines(args[1]) do
    count = count + 1
    tokens[count] = line
  end
  math.randomseed(os.time())
  turn = math.random(count)
end

function bearer()
  turn = turn % count + 1
  return "Bearer " .. tokens[turn]
end
