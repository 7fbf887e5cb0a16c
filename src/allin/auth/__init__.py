"""Accounts and authentication: users, sessions, API keys, email links, admin.

Other domains use `allin.auth.deps` (CurrentUser, OptionalUser, AdminUser, owned_or_404)
and `allin.auth.api_keys.authenticate_api_key`; nothing else here is public API.
"""
