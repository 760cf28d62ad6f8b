"""Shims and the shell: PATH through symlinks, switches, the init lines and the cd hook."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import OmgEnv
from tests.generations.helpers import fake_tool, snapshot


def user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def add(env: OmgEnv, tool: str, version: str, exes: tuple[str, ...] = ()) -> None:
    src = fake_tool(env.root, tool, version, exes)
    env.run("store", "add", str(src), "--name", tool, "--version", version, check=True)


@pytest.fixture
def env(omg_env: OmgEnv) -> OmgEnv:
    add(omg_env, "node", "20.1.0", ("node", "npm"))
    add(omg_env, "node", "22.0.0", ("node",))
    # /usr/bin has a real node and npm here: go's gofmt is the tool that goes missing
    add(omg_env, "go", "1.22.0", ("go", "gofmt"))
    add(omg_env, "go", "1.23.0", ("go",))
    add(omg_env, "python", "3.12.1", ("python",))
    return omg_env


def global_bin(env: OmgEnv) -> Path:
    return env.home / "profiles" / user() / "default" / "bin"


def sh(env: OmgEnv, script: str, path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", "-c", script], env={**env.env, "PATH": path},
                          capture_output=True, text=True)


def test_tool_through_path_survives_switches(env: OmgEnv) -> None:
    env.run("use", "node@20", "go@1.22", check=True)
    path = f"{global_bin(env)}:/usr/bin:/bin"
    assert sh(env, "node; npm; gofmt", path).stdout == (
        "node node 20.1.0\nnpm node 20.1.0\ngofmt go 1.22.0\n")
    bin_before = os.readlink(env.home / "profiles" / user() / "default")
    env.run("use", "node@22", "go@1.23", check=True)
    # the PATH entry itself never changed; only the profile link did
    assert os.readlink(env.home / "profiles" / user() / "default") != bin_before
    assert sh(env, "node; go", path).stdout == "node node 22.0.0\ngo go 1.23.0\n"
    missing = sh(env, "gofmt", path)
    assert missing.returncode == 127 and "not found" in missing.stderr
    assert "Traceback" not in missing.stderr
    env.run("rollback", check=True)
    assert sh(env, "gofmt", path).stdout == "gofmt go 1.22.0\n"


def bash_i(env: OmgEnv, rc: Path, script: str, cwd: Path | None = None,
           extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "--rcfile", str(rc), "-i", "-c", script],
                          env={**env.env, "PATH": "/usr/bin:/bin", **(extra or {})},
                          capture_output=True, text=True, cwd=cwd or env.root, timeout=60)


def init_rc(env: OmgEnv, *args: str) -> Path:
    rc = env.root / "bashrc"
    rc.write_text(env.run("init", "bash", *args, check=True).stdout)
    return rc


#: Each shell, interactive, without the user's or the system's rc files.
INTERACTIVE = {"bash": ["bash", "--norc", "-i"], "zsh": ["zsh", "-f", "-i"],
               "fish": ["fish", "--no-config", "-i"]}


def typed(env: OmgEnv, shell: str, lines: list[str], cwd: Path | None = None,
          extra: dict[str, str] | None = None,
          tty: bool = False) -> subprocess.CompletedProcess[str]:
    """An interactive `shell` fed `lines` on stdin, as a user types them (prompts and
    the hooks run between lines)."""
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    environ = {**env.env, "PATH": "/usr/bin:/bin", "TERM": "dumb", "PS1": "$ ", **(extra or {})}
    if tty:
        return on_tty(INTERACTIVE[shell], lines, environ, cwd or env.root)
    return subprocess.run(INTERACTIVE[shell], input="".join(f"{ln}\n" for ln in lines),
                          env=environ, capture_output=True, text=True, cwd=cwd or env.root,
                          timeout=60)


def on_tty(cmd: list[str], lines: list[str], environ: dict[str, str],
           cwd: Path) -> subprocess.CompletedProcess[str]:
    """`cmd` on a pseudo-terminal (fish fires its prompt events only there), the lines
    typed ahead; stdout and stderr come back together, without terminal escapes."""
    import pty
    import re
    import select
    import time

    def controlling_tty() -> None:  # the terminal is the shell's own, as in a terminal
        import fcntl
        import termios

        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=environ,
                            cwd=cwd, preexec_fn=controlling_tty)
    os.close(slave)
    os.write(master, "".join(f"{ln}\n" for ln in [*lines, "exit"]).encode())
    out = b""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the shell exited and closed the terminal
                break
            if not chunk:
                break
            out += chunk
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        os.close(master)
    text = re.sub(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07]*\x07|[()][A-Z0-9]|[=>])", "",
                  out.decode(errors="replace")).replace("\r", "")
    return subprocess.CompletedProcess(cmd, proc.returncode, text, text)


def rc_for(env: OmgEnv, shell: str, *args: str) -> Path:
    rc = env.root / f"rc.{shell}"
    rc.write_text(env.run("init", shell, *args, check=True).stdout)
    return rc


def test_init_sets_path_prefixes_and_hint(env: OmgEnv) -> None:
    env.run("use", "node@22", "go@1.23", check=True)
    rc = init_rc(env, "--not-found")
    proc = bash_i(env, rc, 'echo "$PATH"; echo "$NPM_CONFIG_PREFIX"; node; gofmt; echo rc=$?;'
                           ' nosuchthing; echo rc=$?')
    lines = proc.stdout.splitlines()
    path = lines[0].split(":")
    assert path[0] == str(global_bin(env))
    prefix = env.root / "data" / "omg" / "prefix"
    # npm's and gem's bins follow their variables (per ABI), right after the profile's.
    assert path[1:6] == [str(prefix / "npm" / "bin"), str(prefix / "gem" / "bin"),
                         str(prefix / "python" / "bin"), str(prefix / "go" / "bin"),
                         str(prefix / "cargo" / "bin")]
    assert path[6:] == ["/usr/bin", "/bin"]
    assert lines[1] == str(prefix / "npm")
    assert lines[2] == "node node 22.0.0"
    assert lines[3:] == ["rc=127", "rc=127"]
    assert "gofmt: command not found" in proc.stderr
    assert "omg: gofmt is not in the current profile; try: omg use go@VERSION" in proc.stderr
    assert "omg: nosuchthing" not in proc.stderr
    # sourcing twice does not duplicate PATH entries
    twice = bash_i(env, rc, f'. {rc}; echo "$PATH"')
    assert twice.stdout.splitlines()[-1].split(":") == path


def test_cd_hook_switches_to_project_profile_and_back(env: OmgEnv) -> None:
    env.run("use", "node@22", check=True)
    proj = env.root / "work" / "app"
    sub = proj / "src" / "deep"
    sub.mkdir(parents=True)
    out = env.run("use", "--local", "node@20.1.0", cwd=proj, check=True).stdout
    assert "wrote" in out and (proj / ".node-version").read_text() == "20.1.0\n"
    mangled = str(proj).replace("/", "%")
    proj_bin = env.home / "profiles" / user() / "projects" / mangled / "bin"
    assert (proj_bin / "node").exists()
    assert (env.home / "gcroots" / user() / "projects" / mangled).is_symlink()
    rc = init_rc(env)
    script = f"""
