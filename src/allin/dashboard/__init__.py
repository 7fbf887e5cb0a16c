"""The web dashboard (plain HTML/CSS/JS modules, no build step), served by the app."""

from allin.dashboard.router import dashboard_domain

__all__ = ["dashboard_domain"]
