"""WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi ...`."""

import sys

from lms import create_app
from lms.config import ConfigError

try:
    app = create_app()
except ConfigError as refused:  # a setting to fix, not a bug: the sentence, without a traceback
    sys.stderr.write(f"lms: {refused}\n")
    sys.exit(2)
