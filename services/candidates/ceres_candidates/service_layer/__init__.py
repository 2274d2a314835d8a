"""Use cases of the candidates service: one function per use case, each in one transaction."""