node
cd {sub}; eval "$PROMPT_COMMAND"; node; echo "${{PATH%%:*}}"
cd {env.root}; eval "$PROMPT_COMMAND"; node; echo "$PATH"
cd {proj}; eval "$PROMPT_COMMAND"; node
"""
    proc = bash_i(env, rc, script)
    lines = proc.stdout.splitlines()
    assert lines[0] == "node node 22.0.0"
    assert lines[1] == "node node 20.1.0" and lines[2] == str(proj_bin)
    assert lines[3] == "node node 22.0.0" and str(proj_bin) not in lines[4]
    assert lines[4].split(":")[0] == str(global_bin(env))
    assert lines[5] == "node node 20.1.0"
    # starting inside the project applies it at once (the hook runs at init)
    inside = bash_i(env, rc, "node", cwd=sub)
    assert inside.stdout == "node node 20.1.0\n"
    # project generations and rollback work with --local too
    env.run("use", "--local", "python", cwd=proj, check=True)
    assert (proj / ".tool-versions").exists() is False
    assert (proj / ".python-version").read_text() == "3.12.1\n"
    assert "generation 2" in env.run("current", "--local", cwd=sub, check=True).stdout
    env.run("rollback", "--local", cwd=sub, check=True)
    assert not (proj_bin / "python").exists()
    # and gc keeps the project's tools though no global generation uses node 20
    env.run("gc", check=True)
    assert inside.stdout == bash_i(env, rc, "node", cwd=sub).stdout


def test_version_file_without_profile_hints_once_and_sync_builds_it(env: OmgEnv) -> None:
    clone = env.root / "clone"
    (clone / "lib").mkdir(parents=True)
    (clone / ".node-version").write_text("v20\n")
    (clone / ".tool-versions").write_text("python 3.12  # comment\n")
    rc = init_rc(env)
    script = f"""
