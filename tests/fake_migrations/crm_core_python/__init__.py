"""crm_core plus a data migration (RunPython), which cannot be replayed as SQL."""

import crm_core.migrations

from tests.fake_migrations import extend

extend(__path__, crm_core.migrations)
