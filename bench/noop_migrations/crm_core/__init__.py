"""crm_core's migrations plus one no-op migration, as a release might add (bench only)."""
