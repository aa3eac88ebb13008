"""Errors raised by storage.

StorageError      the database cannot be opened, migrated or written
"""


class StorageError(Exception):
    """The database cannot be opened, migrated or written."""
