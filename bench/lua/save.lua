-- POST /api/evaluation/save: a full record, as the mini-program sends it.
local body = '{"answers": {"Q1": "Q1_A3", "Q2": "Q2_A2", "Q3": "Q3_A4", "Q4": "Q4_A1", "Q5": "Q5_A3",' ..
  ' "Q6": "Q6_A2", "Q7": "Q7_A3", "Q8": "Q8_A2", "Q9": "Q9_A4", "Q10": "Q10_A1"},' ..
  ' "result": {"total_level": 3.62, "rounded_level": 3.5, "level_label": "发展中业余选手",' ..
  ' "dimension_scores": {"baseline": 3.0, "forehand": 3.8, "backhand": 3.2, "serve": 3.5, "volley": 2.9},' ..
  ' "dimension_comments": {"forehand": "正手已经是你的核心武器", "volley": "网前还需要多练习"},' ..
  ' "advantages": ["forehand"], "weaknesses": ["volley"],' ..
  ' "summary_text": "整体来看，你的底线相持已经比较稳定，可以开始有意识地练习上网。"}}'
local headers = {["Content-Type"] = "application/json"}

function request()
  headers["Authorization"] = bearer()
  return wrk.format("POST", "/api/evaluation/save", headers, body)
end
