"""`omg init bash|zsh|fish`: the lines for a shell's rc file.

The PATH entry is ``profiles/<user>/<profile>/bin``: profile link -> generation
link -> env store path -> ``bin/`` -> links into the tools' store paths. A
switch swaps one symlink, so nothing on PATH is rewritten and running a tool
costs only the kernel following links: no shim process, no lookup.

Every path is computed when `omg init` runs and printed literally, so shell
start-up spawns no process (no ``$(omg ...)``); `omg init SHELL --static` keeps
them in a file its one rc line sources, rewritten by the first shell that sees
omg's own source files newer than it (`static_script`). The project hook runs on
each prompt (bash, and zsh's ``precmd``; zsh's ``chpwd`` and fish's ``PWD`` for a
cd, fish's ``fish_prompt`` event): when ``$PWD`` changed it walks up with
``[[ -e ]]`` tests only, mapping a directory to its project profile by pure string
substitution (see shims/project.py); in a project it compares the version files
with the project's stamp (``[[ -nt ]]``) and runs ``omg sync --if-installed`` only
when one is newer. Prefix variables the user set stay the user's (`OWNED_IF`);
the command-not-found hint is opt-in and chains to the handler defined before.
The hook also keeps OMG_TOOLS and OMG_DRIFT for prompts (shims/prompt/).

Environment variables a profile's tools need (JAVA_HOME, install prefixes)
are in the profile env's ``env.sh`` / ``env.fish`` (generations/env.py), which
the lines ``source`` at start-up through the profile link (no process), and
again, with the project profile's on top, only when the hook sees the project
change. Values name the profile's stable ``tools/<tool>`` link, so a switch
needs no re-source for them; the prefixes that are per ABI (npm's per node major,
GEM_HOME per ruby x.y.0) change with a switch, so the ``omg`` shell function reloads
the env files after a switch typed in this shell (a switch made in another shell
shows up in the next one, or at the next change of project profile), and their
``bin`` dirs follow the variables on PATH.

Venvs (docs/runtimes.md, "Venvs"): when the hook enters a project whose
profile has python and which holds a ``.venv`` (``pyvenv.cfg`` in it), it
sources the venv's own activate script, and calls its ``deactivate`` when it
leaves; never while another venv is active, never with ``OMG_VENV_ACTIVATE=0``.
That costs two or three ``[[ -e ]]`` tests, and only when the project changes.
The ``omg`` shell function evaluates what ``omg venv activate --shell SHELL``
prints (the venv's activate script: no subshell) and passes every other
command through (``command omg``).
"""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from generations.env import ENV_FISH, ENV_SH
from shims.project import stamps_dir
from shims.versionfiles import MARKERS
from store.errors import UsageError

SHELLS = ("bash", "zsh", "fish")
#: A project's venv, activated by the hook when the project pins python (docs/runtimes.md).
PROJECT_VENV = ".venv"

#: Executables omg knows, for the one-line "not in the current profile" hint.
KNOWN_EXECUTABLES: dict[str, tuple[str, ...]] = {
    "node": ("node", "npm", "npx", "corepack"),
    "bun": ("bun", "bunx"),
    "python": ("python", "python3", "pip", "pip3", "pydoc3", "idle3"),
    "go": ("go", "gofmt"),
    "rust": ("cargo", "rustc", "rustdoc", "rustfmt", "clippy-driver", "cargo-clippy"),
    "ruby": ("ruby", "gem", "irb", "bundle", "bundler", "rake", "erb"),
    "java": ("java", "javac", "jar", "jshell", "keytool", "javadoc"),
}


@dataclass(frozen=True)
class Prefixes:
    """Writable per-user prefixes, since the store is read-only."""

    base: Path

    def env(self) -> list[tuple[str, str]]:
        b = self.base
        return [
            ("NPM_CONFIG_PREFIX", str(b / "npm")),
            ("PYTHONUSERBASE", str(b / "python")),
            ("GEM_HOME", str(b / "gem")),
            ("GOPATH", str(b / "go")),
            ("GOBIN", str(b / "go" / "bin")),
            ("CARGO_HOME", str(b / "cargo")),
        ]

    def bins(self) -> list[str]:
        """The bin dirs that never move; those of `MOVING` follow their variable."""
        return [d for _, d in self.owned_bins()]

    def owned_bins(self) -> list[tuple[str, str]]:
        """Each fixed bin dir with the variable that must be omg's for it to go on PATH."""
        b = self.base
        return [("PYTHONUSERBASE", str(b / "python" / "bin")), ("GOBIN", str(b / "go" / "bin")),
                ("CARGO_HOME", str(b / "cargo" / "bin"))]


