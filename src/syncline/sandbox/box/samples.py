"""Sample content for the fake Box: one user's "All Files", small and realistic, for the demo
and tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from syncline.sandbox.box.state import BoxState

__all__ = ["BoxSamples", "populate"]


@dataclass
class BoxSamples:
    """What `populate` made: the group's id and every item's id by its path
    (`Contracts/Acme MSA.pdf`)."""

    group: str
    paths: dict[str, str] = field(default_factory=dict)


def populate(state: BoxState, *, user: str, colleague: str) -> BoxSamples:
    """`user` (an admin) owns a "Contracts" folder shared with a "Legal" group that `colleague`
    belongs to, a "Design" folder shared with `colleague` as editor, a company-wide shared
    link on a note, and a web link; `colleague` owns a folder shared back with `user`."""
    if not _known(state, user):
        state.add_user(user, is_admin=True)
    paths: dict[str, str] = {}
    paths["Contracts"] = state.add_folder("Contracts", owner=user)
    paths["Contracts/Acme MSA.pdf"] = state.add_file(
        "Acme MSA.pdf", b"%PDF-1.7 master services agreement", paths["Contracts"], owner=user
    )
    paths["Contracts/Renewals"] = state.add_folder("Renewals", paths["Contracts"], owner=user)
    paths["Contracts/Renewals/2025.txt"] = state.add_file(
        "2025.txt", b"Renew Acme by March.\n", paths["Contracts/Renewals"], owner=user
    )
    paths["Design"] = state.add_folder("Design", owner=user)
    paths["Design/Logo.svg"] = state.add_file(
        "Logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", paths["Design"], owner=user
    )
    paths["Design/Style guide"] = state.add_web_link(
        "Style guide", "https://example.com/style", paths["Design"], owner=user
    )
    paths["Notes.txt"] = state.add_file("Notes.txt", b"Call the printer on Monday.\n", owner=user)
    legal = state.add_group("Legal", [colleague])
    state.collaborate(paths["Contracts"], group=legal, role="viewer")
    state.collaborate(paths["Design"], user=colleague, role="editor")
    state.set_shared_link(paths["Notes.txt"], "company")
    paths["Shared with me"] = state.add_folder("Team offsite", owner=colleague)
    paths["Shared with me/Agenda.txt"] = state.add_file(
        "Agenda.txt", b"9:00 coffee\n", paths["Shared with me"], owner=colleague
    )
    state.collaborate(paths["Shared with me"], user=user, role="viewer uploader")
    return BoxSamples(legal, paths)


def _known(state: BoxState, login: str) -> bool:
    try:
        state.user_by_login(login)
    except KeyError:
        return False
    return True
