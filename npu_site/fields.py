"""Model fields that use a PostgreSQL feature where it exists and still work elsewhere."""

import json

from django.contrib.postgres.fields import ArrayField


class PortableArrayField(ArrayField):
    """A PostgreSQL array (which a GIN index can answer `@>` from); JSON text elsewhere.

    The suite and `make run` use SQLite, which has no arrays: there the list is stored as a
    JSON string, kept just as exactly, and queries that need the index are PostgreSQL-only
    branches of the QuerySet methods that use them.
    """

    def db_type(self, connection):
        if connection.vendor == "postgresql":
            return super().db_type(connection)
        return "text"

    def cast_db_type(self, connection):
        if connection.vendor == "postgresql":
            return super().cast_db_type(connection)
        return "text"

    def get_placeholder(self, value, compiler, connection):
        if connection.vendor == "postgresql":
            return super().get_placeholder(value, compiler, connection)
        return "%s"

    def get_db_prep_value(self, value, connection, prepared=False):
        value = super().get_db_prep_value(value, connection, prepared)
        if connection.vendor != "postgresql" and isinstance(value, list | tuple):
            return json.dumps(list(value))
        return value

    def from_db_value(self, value, expression, connection):
        if isinstance(value, str):
            return json.loads(value)
        return value