#: Prefix variables whose value a profile's env files set per ABI (npm's per node major,
#: GEM_HOME per ruby x.y.0: docs/runtimes.md); their `bin` dirs go on PATH, right after
#: the global profile's, each time the env files are loaded.
MOVING = ("NPM_CONFIG_PREFIX", "GEM_HOME")
#: What the hook watches in a project: its version files and its lock (omg.lockfile's
#: FILENAME), which a `git pull` moves on as well.
WATCHED = (*MARKERS, "omg.lock")
#: Commands after which the shell reloads the env files (a switch may move a prefix).
SWITCHES = ("use", "rollback", "uninstall", "sync", "install")
#: A prefix variable is omg's only if all these were unset (or omg's own) when the init
#: lines ran: a user's GOPATH keeps `go install` in its bin, so GOBIN stays unset too.
OWNED_IF = {"GOBIN": ("GOBIN", "GOPATH")}


def _posix_owners(prefixes: Prefixes) -> str:
    """`__omg_mine`: the prefix variables omg sets, " A B "; the user's values saved.

    A value under omg's prefix dir is omg's own (the lines sourced again, or a shell
    started from one of ours), so it does not count as the user's.
    """
    lines = ['__omg_mine=" "']
    for name, _ in prefixes.env():
        cond = " && ".join(f'[[ -z "${{{d}+x}}" || "${d}" == "$__omg_prefix"/* ]]'
                           for d in OWNED_IF.get(name, (name,)))
        lines.append(f'if {cond}; then __omg_mine="${{__omg_mine}}{name} "\n'
                     f'elif [[ -n "${{{name}+x}}" ]]; then __omg_u_{name}=${name}; fi')
    return "\n".join(lines)


def _fish_owners(prefixes: Prefixes) -> str:
    """`_posix_owners` for fish."""
    lines = ["set -g __omg_mine"]
    for name, _ in prefixes.env():
        cond = "; and ".join(f'begin; not set -q {d}; or string match -q -- '
                             f'"$__omg_prefix/*" "${d}"; end'
                             for d in OWNED_IF.get(name, (name,)))
        lines.append(f"if {cond}\n    set -ga __omg_mine {name}\n"
                     f"else if set -q {name}\n    set -g __omg_u_{name} ${name}\nend")
    return "\n".join(lines)


def _q(text: str) -> str:
    return shlex.quote(text)


def _case_arms(indent: str) -> str:
    arms = []
    for tool, exes in KNOWN_EXECUTABLES.items():
        arms.append(f"{indent}{'|'.join(exes)}) __omg_t={tool} ;;")
    return "\n".join(arms)


def _posix_env(shell: str, prefixes: Prefixes) -> str:
    """`__omg_envload [PROJECT_ENV]`: drop what the last load set, set the default
    prefixes, source global, then project; then the moving prefixes' bins on PATH."""
    names = "${=__omg_vars}" if shell == "zsh" else "$__omg_vars"
    bins = "${(s.:.)__omg_pbins}" if shell == "zsh" else "$__omg_pbins"
    mine = '[[ "$__omg_mine" == *" {} "* ]]'.format
    moving = [(k, v) for k, v in prefixes.env() if k in MOVING]
    defaults = "\n".join(f"  {mine(k)} && export {k}={_q(v)}" for k, v in moving)
    # The env files export the moving prefixes whoever set them: the user's come back.
    restore = "\n".join(f"  {mine(k)} || if [[ -n \"${{__omg_u_{k}+x}}\" ]]; then "
                         f"export {k}=$__omg_u_{k}; else unset {k}; fi" for k, _ in moving)
    # "$A/bin:$B/bin" of the variables set, without a loop (each step here costs).
    new = "\n".join(f"  {mine(name)} && "
                     f"__omg_new=$__omg_new${{{name}:+${{__omg_new:+:}}${name}/bin}}"
                     for name in MOVING)
    return f"""\
__omg_vars=
__omg_pbins=${{__omg_pbins-}}
[[ ":$PATH:" == *":$__omg_gbin:$__omg_pbins:"* ]] || __omg_pbins=
__omg_envload() {{
  local __omg_v
  for __omg_v in {names}; do unset "$__omg_v"; done
  __omg_vars=
{defaults}
  __omg_env=$__omg_global
  [[ -r "$__omg_env/{ENV_SH}" ]] && . "$__omg_env/{ENV_SH}"
  if [[ -n "${{1-}}" ]]; then
    __omg_env=$1
    [[ -r "$__omg_env/{ENV_SH}" ]] && . "$__omg_env/{ENV_SH}"
  fi
{restore}
  __omg_pathload
  __omg_toolsload "${{1-}}" "$__omg_global"
  return 0
}}
{_posix_tools(shell)}
__omg_pathload() {{
  local __omg_new=
{new}
  # PATH's pattern substitutions cost ~20 µs each: none when nothing moved.
  [[ "$__omg_new" == "$__omg_pbins" ]] && return 0
  local __omg_b IFS=:
  PATH=":$PATH:"
  for __omg_b in {bins}; do PATH=${{PATH//":$__omg_b:"/:}}; done
  if [[ -z "$__omg_new" ]]; then
    :
  elif [[ "$PATH" == *":$__omg_gbin:"* ]]; then
    PATH=${{PATH/":$__omg_gbin:"/":$__omg_gbin:$__omg_new:"}}
  else
    PATH=":$__omg_new$PATH"
  fi
  PATH=${{PATH#:}}; PATH=${{PATH%:}}
  __omg_pbins=$__omg_new
  export PATH
}}
"""


