"""gunicorn reads this file when started from the project's folder (`gunicorn -w 2 wsgi:app`)."""

import os


def when_ready(server):
    """Several workers without Redis: the rate limiter counts per worker. Say so at start (failed sign-ins
    are still counted per account in the database, so the sign-in limit holds; other limits do not)."""
    if server.cfg.workers > 1 and not os.environ.get("REDIS_URL"):
        server.log.warning(
            "%s workers and no REDIS_URL: the rate limiter counts in each worker's memory, so a client gets "
            "up to %s times its limit. Set REDIS_URL to share the counts (failed sign-ins are counted per "
            "account in the database either way).", server.cfg.workers, server.cfg.workers)
