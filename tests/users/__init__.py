"""The signed-in user's account: /api/user/info, /api/user/update, the phone number WeChat vouches for."""
