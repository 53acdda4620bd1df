"""Syncline Box measurements in a fresh process, against a `bench.box_server`.

    python -m bench._box_run initial|lifecycle --db URL --url BOX --access A --refresh R

`initial`: enable a `box` files sync of the whole account and time it to sync_complete;
prints {seconds, records, rss_mb}. `lifecycle`: then an idle incremental, a 1% incremental and
a full sync after 1% vanished, as `bench._syncline_run lifecycle` (see `bench._lifecycle`).
"""

from __future__ import annotations

from bench._lifecycle import main
from syncline.sandbox.box import box_env

if __name__ == "__main__":
    main("box", box_env)
