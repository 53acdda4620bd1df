"""A faithful fake of the Box API v2.0 (folders and their items, files, web links, content
downloads, the user event stream, collaborations, group memberships, shared links) and of Box's
OAuth 2.0 token and authorize endpoints with single-use refresh tokens: for tests, benchmarks
and the demo.

state = BoxState()
folder = state.add_folder("Contracts", owner="alice@example.com")
state.add_file("msa.pdf", b"...", folder, owner="alice@example.com")
access, refresh = state.issue_tokens("alice@example.com")
with BackgroundServer(create_box_app(state)) as server:
    httpx.get(f"{server.url}/2.0/folders/0/items", headers={"Authorization": f"Bearer {access}"})
"""

from syncline.sandbox.box.app import create_box_app
from syncline.sandbox.box.control import BoxControl
from syncline.sandbox.box.settings import box_env
from syncline.sandbox.box.state import BOX_FAULTS, BOX_PATHS, STREAM_BASE, BoxState, EventDelivery

__all__ = [
    "BOX_FAULTS",
    "BOX_PATHS",
    "STREAM_BASE",
    "BoxControl",
    "BoxState",
    "EventDelivery",
    "box_env",
    "create_box_app",
]
