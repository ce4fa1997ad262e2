"""The operator console at /console: accounts and sessions (auth.py), pages and actions (routes.py)."""
