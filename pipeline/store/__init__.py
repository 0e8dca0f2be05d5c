"""The SQLite store of processed statements (`database`) and the one query path over it (`query`)."""
