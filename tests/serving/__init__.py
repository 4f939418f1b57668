"""python wsgi.py serving: start, binding, idle and hostile clients, proxies, rate limits, stopping, sustained load."""
