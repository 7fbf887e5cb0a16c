"""The procrastinate job queue's schema (ALLIN_QUEUE=procrastinate), on PostgreSQL only:
its tables, types, functions and triggers, as shipped in the installed package's
`procrastinate/sql/schema.sql`. SQLite has no such queue; nothing changes there.

Revision ID: 0010_procrastinate
Revises: 0009_posts
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from importlib import resources

from alembic import op
from sqlalchemy.util import await_only

revision: str = "0010_procrastinate"
down_revision: str | None = "0009_posts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = (
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
)
_TYPES = (
    "procrastinate_job_to_defer_v1",
    "procrastinate_job_event_type",
    "procrastinate_job_status",
)
_DROP_FUNCTIONS = """
DO $$
DECLARE f record;
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS signature
               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE p.proname LIKE 'procrastinate\\_%' AND n.nspname = current_schema()
    LOOP
        EXECUTE 'DROP FUNCTION ' || f.signature || ' CASCADE';
    END LOOP;
END
$$
"""


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if not _postgres():
        return
    schema = (resources.files("procrastinate.sql") / "schema.sql").read_text(encoding="utf-8")
    # Many statements with dollar-quoted bodies: sent as one simple query on the driver's
    # own connection (a prepared statement holds one command), inside the migration's
    # transaction.
    driver = op.get_bind().connection.driver_connection
    assert driver is not None
    await_only(driver.execute(schema))


def downgrade() -> None:
    if not _postgres():
        return
    op.execute(f"DROP TABLE IF EXISTS {', '.join(_TABLES)} CASCADE")
    op.execute(_DROP_FUNCTIONS)
    op.execute(f"DROP TYPE IF EXISTS {', '.join(_TYPES)} CASCADE")
