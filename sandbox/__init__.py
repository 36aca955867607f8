"""SocialHub's stand-in for Meta's Graph API, Facebook Login and Instagram Login (standalone WSGI app)."""