#: In a profile env's manifest.json (keys sorted, so "version" follows "tool").
_TOOL_RE = '"tool": "([^"]*)",[[:space:]]*"version": "([^"]*)"'


def _posix_tools(shell: str) -> str:
    """`__omg_toolsload ENV...`: OMG_TOOLS, "node@20.1.0 python@3.12.1", the tools of
    the envs given (the project's first: it wins) read from their manifests with
    builtins, for prompts (shims/prompt/); run only when the env files are loaded."""
    whole, one, two = (("$MATCH", "${match[1]}", "${match[2]}") if shell == "zsh" else
                       ("${BASH_REMATCH[0]}", "${BASH_REMATCH[1]}", "${BASH_REMATCH[2]}"))
    return f"""\
__omg_toolsload() {{
  local e m re={_q(_TOOL_RE)}
  OMG_TOOLS=
  for e in "$@"; do
    [[ -n "$e" && -r "$e/manifest.json" ]] || continue
    IFS= read -r -d '' m < "$e/manifest.json"
    while [[ $m =~ $re ]]; do
      [[ " $OMG_TOOLS" == *" {one}@"* ]] || OMG_TOOLS="$OMG_TOOLS${{OMG_TOOLS:+ }}{one}@{two}"
      m=${{m#*"{whole}"}}
    done
  done
  # Exported for prompts in other processes (starship); unset when empty.
  if [[ -n "$OMG_TOOLS" ]]; then export OMG_TOOLS; else unset OMG_TOOLS; fi
  if [[ -n "${{OMG_DRIFT-}}" ]]; then export OMG_DRIFT; else unset OMG_DRIFT; fi
}}"""


def _posix_venv(shell: str) -> str:
    """The project venv rule and `omg venv activate` (see the module docstring).

    `__omg_venvoff` runs before the hook edits PATH: ``deactivate`` restores the PATH
    saved when the venv was activated, which holds the old project's entry.
    """
    return f"""\
__omg_venv=
__omg_projdir=
__omg_venvoff() {{
  if [[ -n "$__omg_venv" ]]; then
    [[ "${{VIRTUAL_ENV-}}" == "$__omg_venv" ]] && deactivate
    __omg_venv=
  fi
  return 0
}}
__omg_venvon() {{
  [[ -n "$1" && -z "${{VIRTUAL_ENV-}}" && "${{OMG_VENV_ACTIVATE-}}" != 0 && -e "$2/python3" \
     && -e "$1/{PROJECT_VENV}/pyvenv.cfg" && -r "$1/{PROJECT_VENV}/bin/activate" ]] || return 0
  . "$1/{PROJECT_VENV}/bin/activate" && __omg_venv=${{VIRTUAL_ENV-}}
  return 0
}}
omg() {{
  if [[ "${{1-}}" == venv && "${{2-}}" == activate ]]; then
    shift 2
    local __omg_out
    __omg_out=$(command omg venv activate --shell {shell} "$@") || return
    eval "$__omg_out"
    return
  fi
  command omg "$@"
  local __omg_r=$? __omg_was=$__omg_proj __omg_c=
  # The command is the first word that is not a flag (as in: omg -q use ...).
  for __omg_c in "$@"; do [[ "$__omg_c" == -* ]] || break; done
  case "$__omg_c" in
    {"|".join(SWITCHES)})
      # The shell remembers where it found each command (node in /usr/bin before
      # the profile had one): forget, so the switched tools are found.
      hash -r
      # A switch may move the per-ABI prefixes: reload the env files if the hook
      # did not (it does when the project changed).
      __omg_pwd=; __omg_enter
      # use --local wrote the version files and the profile to match: no check due.
      if [[ $__omg_r == 0 && -n "$__omg_stamp" && "${{1-}}" == use ]] \\
         && [[ " $* " == *" --local "* || " $* " == *" -l "* ]]; then
        {{ : > "$__omg_stamp"; }} 2>/dev/null && OMG_DRIFT=
      fi
      __omg_watch
      __omg_readstamp  # omg install / sync rewrote it: no drift left, or another one
      [[ "$__omg_proj" == "$__omg_was" ]] && __omg_envload "${{__omg_proj%/bin}}" ;;
    venv)
      if [[ $__omg_r == 0 && ( "${{2-}}" == create || "${{2-}}" == remove ) ]]; then
        __omg_venvoff
        __omg_venvon "$__omg_projdir" "$__omg_proj"
      fi ;;
  esac
  return $__omg_r
}}"""


