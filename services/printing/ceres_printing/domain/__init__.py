"""Plain rules of the printing service (no database, no Flask)."""
