"""Source adapters: each turns one kind of source into canonical frames (see
``stockroom.tables``)."""
