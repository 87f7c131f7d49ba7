"""The one error a command raises on purpose."""


class UsageError(Exception):
    """One clear line for the person; exit status 2."""
