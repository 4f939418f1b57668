"""The operators' console at /admin/: through Flask's test client, and in a real browser."""
