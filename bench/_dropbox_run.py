"""Syncline Dropbox measurements in a fresh process, against a `bench.dropbox_server`.

    python -m bench._dropbox_run initial|lifecycle --db URL --url DROPBOX --access A --refresh R

`initial`: enable a `dropbox` files sync of the whole Dropbox and time it to sync_complete;
prints {seconds, records, rss_mb}. `lifecycle`: then an idle incremental, a 1% incremental and
a full sync after 1% vanished, as `bench._syncline_run lifecycle` (see `bench._lifecycle`).
"""

from __future__ import annotations

from bench._lifecycle import main
from syncline.sandbox.dropbox import dropbox_env

if __name__ == "__main__":
    main("dropbox", dropbox_env)
