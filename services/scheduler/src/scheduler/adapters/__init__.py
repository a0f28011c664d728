"""Implementations of the ports: MongoDB stores and the auth-service client."""