def _posix_not_found(shell: str) -> str:
    """The opt-in command-not-found hint, chained to the handler already defined (a
    distribution's, pkgfile's), which then prints the shell's message its own way."""
    if shell == "bash":
        name, msg = "command_not_found_handle", 'printf "bash: %s: command not found\\n" "$1" >&2'
        # bash cannot rename a function: copy its text (one fork, at start-up only
        # when a handler exists and the user opted in).
        keep = f"""\
if declare -F {name} >/dev/null && ! declare -F __omg_cnf_prev >/dev/null; then
  __omg_d=$(declare -f {name})
  [[ "$__omg_d" == *__omg_t=* ]] || eval "${{__omg_d/{name}/__omg_cnf_prev}}"
  unset __omg_d
fi"""
        has = "declare -F __omg_cnf_prev >/dev/null"
    else:
        name, msg = "command_not_found_handler", 'printf "zsh: command not found: %s\\n" "$1" >&2'
        keep = f"""\
if (( $+functions[{name}] && ! $+functions[__omg_cnf_prev] )) \\
   && [[ "$functions[{name}]" != *__omg_t=* ]]; then
  functions[__omg_cnf_prev]=$functions[{name}]
fi"""
        has = "(( $+functions[__omg_cnf_prev] ))"
    return f"""\
{keep}
{name}() {{
  local __omg_t= __omg_r=127
  case "$1" in
{_case_arms("    ")}
  esac
  if {has}; then
    __omg_cnf_prev "$@"; __omg_r=$?
  else
    {msg}
  fi
  if [[ -n "$__omg_t" ]]; then
    printf 'omg: %s is not in the current profile; try: omg use %s@VERSION\\n' "$1" "$__omg_t" >&2
  fi
  return $__omg_r
}}
"""


