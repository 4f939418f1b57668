"""Stand-ins, on 127.0.0.1, for the services the server talks to: WeChat, a MySQL server."""
