"""The platforms' authorization servers: consent pages, code and token exchanges, revocation."""
