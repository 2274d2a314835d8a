"""The vocabulary of controls of sessions (S10 « suivi des contrôles »), shared by the API's schemas, the use cases
and the session's history: keys as stored, labels as agents read them."""
KINDS = {"sur_place": "sur place", "sur_pieces": "sur pièces"}
OUTCOMES = {"conforme": "conforme", "observations": "conforme avec observations", "non_conforme": "non conforme"}
STATUS_LABELS = {"programme": "programmé", "realise": "réalisé", "annule": "annulé"}
# The dashboard's lists: each count opens one of these.
VIEWS = ("programmes", "en_retard", "realises", "non_conformes")
