"""crm_core plus a data migration (RunPython), which cannot be replayed as SQL."""