cd {clone}/lib; eval "$PROMPT_COMMAND"
cd {clone}; eval "$PROMPT_COMMAND"
"""
    proc = bash_i(env, rc, script)
    assert proc.stderr.count("pins tool versions but has no project profile; "
                             "run: omg install") == 1
    before = snapshot(clone)
    # the command the hint names works as it is: the version files' tools, then the profile
    out = env.run("install", cwd=clone / "lib", check=True).stdout
    assert "node 20.1.0" in out and "python 3.12.1" in out
    assert snapshot(clone) == before  # sync reads version files, never rewrites them
    proc = bash_i(env, rc, "node; python", cwd=clone)
    assert proc.stdout == "node node 20.1.0\npython python 3.12.1\n"
    assert "run: omg" not in proc.stderr
    again = env.run("sync", cwd=clone, check=True).stdout
    assert "already current" in again and snapshot(clone) == before


def test_sync_without_version_file(env: OmgEnv) -> None:
    empty = env.root / "empty"
    empty.mkdir()
    proc = env.run("sync", cwd=empty)
    assert proc.returncode == 3 and proc.stderr.startswith("error: no version file")


def test_other_tools_go_to_tool_versions(env: OmgEnv) -> None:
    add(env, "zig", "0.13.0")
    proj = env.root / "zproj"
    proj.mkdir()
    (proj / ".tool-versions").write_text("zig 0.11.0\nlua 5.4\n")
    env.run("use", "--local", "zig@0.13", cwd=proj, check=True)
    assert (proj / ".tool-versions").read_text() == "lua 5.4\nzig 0.13\n"


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_init_parses(env: OmgEnv) -> None:
    rc = env.root / "zshrc"
    rc.write_text(env.run("init", "zsh", check=True).stdout)
    assert subprocess.run(["zsh", "-n", str(rc)]).returncode == 0


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_init_parses(env: OmgEnv) -> None:
    rc = env.root / "config.fish"
    rc.write_text(env.run("init", "fish", check=True).stdout)
    assert subprocess.run(["fish", "-n", str(rc)]).returncode == 0


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_cd_hook_in_zsh_and_fish(env: OmgEnv, shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed")
    env.run("use", "node@22", check=True)
    proj = env.root / "work" / "app"
    sub = proj / "src"
    sub.mkdir(parents=True)
    env.run("use", "--local", "node@20.1.0", cwd=proj, check=True)
    rc = rc_for(env, shell, "--not-found")
    other = env.root / "elsewhere"
    (other / "lib").mkdir(parents=True)
    (other / ".python-version").write_text("3.12\n")
    script = f"source {rc}; node; cd {sub}; node; cd {env.root}; node; gofmt; " \
             f"cd {other}/lib; cd {other}; cd {sub}; node"
    proc = subprocess.run([shell, "-c", script], env={**env.env, "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, cwd=env.root, timeout=60)
    assert proc.stdout.splitlines() == ["node node 22.0.0", "node node 20.1.0",
                                        "node node 22.0.0", "node node 20.1.0"], proc.stderr
    assert "omg: gofmt is not in the current profile; try: omg use go@VERSION" in proc.stderr
    assert proc.stderr.count("has no project profile; run: omg install") == 1


PREFIX_VARS = ("NPM_CONFIG_PREFIX", "PYTHONUSERBASE", "GEM_HOME", "GOPATH", "GOBIN",
               "CARGO_HOME")
ECHO_VARS = {"bash": 'echo "V=${V-unset}"', "zsh": 'echo "V=${V-unset}"',
             "fish": "set -q V; and echo V=$V; or echo V=unset"}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_user_prefix_variables_are_kept(env: OmgEnv, shell: str) -> None:
    """A user's CARGO_HOME and GOPATH survive the init lines, a project's env files and
    the lines sourced again; omg sets only the others (GOBIN stays unset with GOPATH)."""
    env.run("use", "node@22", check=True)
    rc = rc_for(env, shell)
    proj = env.root / "proj"
    proj.mkdir()
    env.run("use", "--local", "node@20.1.0", cwd=proj, check=True)
    user_vars = {"CARGO_HOME": str(env.root / "mycargo"), "GOPATH": str(env.root / "mygo"),
                 "NPM_CONFIG_PREFIX": str(env.root / "mynpm")}
    show = [ECHO_VARS[shell].replace("V", v) for v in PREFIX_VARS]
    proc = typed(env, shell, [f"source {rc}", *show, f"cd {proj}", *show,
                              f"source {rc}", *show, "echo PATH=$PATH"], extra=user_vars)
    got = [ln for ln in proc.stdout.splitlines() if "=" in ln and not ln.startswith("PATH=")]
    prefix = env.root / "data" / "omg" / "prefix"
    want = [f"NPM_CONFIG_PREFIX={user_vars['NPM_CONFIG_PREFIX']}",
            f"PYTHONUSERBASE={prefix / 'python'}", f"GEM_HOME={prefix / 'gem'}",
            f"GOPATH={user_vars['GOPATH']}", "GOBIN=unset",
            f"CARGO_HOME={user_vars['CARGO_HOME']}"]
    assert got == want * 3, proc.stderr
    path = next(ln for ln in proc.stdout.splitlines() if ln.startswith("PATH="))
    assert str(prefix / "cargo") not in path and str(prefix / "go") not in path
    assert str(prefix / "npm") not in path and str(prefix / "python" / "bin") in path


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_prefix_variables_default_to_omgs(env: OmgEnv, shell: str) -> None:
    """Unset variables get omg's prefixes, and a shell started from one keeps them."""
    rc = rc_for(env, shell)
    show = [ECHO_VARS[shell].replace("V", v) for v in ("GOBIN", "CARGO_HOME")]
    proc = typed(env, shell, [f"source {rc}", *show])
    prefix = env.root / "data" / "omg" / "prefix"
    want = [f"GOBIN={prefix / 'go' / 'bin'}", f"CARGO_HOME={prefix / 'cargo'}"]
    assert [ln for ln in proc.stdout.splitlines() if "=" in ln] == want, proc.stderr
    inherited = {"GOBIN": str(prefix / "go" / "bin"), "GOPATH": str(prefix / "go"),
                 "CARGO_HOME": str(prefix / "cargo")}
    again = typed(env, shell, [f"source {rc}", *show], extra=inherited)
    assert [ln for ln in again.stdout.splitlines() if "=" in ln] == want