def _posix(shell: str, home: Path, global_bin: Path, projects: Path,
           prefixes: Prefixes, not_found: bool, stamps: Path) -> str:
    markers = " || ".join(f'-e "$d/{m}"' for m in MARKERS)
    # VARIABLE:DIR, prepended in reverse so the global profile ends up first, then the
    # prefixes omg owns (a user's CARGO_HOME brings its own bin dir).
    path_dirs = " ".join(_q(f"{k}:{d}") for k, d in
                         reversed([("", str(global_bin)), *prefixes.owned_bins()]))
    fixed = "\n".join(f'[[ "$__omg_mine" == *" {k} "* ]] && export {k}={_q(v)}'
                      for k, v in prefixes.env() if k not in MOVING)
    if shell == "bash":
        install = ('case ";${PROMPT_COMMAND:-};" in *";__omg_hook;"*) ;; '
                   '*) PROMPT_COMMAND="__omg_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}" ;; esac')
    else:
        # chpwd: a `cd` switches at once; precmd: a changed version file, per prompt.
        install = ("typeset -ga chpwd_functions precmd_functions\n"
                   "(( ${chpwd_functions[(I)__omg_hook]} )) || chpwd_functions+=(__omg_hook)\n"
                   "(( ${precmd_functions[(I)__omg_hook]} )) || precmd_functions+=(__omg_hook)")
    return f"""\
# omg shell integration ({shell}); paths fixed by `omg init {shell}`, no process at start-up.
export OMG_HOME={_q(str(home))}
__omg_global={_q(str(global_bin.parent))}
__omg_gbin={_q(str(global_bin))}
__omg_prefix={_q(str(prefixes.base))}
{_posix_owners(prefixes)}
{fixed}
for __omg_d in {path_dirs}; do
  [[ -z "${{__omg_d%%:*}}" || "$__omg_mine" == *" ${{__omg_d%%:*}} "* ]] || continue
  __omg_d=${{__omg_d#*:}}
  case ":$PATH:" in *":$__omg_d:"*) ;; *) PATH="$__omg_d${{PATH:+:$PATH}}" ;; esac
done
unset __omg_d
export PATH
{_posix_env(shell, prefixes)}
{_posix_venv(shell)}
__omg_projects={_q(str(projects))}
__omg_stamps={_q(str(stamps))}
__omg_pwd=
__omg_proj=
__omg_hinted=
__omg_stamp=
__omg_vf=()
__omg_hook() {{
  [[ "$PWD" == "$__omg_pwd" ]] || __omg_enter
  [[ -z "$__omg_stamp" ]] || __omg_watch
  return 0
}}
__omg_enter() {{
  __omg_pwd=$PWD
  local d=$PWD p= m= f
  while :; do
    if [[ -e "$__omg_projects/${{d//\\//%}}/bin" ]]; then
      p="$__omg_projects/${{d//\\//%}}/bin"; break
    fi
    if [[ -z "$m" ]] && [[ {markers} ]]; then m=$d; fi
    [[ "$d" == / || -z "$d" ]] && break
    d=${{d%/*}}; [[ -z "$d" ]] && d=/
  done
  if [[ "$p" != "$__omg_proj" ]]; then
    __omg_venvoff
    if [[ -n "$__omg_proj" ]]; then
      PATH=":$PATH:"; PATH=${{PATH//":$__omg_proj:"/:}}; PATH=${{PATH#:}}; PATH=${{PATH%:}}
    fi
    [[ -n "$p" ]] && PATH="$p:$PATH"
    __omg_proj=$p
    export PATH
    __omg_projdir= __omg_stamp= OMG_DRIFT=
    __omg_vf=()
    if [[ -n "$p" ]]; then
      __omg_projdir=$d
      # What the hook watches: the directory (a version file added or removed) and
      # the version files in it (edited in place).
      __omg_stamp="$__omg_stamps/${{d//\\//%}}"
      __omg_vf=("$d")
      for f in {" ".join(WATCHED)}; do [[ -e "$d/$f" ]] && __omg_vf+=("$d/$f"); done
      __omg_readstamp
    fi
    __omg_envload "${{p%/bin}}"
    __omg_venvon "$__omg_projdir" "$p"
  fi
  if [[ -z "$p" && -n "$m" && "$m" != "$__omg_hinted" ]]; then
    __omg_hinted=$m
    printf 'omg: %s pins tool versions but has no project profile; run: omg install\\n' "$m" >&2
  fi
  return 0
}}
__omg_watch() {{
  local f
  # No project, nothing to check (the omg function calls this after every switch).
  [[ -n "$__omg_stamp" ]] || return 0
  # (zsh's -nt is false when the stamp is missing: no loop then, ask omg.)
  if [[ -e "$__omg_stamp" ]]; then
    for f in "${{__omg_vf[@]}}"; do [[ "$f" -nt "$__omg_stamp" ]] && break; f=; done
    [[ -n "$f" ]] || return 0
  fi
  # A version file changed since the profile was made: omg switches if the store
  # has the versions, else says which command installs them (exit status 3).
  command omg sync --if-installed "$__omg_projdir"
  case $? in
    0|3) ;;
    *) __omg_stamp=; return 0 ;;  # omg failed: stop asking until the next project
  esac
  hash -r  # a tool the profile gained may have been found elsewhere before
  __omg_readstamp
  __omg_envload "${{__omg_proj%/bin}}"
  return 0
}}
__omg_readstamp() {{
  OMG_DRIFT=
  [[ -n "$__omg_stamp" && -s "$__omg_stamp" ]] && IFS= read -r OMG_DRIFT < "$__omg_stamp"
  return 0
}}
{_posix_not_found(shell) if not_found else ''}
{install}
__omg_envload
__omg_hook
"""


