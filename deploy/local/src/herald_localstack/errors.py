"""The one kind of failure the stack reports: a plain sentence that says what to do."""


class StackError(Exception):
    """Something the person running the stack must fix; `str()` is one clear line."""
