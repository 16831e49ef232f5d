"""Tables of the archive pages: a namespace's archived days, and one day's files."""
from __future__ import annotations

from portal.web.tables import Table


class NamespaceTable(Table):
    columns = ("Namespace", "Owner team", "Archive kept")
    row_template = "topics/archive/_namespace_row.html"
    empty_message = "You hold no live grant on any namespace: request access to read its archive."


class DayTable(Table):
    columns = ("Day (UTC, by record time)", "Files", "Size")
    row_template = "topics/archive/_day_row.html"
    empty_message = "Nothing archived yet: the archive job writes a file once enough records have come."


class FileTable(Table):
    columns = ("File", "Topic", "Partition", "Offsets", "Size")
    row_template = "topics/archive/_file_row.html"
    empty_message = "No file on this day."