def _fish_venv() -> str:
    """`_posix_venv` for fish."""
    return f"""\
set -g __omg_venv ''
set -g __omg_projdir ''
function __omg_venvoff
    if test -n "$__omg_venv"
        if test "$VIRTUAL_ENV" = "$__omg_venv"; and functions -q deactivate
            deactivate
        end
        set -g __omg_venv ''
    end
end
function __omg_venvon
    test -n "$argv[1]" -a -z "$VIRTUAL_ENV" -a "$OMG_VENV_ACTIVATE" != 0; or return 0
    test -e "$argv[2]/python3" -a -e "$argv[1]/{PROJECT_VENV}/pyvenv.cfg"; or return 0
    test -r "$argv[1]/{PROJECT_VENV}/bin/activate.fish"; or return 0
    source "$argv[1]/{PROJECT_VENV}/bin/activate.fish"; and set -g __omg_venv $VIRTUAL_ENV
end
function omg --wraps omg
    if test "$argv[1]" = venv; and test "$argv[2]" = activate
        set -l out (command omg venv activate --shell fish $argv[3..-1]); or return
        string join \\n -- $out | source
        return
    end
    command omg $argv
    set -l r $status
    # The command is the first word that is not a flag (as in: omg -q use ...).
    set -l c ''
    for c in $argv
        string match -q -- '-*' $c; or break
    end
    if contains -- "$c" {" ".join(SWITCHES)}
        set -l was $__omg_proj
        __omg_hook
        # use --local wrote the version files and the profile to match: no check due.
        if test $r = 0 -a -n "$__omg_stamp" -a "$argv[1]" = use
            and begin; contains -- --local $argv; or contains -- -l $argv; end
            true > "$__omg_stamp" 2>/dev/null; and set -e OMG_DRIFT
        end
        __omg_watch
        __omg_readstamp  # omg install / sync rewrote it: no drift left, or another one
        if test "$__omg_proj" = "$was"
            if test -n "$__omg_proj"
                __omg_envload (string replace -r '/bin$' '' -- $__omg_proj)
            else
                __omg_envload
            end
        end
    else if test $r = 0 -a "$argv[1]" = venv; and contains -- "$argv[2]" create remove
        __omg_venvoff
        __omg_venvon "$__omg_projdir" "$__omg_proj"
    end
    return $r
end"""


def _fish_not_found() -> str:
    """`_posix_not_found` for fish: `functions -q` autoloads fish's own handler (which
    picks the distribution's), kept as `__omg_cnf_prev`."""
    arms = "\n".join(f"        case {' '.join(exes)}\n            set t {tool}"
                     for tool, exes in KNOWN_EXECUTABLES.items())
    return f"""\
if functions -q fish_command_not_found; and not functions -q __omg_cnf_prev
    and not string match -q '*__omg_cnf*' -- (functions fish_command_not_found)
    functions -c fish_command_not_found __omg_cnf_prev
end
function fish_command_not_found
    set -l t ''
    switch $argv[1]
{arms}
    end
    if functions -q __omg_cnf_prev
        __omg_cnf_prev $argv
    else
        printf 'fish: Unknown command: %s\\n' (string escape -- $argv[1]) >&2
    end
    test -n "$t"; and printf 'omg: %s is not in the current profile; try: omg use %s@VERSION\\n' \\
        $argv[1] $t >&2
end
"""


