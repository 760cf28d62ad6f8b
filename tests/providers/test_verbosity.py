"""`-q`/`--quiet` and `-v`/`--verbose` (omg/verbosity.py), as a user types them."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import OmgEnv
from tests.generations.helpers import cli_add, fake_tool


def test_quiet_keeps_answers_and_errors_drops_the_rest(omg_env: OmgEnv) -> None:
    cli_add(omg_env, "tool", "1.0")
    use = omg_env.run("-q", "use", "tool@1")
    assert (use.returncode, use.stdout, use.stderr) == (0, "", "")
    assert omg_env.run("--quiet", "current", check=True).stdout.startswith(
        "default: generation 1")
    bad = omg_env.run("-q", "use", "nosuch@1")
    assert bad.returncode == 3 and bad.stderr.startswith("error: unknown tool 'nosuch'")
    # A warning (an unknown key in the config file) is dropped; without -q it shows.
    cfg = Path(omg_env.env["XDG_CONFIG_HOME"]) / "omg" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text("[store]\nmax_filez = 3\n")
    loud = omg_env.run("use", "tool@1", check=True)
    assert "warning: " in loud.stderr and "max_filez" in loud.stderr
    assert omg_env.run("-q", "use", "tool@1", check=True).stderr == ""


def test_short_flags_after_the_command_are_the_command_s(omg_env: OmgEnv) -> None:
    src = fake_tool(omg_env.root, "tool", "2.0")
    # store add's own -v (its version): only flags before the command are omg's.
    out = omg_env.run("-q", "store", "add", str(src), "-n", "tool", "-v", "2.0",
                      check=True).stdout
    assert out.strip().endswith("-tool-2.0")
    # After `--` everything is the command's (omg exec).
    omg_env.run("use", "tool@2.0", check=True)
    proc = omg_env.run("x", "tool@2.0", "--", "sh", "-c", 'echo "$@"', "sh", "--verbose",
                       "-q", check=True)
    assert proc.stdout == "--verbose -q\n" and proc.stderr == ""


def test_verbose_shows_requests_cache_hits_and_store_paths(
        omg_env: OmgEnv, mirror_env: dict[str, str]) -> None:
    first = omg_env.run("-v", "install", "node@20", extra_env=mirror_env, check=True)
    lines = [line for line in first.stderr.splitlines() if line.startswith("omg: ")]
    assert any(line.startswith("omg: GET http://127.0.0.1:") and "/index.json: HTTP 200"
               in line for line in lines), lines
    assert any(line.startswith("omg: downloaded ") for line in lines)
    assert any(line.startswith("omg: added ") and "-node-20." in line for line in lines)
    again = omg_env.run("--verbose", "list", "node", "--remote", extra_env=mirror_env,
                        check=True)
    assert "/index.json: the cached copy (" in again.stderr
    plain = omg_env.run("list", "node", "--remote", extra_env=mirror_env, check=True)
    assert "omg: " not in plain.stderr
