"""One module per platform, each implementing `SocialProvider` (see `base.py`)."""