def _fish(home: Path, global_bin: Path, projects: Path, prefixes: Prefixes,
          not_found: bool, stamps: Path) -> str:
    moving = [(k, v) for k, v in prefixes.env() if k in MOVING]
    defaults = "\n".join(f"    contains {k} $__omg_mine; and set -gx {k} {_q(v)}"
                         for k, v in moving)
    restore = "\n".join(f"    contains {k} $__omg_mine; or if set -q __omg_u_{k}\n"
                        f"        set -gx {k} $__omg_u_{k}\n    else\n        set -e {k}\n    end"
                        for k, _ in moving)
    fixed = "\n".join(f"contains {k} $__omg_mine; and set -gx {k} {_q(v)}"
                      for k, v in prefixes.env() if k not in MOVING)
    path_dirs = " ".join(_q(f"{k}:{d}") for k, d in
                         reversed([("", str(global_bin)), *prefixes.owned_bins()]))
    markers = " ".join(MARKERS)
    return f"""\
# omg shell integration (fish); paths fixed by `omg init fish`, no process at start-up.
set -gx OMG_HOME {_q(str(home))}
set -g __omg_global {_q(str(global_bin.parent))}
set -g __omg_prefix {_q(str(prefixes.base))}
set -g __omg_gbin {_q(str(global_bin))}
{_fish_owners(prefixes)}
{fixed}
for __omg_d in {path_dirs}
    set -l v (string split -m1 : -- $__omg_d)
    test -z "$v[1]"; or contains -- $v[1] $__omg_mine; or continue
    contains -- $v[2] $PATH; or set -gx PATH $v[2] $PATH
end
set -e __omg_d
set -g __omg_vars
set -q __omg_pbins; or set -g __omg_pbins
for __omg_d in $__omg_pbins
    contains -- $__omg_d $PATH; or set -g __omg_pbins
end
set -e __omg_d
function __omg_envload
    for v in $__omg_vars
        set -e $v
    end
    set -g __omg_vars
{defaults}
    set -g __omg_env $__omg_global
    test -r "$__omg_env/{ENV_FISH}"; and source "$__omg_env/{ENV_FISH}"
    if set -q argv[1]
        set -g __omg_env $argv[1]
        test -r "$__omg_env/{ENV_FISH}"; and source "$__omg_env/{ENV_FISH}"
    end
{restore}
    __omg_pathload
    __omg_toolsload $argv[1] $__omg_global
end
function __omg_toolsload
    set -gx OMG_TOOLS
    for e in $argv
        test -r "$e/manifest.json"; or continue
        set -l g (string match -r -a -g -- {_q(_TOOL_RE)} (string collect < "$e/manifest.json"))
        while set -q g[2]
            # (no list: `string match` would read stdin)
            if not set -q OMG_TOOLS[1]; or not string match -q -- "$g[1]@*" $OMG_TOOLS
                set -ga OMG_TOOLS "$g[1]@$g[2]"
            end
            set -e g[1..2]
        end
    end
    # Exported for prompts in other processes (starship); unset when empty.
    if set -q OMG_TOOLS[1]
        set -gx OMG_TOOLS "$OMG_TOOLS"
    else
        set -e OMG_TOOLS
    end
    test -n "$OMG_DRIFT"; or set -e OMG_DRIFT
end
function __omg_pathload
    set -l new
    for v in {" ".join(MOVING)}
        contains $v $__omg_mine; and set -q $v; and test -n "$$v"; and set -a new "$$v/bin"
    end
    test "$new" = "$__omg_pbins"; and return
    set -l path
    set -l placed 0
    for d in $PATH
        contains -- $d $__omg_pbins $new; and continue
        set -a path $d
        if test $placed = 0 -a "$d" = "$__omg_gbin"
            set -a path $new
            set placed 1
        end
    end
    test $placed = 0; and set path $new $path
    set -gx PATH $path
    set -g __omg_pbins $new
end
{_fish_venv()}
set -g __omg_projects {_q(str(projects))}
set -g __omg_stamps {_q(str(stamps))}
set -g __omg_stamp ''
set -g __omg_vf
set -g __omg_proj ''
set -g __omg_hinted ''
function __omg_hook --on-variable PWD
    set -l d $PWD
    set -l p ''
    set -l m ''
    while true
        set -l n (string replace -a / % -- $d)
        if test -e "$__omg_projects/$n/bin"
            set p "$__omg_projects/$n/bin"
            break
        end
        if test -z "$m"
            for f in {markers}
                if test -e "$d/$f"
                    set m $d
                    break
                end
            end
        end
        test "$d" = /; and break
        set d (string replace -r '/[^/]*$' '' -- $d)
        test -z "$d"; and set d /
    end
    if test "$p" != "$__omg_proj"
        __omg_venvoff
        if test -n "$__omg_proj"
            set -l i (contains -i -- $__omg_proj $PATH); and set -e PATH[$i]
        end
        test -n "$p"; and set -gx PATH $p $PATH
        set -g __omg_proj $p
        set -g __omg_projdir ''
        set -g __omg_stamp ''
        set -g __omg_vf
        set -e OMG_DRIFT
        if test -n "$p"
            set -g __omg_projdir $d
            set -g __omg_stamp "$__omg_stamps/"(string replace -a / % -- $d)
            set -g __omg_vf $d
            for f in {" ".join(WATCHED)}
                test -e "$d/$f"; and set -ga __omg_vf "$d/$f"
            end
            __omg_readstamp
            __omg_envload (string replace -r '/bin$' '' -- $p)
        else
            __omg_envload
        end
        __omg_venvon "$__omg_projdir" "$p"
    end
    if test -z "$p" -a -n "$m" -a "$m" != "$__omg_hinted"
        set -g __omg_hinted $m
        printf 'omg: %s pins tool versions but has no project profile; run: omg install\\n' $m >&2
    end
end
function __omg_readstamp
    set -e OMG_DRIFT
    test -n "$__omg_stamp" -a -s "$__omg_stamp"; or return 0
    read -l line < "$__omg_stamp"; and set -gx OMG_DRIFT $line
    return 0
end
function __omg_watch --on-event fish_prompt
    test -n "$__omg_stamp"; or return 0
    if test -e "$__omg_stamp"
        set -l changed
        for f in $__omg_vf
            test "$f" -nt "$__omg_stamp"; and set changed 1; and break
        end
        test -n "$changed"; or return 0
    end
    command omg sync --if-installed "$__omg_projdir"
    if not contains -- $status 0 3
        set -g __omg_stamp ''
        return 0
    end
    __omg_readstamp
    __omg_envload (string replace -r '/bin$' '' -- $__omg_proj)
end
{_fish_not_found() if not_found else ''}
__omg_envload
__omg_hook
"""


