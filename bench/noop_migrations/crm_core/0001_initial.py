import importlib

Migration = importlib.import_module("crm_core.migrations.0001_initial").Migration
