"""gunicorn settings: `gunicorn -c config/gunicorn_conf.py config.wsgi` (workers and bind on the
command line).

The app is imported once in the master, and the objects it made then (Django, the URL conf, the
models, DRF) are moved out of the garbage collector's sight before the workers fork. A full
collection in a worker then walks only what requests created, instead of the whole framework,
and the workers keep sharing those pages with the master instead of copying them.
"""

import gc
from typing import Any

preload_app = True


def when_ready(server: Any) -> None:
    """Runs in the master after the app is loaded, before the first worker forks."""
    gc.collect()
    gc.freeze()
