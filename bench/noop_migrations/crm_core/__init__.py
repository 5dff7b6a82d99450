"""crm_core's migrations plus one no-op migration, as a release might add (bench only)."""

import crm_core.migrations

from tests.fake_migrations import extend

extend(__path__, crm_core.migrations)