CNF_BEFORE = {
    "bash": 'command_not_found_handle() { echo "distro: $1 is in package x" >&2; return 127; }',
    "zsh": 'command_not_found_handler() { echo "distro: $1 is in package x" >&2; return 127; }',
    "fish": 'function fish_command_not_found; echo "distro: $argv[1] is in package x" >&2; end',
}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_not_found_hint_is_opt_in_and_chains(env: OmgEnv, shell: str) -> None:
    plain = rc_for(env, shell)
    proc = typed(env, shell, [CNF_BEFORE[shell], f"source {plain}", "gofmt"])
    assert "distro: gofmt is in package x" in proc.stderr
    assert "omg:" not in proc.stderr
    rc = rc_for(env, shell, "--not-found")
    # the previous handler runs first, once, even with the lines sourced twice
    proc = typed(env, shell, [CNF_BEFORE[shell], f"source {rc}", f"source {rc}", "gofmt",
                              "nosuchthing", "echo done"])
    assert proc.stderr.count("distro: gofmt is in package x") == 1
    assert proc.stderr.count("omg: gofmt is not in the current profile; "
                             "try: omg use go@VERSION") == 1
    assert "distro: nosuchthing is in package x" in proc.stderr
    assert "omg: nosuchthing" not in proc.stderr and "done" in proc.stdout


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_not_found_without_previous_handler(env: OmgEnv, shell: str) -> None:
    """With no handler before (fish without its config lacks even the default one),
    the shell's own message, then the hint: no recursion."""
    rc = rc_for(env, shell, "--not-found")
    proc = typed(env, shell, [f"source {rc}", "gofmt", "echo done"])
    assert "call stack" not in proc.stderr and "done" in proc.stdout
    own = {"bash": "bash: gofmt: command not found", "zsh": "zsh: command not found: gofmt",
           "fish": "fish: Unknown command: gofmt"}[shell]
    assert proc.stderr.count(own) == 1, proc.stderr
    assert proc.stderr.count("omg: gofmt is not in the current profile") == 1


