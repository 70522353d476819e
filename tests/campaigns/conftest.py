"""Campaign fixtures: the small content tree (course `handbook`, exam `onboarding`) synced."""

from __future__ import annotations

import pytest


@pytest.fixture
def synced(app, content):
    content.sync()
    return content
