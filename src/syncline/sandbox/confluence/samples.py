"""Sample content for the fake Confluence: a small realistic site for the demo and tests, and a
fast builder of many pages for benchmarks."""

from __future__ import annotations

from dataclasses import dataclass, field

from syncline.sandbox.confluence.state import ConfluenceState

__all__ = ["Generated", "SiteSamples", "generate", "populate"]


@dataclass
class SiteSamples:
    """What `populate` made: account ids by email, group ids and space ids by name or key,
    and every page's id by its path (`ENG/Architecture/Runbooks`)."""

    users: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    spaces: dict[str, str] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)


def populate(
    state: ConfluenceState,
    *,
    admin: str = "alice@example.com",
    engineer: str = "bob@example.com",
    people_partner: str = "carol@example.com",
) -> SiteSamples:
    """Two spaces and groups with restrictions at several depths:

    - users: `admin` (Alice, in every group), `engineer` (Bob), `people_partner` (Carol, whose
      email is hidden by her privacy settings) and Dave, a guest;
    - groups: `confluence-users` (everyone but Dave), `engineering` (Alice, Bob), `people`
      (Alice, Carol);
    - space ENG "Engineering", readable by `confluence-users`: Home > Architecture >
      Runbooks > On-call; Home > Design Docs (read-restricted to `engineering`) > API Design
      (inherits the restriction); Home > Leadership (read-restricted to Alice) > Q3 Roadmap;
      Home > Onboarding (edit-restricted to `engineering`, readable by all);
    - space PEOPLE "People", readable by the `people` group and Dave: Home > Handbook;
      Home > Salaries (read-restricted to Carol and the `people` group).
    """
    samples = SiteSamples()
    users = samples.users
    users[admin] = _user(state, admin, "Alice Admin")
    users[engineer] = _user(state, engineer, "Bob Builder")
    users[people_partner] = _user(state, people_partner, "Carol Chen", email_visible=False)
    users["dave@partner.example"] = _user(state, "dave@partner.example", "Dave Guest", guest=True)
    everyone = [users[admin], users[engineer], users[people_partner]]
    samples.groups["confluence-users"] = state.add_group("confluence-users", everyone)
    samples.groups["engineering"] = state.add_group("engineering", [users[admin], users[engineer]])
    samples.groups["people"] = state.add_group("people", [users[admin], users[people_partner]])

    eng = state.add_space(
        "ENG",
        "Engineering",
        author=users[admin],
        reader_groups=[samples.groups["confluence-users"]],
        description="How we build and run things.",
    )
    samples.spaces["ENG"] = eng
    home = state.spaces[eng].homepage_id or ""
    pages = samples.pages
    pages["ENG"] = home

    def add(path: str, body: str, parent: str, author: str = admin) -> str:
        pages[path] = state.add_page(
            eng if path.startswith("ENG/") else people,
            path.rsplit("/", 1)[-1],
            body,
            parent=parent,
            author=users[author],
        )
        return pages[path]

    people = ""
    add("ENG/Architecture", "<p>Services, queues and stores.</p>", home)
    add("ENG/Architecture/Runbooks", "<h1>Runbooks</h1><p>What to do when.</p>",
        pages["ENG/Architecture"], engineer)  # fmt: skip
    add("ENG/Architecture/Runbooks/On-call", "<p>Page the secondary after 15 minutes.</p>",
        pages["ENG/Architecture/Runbooks"], engineer)  # fmt: skip
    add("ENG/Design Docs", "<p>Proposals under review.</p>", home, engineer)
    state.restrict(pages["ENG/Design Docs"], "read", groups=[samples.groups["engineering"]])
    add("ENG/Design Docs/API Design", "<p>Cursor paging everywhere.</p>",
        pages["ENG/Design Docs"], engineer)  # fmt: skip
    add("ENG/Leadership", "<p>For the leadership team.</p>", home)
    state.restrict(pages["ENG/Leadership"], "read", users=[users[admin]])
    add("ENG/Leadership/Q3 Roadmap", "<p>Ship Confluence sync.</p>", pages["ENG/Leadership"])
    add("ENG/Onboarding", "<p>Welcome aboard.</p>", home)
    state.restrict(pages["ENG/Onboarding"], "update", groups=[samples.groups["engineering"]])

    people = state.add_space(
        "PEOPLE",
        "People",
        author=users[admin],
        readers=[users["dave@partner.example"]],
        reader_groups=[samples.groups["people"]],
        description="Policies and people matters.",
    )
    samples.spaces["PEOPLE"] = people
    people_home = state.spaces[people].homepage_id or ""
    pages["PEOPLE"] = people_home
    add("PEOPLE/Handbook", "<p>Holidays, expenses, travel.</p>", people_home, people_partner)
    add("PEOPLE/Salaries", "<p>Bands by level.</p>", people_home, people_partner)
    state.restrict(
        pages["PEOPLE/Salaries"],
        "read",
        users=[users[people_partner]],
        groups=[samples.groups["people"]],
    )
    return samples


def _user(
    state: ConfluenceState,
    email: str,
    name: str,
    *,
    email_visible: bool = True,
    guest: bool = False,
) -> str:
    try:
        return state.user_by_email(email).account_id
    except KeyError:
        return state.add_user(email, name, email_visible=email_visible, is_guest=guest)


@dataclass
class Generated:
    space_id: str
    page_ids: list[str]


def generate(
    state: ConfluenceState,
    count: int,
    *,
    space_key: str = "BENCH",
    reader: str = "alice@example.com",
    fanout: int = 10,
    start: float | None = None,
    step: float = 61.0,
) -> Generated:
    """`count` pages in a new space `space_key` readable by `reader`, in a tree `fanout` wide
    under the space's homepage, created `step` seconds apart from `start` (default: that many
    steps before now). Built in one pass (10,000 pages in well under a second)."""
    account = _user(state, reader, "Alice Admin")
    space_id = state.add_space(space_key, f"{space_key} space", author=account)
    homepage = state.spaces[space_id].homepage_id
    first = (state.clock() - count * step) if start is None else start
    rows: list[tuple[str, str, int | None, float]] = []
    for index in range(count):
        parent = (index - 1) // fanout if index > 0 else None
        rows.append(
            (f"Page {index:06d}", f"<p>Body of page {index}.</p>", parent, first + index * step)
        )
    ids = state.add_pages(space_id, rows, author=account)
    if homepage is not None and ids:
        state.move_page(ids[0], homepage)
    return Generated(space_id, ids)
