"""The use cases of auth-service. They see ports, never FastAPI, httpx or pymongo."""
