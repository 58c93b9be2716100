"""The session layer: the one owner of an open inventory's edits, journal and mapping."""