def static_rc(env: OmgEnv, shell: str, *args: str) -> tuple[str, Path]:
    line = env.run("init", shell, "--static", *args, check=True).stdout
    return line, env.root / "data" / "omg" / f"init.{shell}"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_static_init_is_one_line_and_works(env: OmgEnv, shell: str) -> None:
    env.run("use", "node@22", check=True)
    line, path = static_rc(env, shell, "--not-found")
    assert line.count("\n") == 1 and str(path) in line
    text = path.read_text()
    assert "omg init " + shell + " --static --not-found" in text
    assert "_omg_complete" in text  # completions come with it
    proc = typed(env, shell, [line.strip(), "node", "gofmt", "echo done"])
    assert "node node 22.0.0" in proc.stdout and "done" in proc.stdout, proc.stderr
    assert "omg: gofmt is not in the current profile" in proc.stderr


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")
@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_static_init_starts_without_a_process(env: OmgEnv, shell: str) -> None:
    line, _ = static_rc(env, shell)
    rc = env.root / f"static.{shell}"
    rc.write_text(line)
    log = env.root / "strace.log"
    subprocess.run(["strace", "-f", "-e", "trace=execve,clone,clone3,fork,vfork", "-o",
                    str(log), shell, "-c", f". {rc}; echo $OMG_HOME"],
                   env={**env.env, "PATH": "/usr/bin:/bin"}, check=True,
                   capture_output=True, timeout=60)
    calls = [ln for ln in log.read_text().splitlines()
             if any(c in ln for c in ("execve(", "clone", "fork("))]
    assert len(calls) == 1, calls  # the shell's own execve only


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_static_file_rewritten_when_omg_changes(env: OmgEnv, shell: str) -> None:
    """A static file older than omg's shell code (omg upgraded) is rewritten by the next
    shell, which sources the new lines; an up-to-date one is left alone."""
    env.run("use", "node@22", check=True)
    line, path = static_rc(env, shell)
    path.write_text(path.read_text().replace("# omg shell integration",
                                             "echo stale-lines\n# omg shell integration"))
    now = path.stat().st_mtime
    proc = typed(env, shell, [line.strip(), "node"])
    assert "stale-lines" in proc.stdout  # newer than omg's code: kept as it is
    os.utime(path, (now - 10**6, now - 10**6))
    proc = typed(env, shell, [line.strip(), "node"])
    assert "stale-lines" not in proc.stdout and "node node 22.0.0" in proc.stdout, proc.stderr
    assert "stale-lines" not in path.read_text() and path.stat().st_mtime >= now


def with_omg(env: OmgEnv) -> dict[str, str]:
    """PATH for a shell whose hook runs `command omg` (this venv's)."""
    import sys

    return {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}


