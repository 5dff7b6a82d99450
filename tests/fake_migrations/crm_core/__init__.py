"""crm_core's migrations plus two that a release might add, for the release-migration tests."""

import crm_core.migrations

from tests.fake_migrations import extend

extend(__path__, crm_core.migrations)
