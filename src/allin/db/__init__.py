"""Database plumbing: engine, sessions, declarative base and Alembic migrations."""
