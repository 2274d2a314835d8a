"""Plain rules of the candidates service (C1–C5): no Flask, no SQL."""
