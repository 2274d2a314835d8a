"""Plain-Python rules of the sessions service (no Flask, no SQL): the workflow table and the date rules."""
