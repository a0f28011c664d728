"""Herald auth-service.

OAuth for four platforms, the encrypted token vault, API keys and tenancy.
"""
