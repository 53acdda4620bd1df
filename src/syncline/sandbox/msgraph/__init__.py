"""A faithful fake of Microsoft Graph v1.0 for SharePoint and OneDrive (drives, driveItems,
delta, permissions, content, Entra groups) and of the identity platform's v2.0 token and
authorize endpoints: for tests, benchmarks and the demo.

state = GraphState()
site = state.add_site("Engineering", "alice@contoso.com")
drive = state.sites[site].drive_ids[0]
state.add_file(drive, "spec.docx", b"...")
access, refresh = state.issue_tokens("alice@contoso.com")
with BackgroundServer(create_graph_app(state)) as server:
    ...
"""

from syncline.sandbox.msgraph.app import create_graph_app
from syncline.sandbox.msgraph.settings import graph_env
from syncline.sandbox.msgraph.state import GRAPH_FAULTS, GraphState, quick_xor_hash

__all__ = ["GRAPH_FAULTS", "GraphState", "create_graph_app", "graph_env", "quick_xor_hash"]
