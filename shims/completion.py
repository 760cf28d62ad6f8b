"""The shell side of completion: one function per shell that asks
``omg __complete SHELL WORD...`` (omg/completion.py) on each TAB.

Each script shows the candidates' descriptions where the shell can (zsh, fish),
falls back to the shell's file completion when omg answers with exit status 4,
and leaves no space after ``TOOL@`` so the version follows.
"""

from __future__ import annotations

#: omg's exit status for "complete file names" (omg.completion.FILES).
FILES = 4

_BASH = r"""
_omg_complete() {
  # readline splits words at COMP_WORDBREAKS ('@', '=', ':'), so COMP_WORDS holds
  # `node @ 22`: split the line up to the cursor at blanks as omg does, and hand
  # back only the part readline replaces: what follows the last break character,
  # with the character itself when it is '@' or '$' (bash's rl_special_prefixes).
  local line=${COMP_LINE:0:COMP_POINT} out rc cand cur keep
  local -a words
  read -ra words <<< "$line"
  [[ ${#words[@]} -le 1 || $line == *[[:blank:]] ]] && words+=("")
  cur=${words[${#words[@]}-1]}
  keep=${cur%"${cur##*["$COMP_WORDBREAKS"]}"}
  [[ $keep == *[@\$] ]] && keep=${keep%?}
  out=$(@OMG@ __complete bash "${words[@]:1}" 2>/dev/null); rc=$?
  COMPREPLY=()
  if [[ $rc -eq @FILES@ ]]; then
    compopt -o default 2>/dev/null
    return 0
  fi
  [[ $rc -eq 0 && -n $out ]] || return 0
  while IFS= read -r cand; do
    cand=${cand%%$'\t'*}
    [[ $cand == "$keep"* ]] && COMPREPLY+=("${cand#"$keep"}")
  done <<< "$out"
  if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *@ ]]; then
    compopt -o nospace 2>/dev/null
  fi
  return 0
}
complete -F _omg_complete omg
"""

_ZSH = r"""
_omg_complete() {
  local out rc line
  local -a vals descs
  out=$(@OMG@ __complete zsh "${(@)words[2,CURRENT]}" 2>/dev/null); rc=$?
  if (( rc == @FILES@ )); then
    _files
    return
  fi
  (( rc == 0 )) && [[ -n $out ]] || return 1
  for line in "${(@f)out}"; do
    vals+=("${line%%$'\t'*}")
    if [[ $line == *$'\t'* ]]; then
      descs+=("${line%%$'\t'*}  -- ${line#*$'\t'}")
    else
      descs+=("${line}")
    fi
  done
  if (( ${#vals} == 1 )) && [[ ${vals[1]} == *@ ]]; then
    compadd -U -S '' -Q -- "${vals[@]}"
  else
    compadd -U -l -Q -d descs -- "${vals[@]}"
  fi
}
# compinit (oh-my-zsh, prezto and most rc files run it) defines compdef; without it
# zsh has no completion system to register with, and starting one here would cost
# every shell tens of milliseconds. An rc file may run it after these lines: then
# the first prompt registers (once; one test, then the function is gone).
if (( $+functions[compdef] )); then
  compdef _omg_complete omg
else
  __omg_compdef() {
    precmd_functions=(${precmd_functions:#__omg_compdef})
    unfunction __omg_compdef
    (( $+functions[compdef] )) && compdef _omg_complete omg
    return 0
  }
  typeset -ga precmd_functions
  precmd_functions+=(__omg_compdef)
fi
"""

_FISH = r"""
function __omg_complete
    set -l words (commandline -opc) (commandline -ct)
    set -e words[1]
    set -l out (@OMG@ __complete fish $words 2>/dev/null)
    set -l rc $status
    if test $rc -eq @FILES@
        __fish_complete_path (commandline -ct)
        return
    end
    test $rc -eq 0; and printf '%s\n' $out
end
complete -c omg -f -k -a '(__omg_complete)'
"""

SCRIPTS = {"bash": _BASH, "zsh": _ZSH, "fish": _FISH}


def completion_script(shell: str) -> str:
    """The completion lines for `shell`."""
    from store.errors import UsageError

    if shell not in SCRIPTS:
        raise UsageError(f"no completion for shell {shell!r}", hint="use bash, zsh or fish")
    return SCRIPTS[shell].replace("@OMG@", "command omg").replace(
        "@FILES@", str(FILES)).lstrip("\n")
