"""pactstub's Alembic migration scripts; installed as the package ``pactstub.migrations``."""
