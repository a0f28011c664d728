"""The scheduler's use cases. They see ports only: no FastAPI, FastStream, httpx or pymongo."""
