"""Settings: one table read from instance/config.py, .env and the environment; settings files as Windows writes them."""