ECHO = {"bash": 'echo "{}"', "zsh": 'echo "{}"', "fish": 'echo "{}"'}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_follows_a_changed_version_file(env: OmgEnv, shell: str) -> None:
    """`echo 22 > .node-version` switches at the next prompt when 22 is installed; a
    version not installed gives one line naming `omg install`, and OMG_DRIFT says it."""
    env.run("use", "go@1.22", check=True)
    proj = env.root / "app"
    (proj / "src").mkdir(parents=True)
    env.run("use", "--local", "node@20.1.0", cwd=proj, check=True)
    rc = rc_for(env, shell)
    vf = proj / ".node-version"
    proc = typed(env, shell, [
        f"source {rc}", f"cd {proj / 'src'}", "node", 'echo "tools=$OMG_TOOLS"',
        f"echo 22.0.0 > {vf}", "node", 'echo "tools=$OMG_TOOLS"',
        "true", f"echo 24 > {vf}", "node", 'echo "drift=$OMG_DRIFT"', "true", "true",
        f"echo 20 > {vf}", "node", 'echo "drift=$OMG_DRIFT"'], extra=with_omg(env),
        tty=shell == "fish")
    out = [ln for ln in proc.stdout.splitlines() if ln.startswith(("node ", "tools=", "drift="))]
    assert out == ["node node 20.1.0", "tools=node@20.1.0 go@1.22.0",
                   "node node 22.0.0", "tools=node@22.0.0 go@1.22.0",
                   "node node 22.0.0", "drift=node@24",
                   "node node 20.1.0", "drift="], proc.stderr
    assert proc.stderr.count(f"omg: {proj}: now node 22.0.0") == 1, proc.stderr
    assert proc.stderr.count("wants node@24 (not installed); run: omg install") == 1
    assert "error" not in proc.stderr
    assert vf.read_text() == "20\n"  # the hook reads version files, never writes them


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_use_local_in_the_shell_needs_no_check(env: OmgEnv, shell: str) -> None:
    """`omg use --local` through the shell function writes the files and the profile to
    match: the next prompt asks omg nothing (a check would print the switch line)."""
    proj = env.root / "app"
    proj.mkdir()
    env.run("use", "--local", "node@20.1.0", cwd=proj, check=True)
    env.run("sync", cwd=proj, check=True)
    rc = rc_for(env, shell)
    proc = typed(env, shell, [f"source {rc}", f"cd {proj}", "omg use --local node@22",
                              "node", 'echo "tools=$OMG_TOOLS"', "true"], extra=with_omg(env),
                 tty=shell == "fish")
    assert "node node 22.0.0" in proc.stdout and "tools=node@22.0.0" in proc.stdout
    assert "now node" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_switch_typed_outside_a_project(env: OmgEnv, shell: str) -> None:
    """`omg use` typed outside any project checks no version file (bash and zsh ran
    `omg sync` there: a second process and `error: no version file`), a switch behind
    `-q` reloads the shell's tools as one without it does, and a command the shell
    found elsewhere before (hashed: /usr/bin/node here) is looked up again."""
    rc = rc_for(env, shell)
    proc = typed(env, shell, [f"source {rc}", "node -e 0", "omg use node@22", "node",
                              'echo "tools=$OMG_TOOLS"', "omg -q use node@20", "node",
                              'echo "tools=$OMG_TOOLS"', "true"], extra=with_omg(env),
                 tty=shell == "fish")
    out = [ln for ln in proc.stdout.splitlines() if ln.startswith(("node node", "tools="))]
    assert out == ["node node 22.0.0", "tools=node@22.0.0", "node node 20.1.0",
                   "tools=node@20.1.0"], proc.stdout + proc.stderr
    assert "error" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_version_file_added_beats_a_hashed_command(env: OmgEnv, shell: str) -> None:
    """A version file added in a project brings a tool the shell had found elsewhere
    (hashed /usr/bin/node): the next prompt's switch makes the shell look it up again."""
    proj = env.root / "app"
    proj.mkdir()
    env.run("use", "--local", "python@3.12.1", cwd=proj, check=True)
    rc = rc_for(env, shell)
    proc = typed(env, shell, [f"source {rc}", f"cd {proj}", "node -e 0",
                              f"echo 20.1.0 > {proj / '.node-version'}", "node"],
                 extra=with_omg(env))
    assert f"omg: {proj}: now node 20.1.0" in proc.stderr, proc.stderr
    assert proc.stdout.splitlines()[-1:] == ["node node 20.1.0"], proc.stdout + proc.stderr


