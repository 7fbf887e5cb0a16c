"""The web dashboard (plain HTML/CSS/JS modules, no build step), served by the app."""

from allin.dashboard.router import install_dashboard

__all__ = ["install_dashboard"]
