"""generations.links: the one writer of generations, held to the formats it promises."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from generations import links


@given(command=st.text(), env=st.text(), number=st.integers(1, 10**9),
       now=st.floats(allow_nan=False, allow_infinity=False) | st.integers(0, 2**40))
def test_record_bytes_are_json_dumps_sorted(command: str, env: str, number: int,
                                            now: float) -> None:
    record = {"format": links.GENERATION_FORMAT, "number": number, "env": env,
              "time": now, "command": command}
    expected = json.dumps(record, sort_keys=True).encode() + b"\n"
    assert links.record_bytes(record) == expected


@given(st.text(st.sampled_from(list("ab-0123456789.json-link/")), max_size=16))
def test_profile_of_and_numbers_agree(entry: str) -> None:
    """An entry names a profile exactly when `numbers` counts it for that profile."""
    name = links.profile_of(entry)
    if name is not None:
        rest = entry[len(name) + 1:]
        assert entry.startswith(name + "-")
        assert rest.endswith(("-link", ".json"))
        assert rest.removesuffix("-link").removesuffix(".json").isdecimal()


def test_add_generation_numbers_never_reuse(tmp_path: Path) -> None:
    store = tmp_path / "store"
    (store / "env-a").mkdir(parents=True)
    d = str(tmp_path / "profiles" / "u")
    with links.lock(d, "default", str(store)):  # as every writer does: it makes `d`
        n1, _ = links.add_generation(d, "default", str(store), "env-a", command="c", now=1.0)
        n2, rec = links.add_generation(d, "default", str(store), "env-a", command="c",
                                       now=2.0)
    assert (n1, n2) == (1, 2) and rec["number"] == 2
    assert links.current_number(d, "default") == 2
    # Deleting the newest never frees its number (the .seq file remembers it).
    links.switch(d, "default", 1)
    links.forget(d, "default", 2)
    assert not (tmp_path / "profiles" / "u" / "default-2-link").exists()
    assert (tmp_path / "profiles" / "u" / "default.seq").read_text() == "2\n"
    with links.lock(d, "default", str(store)):
        n3, _ = links.add_generation(d, "default", str(store), "env-a", command="c", now=3.0)
    assert n3 == 3 and links.numbers(d, "default") == [1, 3]
    assert links.env_of(d, "default", 3) == "env-a"
    assert json.loads((tmp_path / "profiles" / "u" / "default-3.json").read_text())["time"] == 3.0
