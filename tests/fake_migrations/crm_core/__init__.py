"""crm_core's migrations plus two that a release might add, for the release-migration tests."""
