# omg for oh-my-zsh: put this directory in $ZSH_CUSTOM/plugins/omg (or link it there)
# and add `omg` to plugins=(...) in ~/.zshrc.
#
# It sources the lines `omg init zsh --static` keeps current (run that once; nothing
# else runs at start-up), and gives themes the active tools without a process per
# prompt: $OMG_PROMPT_INFO, updated before each prompt from the variables the omg hook
# maintains (OMG_TOOLS: "node@22.0.0 go@1.23.0"; OMG_DRIFT: what the project's version
# files ask for that is not installed). With `setopt prompt_subst` (oh-my-zsh sets it):
#
#   PROMPT='${OMG_PROMPT_INFO} '$PROMPT
#
# `$(omg_prompt_info)` works too, as oh-my-zsh's other *_prompt_info do, at the cost
# of the subshell zsh forks for it.

: ${ZSH_THEME_OMG_PROMPT_PREFIX="%{$fg[cyan]%}["}
: ${ZSH_THEME_OMG_PROMPT_SUFFIX="]%{$reset_color%}"}
: ${ZSH_THEME_OMG_PROMPT_DRIFT=" %{$fg[red]%}!= %{$reset_color%}"}

if [[ -z "${OMG_HOME-}" || -z "${functions[__omg_hook]-}" ]]; then
  __omg_static="${XDG_DATA_HOME:-$HOME/.local/share}/omg/init.zsh"
  [[ -r "$__omg_static" ]] && source "$__omg_static"
  unset __omg_static
fi

__omg_prompt_info() {
  OMG_PROMPT_INFO=
  [[ -n "${OMG_TOOLS-}${OMG_DRIFT-}" ]] || return 0
  OMG_PROMPT_INFO="$ZSH_THEME_OMG_PROMPT_PREFIX${OMG_TOOLS//@/ }"
  [[ -n "${OMG_DRIFT-}" ]] && OMG_PROMPT_INFO+="$ZSH_THEME_OMG_PROMPT_DRIFT${OMG_DRIFT}"
  OMG_PROMPT_INFO+="$ZSH_THEME_OMG_PROMPT_SUFFIX"
}

omg_prompt_info() {
  __omg_prompt_info
  print -rn -- "$OMG_PROMPT_INFO"
}

typeset -ga precmd_functions
# After omg's own hook (it may switch the project), so the info is current.
(( ${precmd_functions[(I)__omg_prompt_info]} )) || precmd_functions+=(__omg_prompt_info)
