"""`omg config list|get|set|unset` (omg/config_edit.py), as a user runs it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from omg import config_edit
from tests.conftest import OmgEnv

DOC = Path(__file__).resolve().parent.parent / "docs" / "config.md"


def _file(env: OmgEnv) -> Path:
    return Path(env.env["XDG_CONFIG_HOME"]) / "omg" / "config.toml"


def test_set_get_unset_keep_comments(omg_env: OmgEnv) -> None:
    path = _file(omg_env)
    path.parent.mkdir(parents=True)
    path.write_text("# my settings\n[network]\n# slow link\ntimeout = 60\n")
    out = omg_env.run("config", "set", "network.retries", "5", check=True).stdout
    assert out == f"network.retries = 5 in {path}\n"
    omg_env.run("config", "set", "mirrors.node", "http://127.0.0.1:1/dist", check=True)
    omg_env.run("config", "set", "arch.makepkg_args", '["--nodeps", "--skippgpcheck"]',
                check=True)
    text = path.read_text()
    assert text.startswith("# my settings\n[network]\n# slow link\ntimeout = 60\nretries = 5")
    assert 'node = "http://127.0.0.1:1/dist"' in text
    assert omg_env.run("config", "get", "network.retries", check=True).stdout == "5\n"
    assert omg_env.run("config", "get", "arch.makepkg_args", check=True).stdout == \
        '["--nodeps", "--skippgpcheck"]\n'
    env_wins = omg_env.run("config", "get", "network.retries",
                           extra_env={"OMG_NET_RETRIES": "2"}, check=True)
    assert env_wins.stdout == "2\n"
    omg_env.run("config", "unset", "network.retries", check=True)
    assert "retries" not in path.read_text() and "# slow link" in path.read_text()
    unset = omg_env.run("config", "get", "network.retries")
    assert unset.returncode == 3 and "its default applies" in unset.stderr
    # What `set` wrote is what every run reads.
    assert omg_env.settings().raw["mirrors"]["node"] == "http://127.0.0.1:1/dist"


def test_bad_values_and_keys_leave_the_file_alone(omg_env: OmgEnv) -> None:
    omg_env.run("config", "set", "network.timeout", "2.5", check=True)
    before = _file(omg_env).read_bytes()
    for args, message in [
        (("set", "network.retries", "lots"), "network.retries: expected an integer >= 0"),
        (("set", "network.timeout", "0"), "expected a number of seconds > 0"),
        (("set", "nosuch.key", "1"), "unknown setting 'nosuch.key'"),
        (("set", "network", "1"), "unknown setting 'network'"),
        (("get", "store.bogus"), "unknown setting 'store.bogus'"),
    ]:
        proc = omg_env.run("config", *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.startswith("error: ") and message in proc.stderr
        assert _file(omg_env).read_bytes() == before
    _file(omg_env).write_text("[network\n")
    broken = omg_env.run("config", "set", "network.retries", "1")
    assert broken.returncode == 2 and "invalid config file" in broken.stderr
    assert _file(omg_env).read_text() == "[network\n"


def test_list_says_where_each_value_comes_from(omg_env: OmgEnv) -> None:
    omg_env.run("config", "set", "store.max_files", "1000", check=True)
    rows = {r["key"]: r for r in json.loads(
        omg_env.run("config", "list", "--json", extra_env={"OMG_NET_JOBS": "2"},
                    check=True).stdout)}
    assert rows["store.max_files"]["value"] == 1000
    assert rows["store.max_files"]["source"] == str(_file(omg_env))
    assert rows["network.jobs"] == {"key": "network.jobs", "value": "2",
                                    "source": "OMG_NET_JOBS",
                                    "type": "a positive integer", "variable": "OMG_NET_JOBS"}
    assert rows["network.retries"]["source"] == "default"
    assert rows["mirrors.bun_api"]["variable"] == "OMG_BUN_API_MIRROR"
    assert rows["keyrings.go"]["variable"] == "OMG_GO_KEYRING"
    text = omg_env.run("config", "list", check=True).stdout
    assert re.search(r"^store\.max_files +1000 +/", text, re.M)


def test_variables_match_the_documented_tables() -> None:
    """Each `| key | VARIABLE |` row of docs/config.md is `config_edit.VARIABLES`."""
    documented: dict[str, str] = {}
    section = ""
    for line in DOC.read_text().splitlines():
        heading = re.match(r"## `\[(\w+)\]`", line)
        if heading:
            section = heading.group(1)
        elif line.startswith("## "):
            section = ""
        row = re.match(r"\| `(?:\[(\w+)\] )?(\w+)` \| `(OMG_\w+)` \|", line)
        if row and section not in ("mirrors", "keyrings"):
            table = row.group(1) or section
            key = f"{table}.{row.group(2)}" if table else row.group(2)
            documented[key] = row.group(3)
    assert documented == config_edit.VARIABLES
    assert set(documented) <= set(config_edit.all_keys())


def test_policy_keys_are_set_and_checked(omg_env: OmgEnv) -> None:
    path = _file(omg_env)
    omg_env.run("config", "set", "policy.vulnerable", "deny", check=True)
    omg_env.run("config", "set", "policy.min_severity", "high", check=True)
    assert path.read_text() == '[policy]\nvulnerable = "deny"\nmin_severity = "high"\n'
    assert omg_env.run("config", "get", "policy.vulnerable", check=True).stdout == "deny\n"
    for key, bad in (("policy.eol", "block"), ("policy.aur", "warn"),
                     ("policy.min_severity", "moderate")):
        proc = omg_env.run("config", "set", key, bad)
        assert proc.returncode == 2 and proc.stderr.startswith(f"error: {key}: expected ")
    assert path.read_text() == '[policy]\nvulnerable = "deny"\nmin_severity = "high"\n'


def test_every_variable_omg_reads_is_documented() -> None:
    """docs/config.md names every OMG_ variable the code spells out (not only those
    of config keys: OMG_VERBOSITY was missing)."""
    root = DOC.parent.parent
    # (OMG_NET_..., OMG_MAX_... are f-string prefixes; OMG_X_ the docs' placeholder.)
    found = {m for area in ("omg", "store", "generations", "shims")
             for path in (root / area).rglob("*.py")
             for m in re.findall(r"OMG_[A-Z0-9_]*[A-Z0-9]\b", path.read_text())}
    found -= {"OMG_X_MIRROR", "OMG_X_KEYRING"}
    text = DOC.read_text()
    assert sorted(v for v in found if v not in text) == []
