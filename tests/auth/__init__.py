"""Signing in and staying signed in: WeChat login, access tokens, refresh and logout, clocks between hosts."""
