# A powerlevel10k segment for omg: the active tools, and the version files' drift.
#
#   source /path/to/omg/shims/prompt/omg.p10k.zsh      # in ~/.zshrc, after p10k's config
#   typeset -g POWERLEVEL9K_RIGHT_PROMPT_ELEMENTS=(... omg ...)
#
# It reads the variables the omg hook maintains (`omg init zsh --static`): OMG_TOOLS
# ("node@22.0.0 go@1.23.0") and OMG_DRIFT (what the project's version files ask for
# that is not installed: the DRIFT state, in red, names it). No process per prompt.
# Colours: POWERLEVEL9K_OMG_FOREGROUND, POWERLEVEL9K_OMG_DRIFT_FOREGROUND, as for any
# segment; the icon: POWERLEVEL9K_OMG_VISUAL_IDENTIFIER_EXPANSION.

typeset -g POWERLEVEL9K_OMG_FOREGROUND=${POWERLEVEL9K_OMG_FOREGROUND:-37}
typeset -g POWERLEVEL9K_OMG_DRIFT_FOREGROUND=${POWERLEVEL9K_OMG_DRIFT_FOREGROUND:-196}

function prompt_omg() {
  if [[ -n "${OMG_DRIFT-}" ]]; then
    p10k segment -s DRIFT -i '!' -t "${OMG_TOOLS//@/ } != ${OMG_DRIFT}"
  elif [[ -n "${OMG_TOOLS-}" ]]; then
    p10k segment -i 'omg' -t "${OMG_TOOLS//@/ }"
  fi
}

# Instant prompt: the same text from the same variables (no I/O).
function instant_prompt_omg() {
  prompt_omg
}
