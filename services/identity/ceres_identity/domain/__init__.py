"""Plain rules of the identity service: codes, passwords, geography, bot checks, sealing."""
