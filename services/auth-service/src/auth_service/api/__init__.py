"""HTTP transport of auth-service: decode, authenticate, call a handler, map the result."""
