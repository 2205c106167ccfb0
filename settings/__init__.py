"""The hub's typed settings, read once from ``HUB_*`` environment variables."""

from settings.model import Settings, SettingsError, load_settings

__all__ = ["Settings", "SettingsError", "load_settings"]
