"""WeChat's server-side calls: the shared access token, a slow or failing WeChat, share codes, stepped clocks."""
