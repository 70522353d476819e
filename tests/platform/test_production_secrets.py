"""Secrets come from the environment only, and production (`LMS_ENV=production`) refuses to start on a default
one, naming the variable (issue 19, item 7). `make run` (no LMS_ENV) keeps its embedded defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lms import create_app
from lms.config import ConfigError

ROOT = Path(__file__).resolve().parents[2]
STRONG = "k" * 40
STRONG_DATA = "d" * 40


@pytest.fixture
def production(monkeypatch, tmp_path):
    for name in ("SECRET_KEY", "LMS_DATA_KEY", "LMS_SECURE_COOKIES", "LMS_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.setattr("lms.config.INSTANCE_DIR", tmp_path)
    return monkeypatch


def _start():
    return create_app({"DATABASE_URL": "sqlite://"})


def test_production_without_a_secret_key_refuses_to_start_and_writes_none(production, tmp_path):
    production.setenv("LMS_DATA_KEY", STRONG_DATA)
    with pytest.raises(ConfigError, match="SECRET_KEY is not set in the environment"):
        _start()
    assert not (tmp_path / "secret_key").exists()  # no key generated for production


def test_production_without_a_data_key_refuses_to_start(production):
    production.setenv("SECRET_KEY", STRONG)
    with pytest.raises(ConfigError, match="LMS_DATA_KEY is not set in the environment"):
        _start()


@pytest.mark.parametrize("weak", ["test-secret", "change-me", "bench", "short-but-random-9f2"])
def test_production_refuses_placeholders_and_short_secrets(production, weak):
    production.setenv("SECRET_KEY", weak)
    production.setenv("LMS_DATA_KEY", STRONG_DATA)
    with pytest.raises(ConfigError, match="SECRET_KEY is a placeholder or shorter than 32 characters"):
        _start()


def test_production_refuses_one_secret_for_both(production):
    production.setenv("SECRET_KEY", STRONG)
    production.setenv("LMS_DATA_KEY", STRONG)
    with pytest.raises(ConfigError, match="LMS_DATA_KEY equals SECRET_KEY"):
        _start()


def test_production_refuses_cookies_over_plain_http(production):
    production.setenv("SECRET_KEY", STRONG)
    production.setenv("LMS_DATA_KEY", STRONG_DATA)
    production.setenv("LMS_SECURE_COOKIES", "0")
    with pytest.raises(ConfigError, match="LMS_SECURE_COOKIES is off"):
        _start()


def test_production_starts_with_real_secrets_from_the_environment(production):
    production.setenv("SECRET_KEY", STRONG)
    production.setenv("LMS_DATA_KEY", STRONG_DATA)
    app = _start()
    assert app.config["SECRET_KEY"] == STRONG and app.config["LMS_DATA_KEY"] == STRONG_DATA


def test_development_keeps_the_embedded_defaults(monkeypatch, tmp_path):
    """`make run`: no LMS_ENV, no SECRET_KEY: a key generated once under instance/, the data key falls back."""
    for name in ("SECRET_KEY", "LMS_DATA_KEY", "LMS_ENV"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("lms.config.INSTANCE_DIR", tmp_path)
    app = create_app({"DATABASE_URL": "sqlite://"})
    assert app.config["SECRET_KEY"] == (tmp_path / "secret_key").read_text().strip()
    assert create_app({"DATABASE_URL": "sqlite://"}).config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_the_command_line_says_which_variable_is_missing(tmp_path):
    """What an operator sees: `flask` (and gunicorn, which imports the same wsgi module) stops, naming it."""
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "LMS_DATA_KEY")}
    env.update(LMS_ENV="production", LMS_INSTANCE_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path}/x.db",
               SECRET_KEY=STRONG, FLASK_APP="wsgi")
    run = subprocess.run([str(Path(sys.executable).with_name("flask")), "routes"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "lms: Refusing to start with LMS_ENV=production: LMS_DATA_KEY is not set in the environment" in run.stderr
    assert "Traceback" not in run.stderr  # a setting to fix, said in one sentence
