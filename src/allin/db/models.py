"""Every domain's models, imported so Alembic's metadata sees all tables."""

from allin.core.models import AppSetting
from allin.db.base import Base

metadata = Base.metadata

__all__ = ["AppSetting", "metadata"]
