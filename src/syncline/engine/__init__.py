"""The sync engine: one run of a sync, page by page, and how its failures are judged."""
