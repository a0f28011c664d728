"""The REST API (transport only): authenticate, decode, call a use case, shape the answer."""
