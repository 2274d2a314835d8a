"""Demo SIRETs the tests refer to (see ceres_establishments/demo.py)."""
AIN_SIRET, LYON_SIRET = "30012845100014", "41822976100014"
PARIS_SIRET, REUNION_SIRET = "52231548000015", "63840117400013"
OYONNAX_SIRET = "30012845100022"  # the misplaced site's own SIRET
GRETA_SIRET = "74451296300011"  # in the register, not yet in CERES
UNKNOWN_SIRET = "78184280200048"  # valid checksum, in neither (seed 000's example)