LOCK = """format = 1

[tools.node]
spec = "{spec}"
file = ".node-version"
version = "{version}"

[tools.node.platforms.linux-x64-gnu]
artifacts = [{{ url = "https://nodejs.org/dist/v{version}/node.tar.xz", sha256 = "{sha}" }}]
"""


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_prompt_shows_drift_from_the_lock(env: OmgEnv, shell: str) -> None:
    """A `git pull` that moves omg.lock on (`.node-version` still says 20) is drift at
    the next prompt: OMG_DRIFT names the locked version, one line says `omg install`."""
    proj = env.root / "app"
    proj.mkdir()
    (proj / ".node-version").write_text("20\n")
    lock = proj / "omg.lock"
    lock.write_text(LOCK.format(spec="20", version="20.1.0", sha="0" * 64))
    env.run("sync", cwd=proj, check=True)
    rc = rc_for(env, shell)
    pulled = env.root / "pulled.lock"
    pulled.write_text(LOCK.format(spec="20", version="20.5.0", sha="1" * 64))
    proc = typed(env, shell, [f"source {rc}", f"cd {proj}", 'echo "drift=$OMG_DRIFT"',
                              f"cp {pulled} {lock}", "node", 'echo "drift=$OMG_DRIFT"',
                              "true"], extra=with_omg(env), tty=shell == "fish")
    out = [ln for ln in proc.stdout.splitlines() if ln.startswith(("node node", "drift="))]
    assert out == ["drift=", "node node 20.1.0", "drift=node@20.5.0"], proc.stdout + proc.stderr
    said = proc.stdout if shell == "fish" else proc.stderr  # (a terminal: one stream)
    assert said.count(f"omg: {proj}: omg.lock wants node@20.5.0 (not installed); "
                      "run: omg install") == 1, said


def test_check_names_a_lock_the_version_files_left(env: OmgEnv) -> None:
    """The lock's version is installed, but the version files now give another: the
    switch is made, and the stamp (OMG_DRIFT) and one line name what the lock wants."""
    from omg import lockfile
    from shims import init

    assert lockfile.FILENAME in init.WATCHED
    proj = env.root / "app"
    proj.mkdir()
    (proj / ".node-version").write_text("22\n")
    (proj / "omg.lock").write_text(LOCK.format(spec="20", version="20.1.0", sha="0" * 64))
    proc = env.run("sync", "--if-installed", str(proj), check=True)
    assert f"omg: {proj}: omg.lock wants node@20.1.0; run: omg install" in proc.stderr
    stamp = Path(env.env["XDG_DATA_HOME"]) / "omg" / "stamps" / str(proj).replace("/", "%")
    assert stamp.read_text() == "node@20.1.0\n"
    (proj / "omg.lock").write_text(LOCK.format(spec="22", version="22.0.0", sha="0" * 64))
    env.run("sync", "--if-installed", str(proj), check=True)
    assert stamp.read_text() == ""


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_global_use_in_the_shell_outside_a_project_asks_nothing(env: OmgEnv,
                                                                shell: str) -> None:
    """`omg use node@22` typed outside any project switches the default profile and
    says nothing more: the shell function once ran `omg sync --if-installed ''` there
    (no project to check), which printed "error: no version file" after every use."""
    env.run("use", "node@20", check=True)
    rc = rc_for(env, shell)
    proc = typed(env, shell, [f"source {rc}", "omg use node@22", "node"], cwd=env.root,
                 extra=with_omg(env), tty=shell == "fish")
    assert "node node 22.0.0" in proc.stdout, proc.stdout
    assert "error" not in proc.stderr and "no version file" not in proc.stderr, proc.stderr


PROMPT_DIR = Path(__file__).resolve().parents[2] / "shims" / "prompt"


