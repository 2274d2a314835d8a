from alembic import context

from ceres_shared.migrations import run_env
from ceres_establishments.models import metadata

run_env(context, metadata)
