"""Who owns a profile request, without real users (omg/daemon/profile_methods.py)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from omg.daemon.peer import Peer
from omg.daemon.profile_methods import owner_of
from store.errors import PermissionDenied, UsageError
from store.results import to_plain

ALICE = Peer(pid=10, uid=1000, gid=1000, user="alice")
ROOT = Peer(pid=1, uid=0, gid=0, user="root")
NAMELESS = Peer(pid=11, uid=4242, gid=4242, user="4242")


def test_the_owner_is_the_peer_unless_root_names_someone() -> None:
    assert owner_of(ALICE, {}) == "alice"
    assert owner_of(ALICE, {"user": "alice"}) == "alice"
    assert owner_of(ALICE, {"user": None}) == "alice"
    assert owner_of(ROOT, {}) == "root"
    assert owner_of(ROOT, {"user": "bob"}) == "bob"


@pytest.mark.parametrize("peer,params", [
    (ALICE, {"user": "bob"}),
    (ALICE, {"user": "root"}),
    (ALICE, {"user": "../bob"}),
    (NAMELESS, {}),
    (NAMELESS, {"user": "4242"}),
])
def test_writing_another_users_profiles_is_refused(peer: Peer,
                                                   params: dict[str, object]) -> None:
    with pytest.raises(PermissionDenied) as exc:
        owner_of(peer, params)
    assert exc.value.exit_code == 9


def test_reading_is_open_but_names_are_checked() -> None:
    assert owner_of(ALICE, {"user": "bob"}, write=False) == "bob"
    for bad in ("../x", ".hidden", "a/b"):
        with pytest.raises(UsageError):
            owner_of(ALICE, {"user": bad}, write=False)
        with pytest.raises(UsageError):
            owner_of(ROOT, {"user": bad})


class _T(NamedTuple):
    a: int
    b: tuple[tuple[str, str], ...]
    c: Path


def test_results_go_on_the_wire_as_plain_maps() -> None:
    from omg.daemon.protocol import _plain

    wire = to_plain([_T(1, (("K", "V"),), Path("/x"))])
    assert wire == [{"a": 1, "b": [["K", "V"]], "c": "/x"}]
    assert _plain({"ok": wire})