def test_prompt_segments_show_tools_and_drift(env: OmgEnv) -> None:
    """The oh-my-zsh plugin and the powerlevel10k segment render OMG_TOOLS and OMG_DRIFT
    (p10k stubbed: its `p10k segment` prints what it was given), in a real zsh."""
    if shutil.which("zsh") is None:
        pytest.skip("zsh is not installed")
    env.run("use", "go@1.22", check=True)
    proj = env.root / "app"
    proj.mkdir()
    env.run("use", "--local", "node@20.1.0", cwd=proj, check=True)
    line, _ = static_rc(env, "zsh")
    stub = 'p10k() { print -r -- "segment: ${(j: :)@}"; }'
    proc = typed(env, "zsh", [
        line.strip(), f"source {PROMPT_DIR / 'omg.plugin.zsh'}",
        f"source {PROMPT_DIR / 'omg.p10k.zsh'}", stub,
        "ZSH_THEME_OMG_PROMPT_PREFIX='[' ZSH_THEME_OMG_PROMPT_SUFFIX=']'",
        "ZSH_THEME_OMG_PROMPT_DRIFT=' != '",
        f"cd {proj}", 'echo "info=$OMG_PROMPT_INFO"', "prompt_omg",
        "echo 24 > .node-version", 'echo "info=$OMG_PROMPT_INFO"', "prompt_omg",
        'echo "fn=$(omg_prompt_info)"', 'echo "exported=$(printenv OMG_DRIFT)"'],
        extra=with_omg(env))
    out = [ln for ln in proc.stdout.splitlines() if ln.startswith(("info=", "segment:", "fn=",
                                                                   "exported="))]
    assert out == ["info=[node 20.1.0 go 1.22.0]",
                   "segment: segment -i omg -t node 20.1.0 go 1.22.0",
                   "info=[node 20.1.0 go 1.22.0 != node@24]",
                   "segment: segment -s DRIFT -i ! -t node 20.1.0 go 1.22.0 != node@24",
                   "fn=[node 20.1.0 go 1.22.0 != node@24]", "exported=node@24"], proc.stderr


def test_starship_snippet_names_the_hook_variables() -> None:
    import tomllib

    conf = tomllib.loads((PROMPT_DIR / "starship.toml").read_text())
    assert set(conf["env_var"]) == {"OMG_TOOLS", "OMG_DRIFT"}
    assert all("$env_value" in v["format"] for v in conf["env_var"].values())


def test_install_without_arguments_or_version_file(omg_env: OmgEnv) -> None:
    empty = omg_env.root / "empty"
    empty.mkdir()
    proc = omg_env.run("install", cwd=empty)
    assert proc.returncode == 3 and proc.stderr.startswith("error: no version file"), proc.stderr


from tests.support import fixtures  # noqa: E402

node_mirror = fixtures.node_mirror  # a session fixture, used by name below


@pytest.mark.slow
@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_fresh_machine_hint_leads_to_working_install(
        omg_env: OmgEnv, node_mirror: fixtures.NodeMirror, shell: str) -> None:
    """Nothing installed: the hook's hint names `omg install`, which, typed in the shell,
    installs what the version file names from upstream (a local mirror here) and
    switches; a version file changed to a version not installed says so, and
    `omg install` again follows it."""
    old, new = node_mirror.versions[0], node_mirror.versions[-1]
    proj = omg_env.root / "clone"
    proj.mkdir()
    (proj / ".node-version").write_text(f"{old}\n")
    rc = rc_for(omg_env, shell)
    proc = typed(omg_env, shell, [
        f"source {rc}", f"cd {proj}", "omg install", "node --version",
        f"echo {new} > .node-version", "node --version", "omg install", "node --version",
        'echo "drift=$OMG_DRIFT"'],
        extra={**with_omg(omg_env), "OMG_NODE_MIRROR": node_mirror.url}, tty=shell == "fish")
    out = proc.stdout
    assert out.count("has no project profile; run: omg install") == 1 or \
        proc.stderr.count("has no project profile; run: omg install") == 1
    versions = [ln for ln in out.splitlines() if ln.startswith("v") and ln[1:2].isdigit()]
    assert versions == [f"v{old}", f"v{old}", f"v{new}"], (out, proc.stderr)
    assert f"wants node@{new} (not installed); run: omg install" in proc.stderr
    assert "drift=\n" in out.replace("\r", "")
