"""URL converters shared by every module."""

from __future__ import annotations

from werkzeug.routing import BaseConverter

# The primary keys are INTEGER columns (32-bit on PostgreSQL); ids start at 1.
MAX_ID = 2**31 - 1
NO_SUCH_ID = 0


class IdConverter(BaseConverter):
    """`<id:item_id>`: a database id. Digits the column cannot hold (0, 2**31, 4,400 digits)
    become NO_SUCH_ID, which no row has: the lookup finds nothing and the answer is a 404.

    A plain `<int:...>` would hand such a number to the query (an overflow on SQLite, an
    out-of-range error on PostgreSQL: a 500); refusing it in the converter instead would turn
    PATCH and DELETE into 405s (werkzeug then only sees the other methods' rules match).
    """

    regex = r"[0-9]+"
    part_isolating = True

    def to_python(self, value: str) -> int:
        if len(value) > len(str(MAX_ID)):
            return NO_SUCH_ID
        number = int(value)
        return number if 1 <= number <= MAX_ID else NO_SUCH_ID

    def to_url(self, value: int) -> str:
        return str(int(value))
