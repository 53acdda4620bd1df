"""Sample content for the fake Graph: a SharePoint site and a user's OneDrive, small and
realistic, for the demo."""

from __future__ import annotations

from dataclasses import dataclass, field

from syncline.sandbox.msgraph.state import GraphState

__all__ = ["GraphSamples", "populate"]

_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class GraphSamples:
    """What `populate` made: the site, its library's drive, the user's OneDrive, and every
    item's id by its path (`Campaigns/Launch brief.docx`)."""

    site: str
    library: str
    onedrive: str
    sharepoint_paths: dict[str, str] = field(default_factory=dict)
    onedrive_paths: dict[str, str] = field(default_factory=dict)


def populate(state: GraphState, *, user: str, colleague: str) -> GraphSamples:
    """A "Marketing" site that `user` owns and `colleague` visits, with folders, Office files,
    list columns, a folder shared with an Entra group and an organization-wide link; and the
    user's OneDrive with a few personal files, one shared with `colleague`."""
    site = state.add_site("Marketing", user, visitors=[colleague])
    library = state.sites[site].drive_ids[0]
    sp: dict[str, str] = {}
    sp["Campaigns"] = state.add_folder(library, "Campaigns")
    sp["Campaigns/Launch brief.docx"] = state.add_file(
        library, "Launch brief.docx", b"PK\x03\x04launch brief", parent=sp["Campaigns"],
        mime_type=_DOCX, fields={"Status": "Approved", "Owner": user},
    )  # fmt: skip
    sp["Campaigns/Budget.xlsx"] = state.add_file(
        library, "Budget.xlsx", b"PK\x03\x04budget", parent=sp["Campaigns"],
        mime_type=_XLSX, fields={"Status": "Draft"},
    )  # fmt: skip
    sp["Brand"] = state.add_folder(library, "Brand")
    sp["Brand/Guidelines.txt"] = state.add_file(
        library, "Guidelines.txt", b"Use the logo on white, never stretched.\n",
        parent=sp["Brand"],
    )  # fmt: skip
    sp["Press release.txt"] = state.add_file(
        library, "Press release.txt", b"For immediate release: Syncline syncs SharePoint.\n"
    )
    designers = state.add_group("Designers", [colleague], mail="designers@" + _domain(user))
    state.share(sp["Brand"], group=designers)
    state.create_link(sp["Press release.txt"], "organization")

    onedrive = state.add_personal_drive(user)
    od: dict[str, str] = {}
    od["Notes.txt"] = state.add_file(onedrive, "Notes.txt", b"Call the printer on Monday.\n")
    od["Drafts"] = state.add_folder(onedrive, "Drafts")
    od["Drafts/Talk outline.txt"] = state.add_file(
        onedrive, "Talk outline.txt", b"1. Why sync\n2. How\n", parent=od["Drafts"]
    )
    state.share(od["Drafts/Talk outline.txt"], user=colleague)
    return GraphSamples(site, library, onedrive, sp, od)


def _domain(mail: str) -> str:
    return mail.rpartition("@")[2]
