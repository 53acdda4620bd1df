"""Sample content for the fake Dropbox: one team member's Dropbox, small and realistic, for the
demo and tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from syncline.sandbox.dropbox.state import DropboxState, Member

__all__ = ["DropboxSamples", "populate"]


@dataclass
class DropboxSamples:
    """What `populate` made: the shared folder, team folder and group ids, and every item's id
    by its path as `user` sees it (`Projects/Acme/brief.txt`)."""

    shared_folder: str
    team_folder: str
    group: str
    paths: dict[str, str] = field(default_factory=dict)


def populate(state: DropboxState, *, user: str, colleague: str) -> DropboxSamples:
    """A team with `user` (an admin) and `colleague`: `user` owns "Projects" (shared with
    `colleague` as editor and a "Design" group as viewers, and an invitee), a Paper doc, a
    plain file shared with `colleague` alone; the team has a "Handbook" team folder for
    everyone."""
    if state.team is None:
        state.create_team()
    state.ensure_user(user).is_admin = True
    state.ensure_user(colleague)
    paths: dict[str, str] = {}
    paths["Projects"] = state.add_folder("Projects", owner=user)
    paths["Projects/Acme"] = state.add_folder("Acme", paths["Projects"], owner=user)
    paths["Projects/Acme/brief.txt"] = state.add_file(
        "brief.txt", b"Acme wants the launch in May.\n", paths["Projects/Acme"], owner=user
    )
    paths["Projects/Roadmap.paper"] = state.add_paper(
        "Roadmap.paper", "# Roadmap\n\nShip the sync in Q3.\n", paths["Projects"], owner=user
    )
    paths["Notes.txt"] = state.add_file("Notes.txt", b"Call the printer on Monday.\n", owner=user)
    paths["Budget.csv"] = state.add_file("Budget.csv", b"item,cost\nsignage,1200\n", owner=user)
    design = state.add_group("Design", [colleague])
    shared = state.share_folder(user, paths["Projects"])
    state.add_folder_member(shared, Member("user", colleague, "editor"))
    state.add_folder_member(shared, Member("group", design, "viewer"))
    state.add_folder_member(
        shared, Member("invitee", "contractor@example.org", "viewer_no_comment")
    )
    state.add_file_member(paths["Budget.csv"], Member("user", colleague, "viewer"))
    handbook = state.add_team_folder("Handbook")
    paths["Handbook/Welcome.txt"] = state.add_file(
        "Welcome.txt", b"Welcome aboard.\n", state.namespaces[handbook].root_id, owner=user
    )
    return DropboxSamples(shared, handbook, design, paths)
