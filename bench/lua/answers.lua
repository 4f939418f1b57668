-- Shared by the evaluation targets: random answers to the question bank. BANK (question ids
-- and their option ids, by tier) is generated from the bank file at bench start and put
-- before this file (bench/processes.py, bank_lua), so the answers always fit the bank.
math.randomseed(os.time())

-- Appends one '"<question id>": "<option id>"' pair per question of the tier, each option
-- drawn at random, to `into` (a new list when nil); returns the list.
function random_answers(tier, into)
  into = into or {}
  for _, question in ipairs(BANK[tier]) do
    local options = question.options
    into[#into + 1] = '"' .. question.id .. '": "' .. options[math.random(#options)] .. '"'
  end
  return into
end

function answers_body(answers)
  return '{"answers": {' .. table.concat(answers, ", ") .. '}}'
end
