"""Identities (users, API keys, JWTs), scopes, collection grants, document ACLs, rate limits, audit."""
