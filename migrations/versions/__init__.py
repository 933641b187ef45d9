"""Alembic revisions of pactstub's store (a package so an installed pactstub ships them)."""
