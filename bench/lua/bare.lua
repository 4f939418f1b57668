-- The ceiling: a Flask view with no work, answering verify-sized JSON.
wrk.method = "POST"
wrk.path = "/bench/bare"