def init_script(shell: str, *, home: Path, global_bin: Path, projects: Path,
                data_home: Path, not_found: bool = False) -> str:
    """The rc-file lines for `shell`, with every path literal; `not_found` adds the
    command-not-found hint (opt-in: it takes over the shell's handler, chained)."""
    prefixes = Prefixes(data_home / "omg" / "prefix")
    stamps = stamps_dir(data_home)
    for p in (home, global_bin, projects, prefixes.base, stamps):
        if ":" in str(p) or "\n" in str(p):
            raise UsageError(f"{p} cannot go on PATH (it holds ':' or a newline)")
    if shell in ("bash", "zsh"):
        return _posix(shell, home, global_bin, projects, prefixes, not_found, stamps)
    if shell == "fish":
        return _fish(home, global_bin, projects, prefixes, not_found, stamps)
    raise UsageError(f"unknown shell {shell!r}: use one of {', '.join(SHELLS)}")


#: The source files whose text makes the init lines: a static file older than one of
#: them is rewritten by the next shell that starts (omg was upgraded).
def snippet_sources() -> list[str]:
    import generations.env
    import shims.completion
    import shims.versionfiles

    return [os.path.abspath(m.__file__ or "") for m in
            (sys.modules[__name__], shims.completion, shims.versionfiles, generations.env)]


def static_file(data_home: Path, shell: str) -> Path:
    """Where `omg init SHELL --static` keeps the lines its rc line sources."""
    return data_home / "omg" / f"init.{shell}"


def static_line(shell: str, path: Path) -> str:
    """The one rc line: source the static file if it is there (no process)."""
    if shell == "fish":
        return f"test -r {_q(str(path))}; and source {_q(str(path))}\n"
    return f"[ -r {_q(str(path))} ] && . {_q(str(path))}\n"


def static_script(shell: str, lines: str, path: Path, refresh: list[str],
                  refresh_env: dict[str, str]) -> str:
    """`lines` behind a guard that costs a few stat(2)s: when omg's source files are
    newer than this file, `refresh` (omg init --static, same options) rewrites it, and
    the new file is sourced instead (once: `__omg_refreshing` stops a loop when a
    clock is skewed). `refresh_env`: the variables the lines were made with."""
    me = _q(str(path))
    cmd = " ".join([*(f"{k}={_q(v)}" for k, v in refresh_env.items()),
                    *(_q(a) for a in refresh)])
    if shell == "fish":
        newer = "; or ".join(f"test {_q(s)} -nt {me}" for s in snippet_sources())
        guard = f"""\
if not set -q __omg_refreshing; and begin; {newer}; end
    set -g __omg_refreshing 1
    if {cmd} >/dev/null 2>&1
        source {me}
        set -e __omg_refreshing
        return
    end
    set -e __omg_refreshing
end
"""
    else:
        newer = " || ".join(f"{_q(s)} -nt {me}" for s in snippet_sources())
        guard = f"""\
if [[ -z "${{__omg_refreshing-}}" ]] && [[ {newer} ]]; then
  __omg_refreshing=1
  if {cmd} >/dev/null 2>&1; then
    . {me}
    unset __omg_refreshing
    return 0
  fi
  unset __omg_refreshing
fi
"""
    return (f"# Written by `{' '.join(refresh[2:])}`; your rc file sources it.\n"
            f"# omg rewrites it when its shell lines change: edit your rc file, not this.\n"
            f"{guard}{lines}")


def write_static(path: Path, text: str) -> None:
    """Replace the static file in one rename(2): a shell starting meanwhile sources
    the old or the new lines, never half of them."""
    from store.fsutil import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text.encode(), 0o644, durable=False)
