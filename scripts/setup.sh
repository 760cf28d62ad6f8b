#!/usr/bin/env bash
# Set up everything omg's demo and tests need, on Debian 12 (apt) or Arch (pacman):
# system packages (with sudo when not root), /var/lib/pacman/local, and a venv at
# ./.venv with omg installed editable plus the [test,arch] extras.
#
# Idempotent and quick when nothing is missing: apt-get update only runs when a package
# has to be installed, and pip only runs when pyproject.toml changed since the last
# successful install (a stamp inside .venv records it) or the venv's omg is another
# checkout's.
#
# Environment: OMG_SETUP_PYTHON  interpreter to build the venv from (default: the
#                                distro's /usr/bin/python3)
#              OMG_SETUP_FORCE=1 reinstall the Python packages even if the stamp matches
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}"
export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$CACHE/pip}"
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# Root for package installs only, and only when something is missing: as root directly,
# otherwise through sudo (-n when there is no terminal, as in CI, so it never hangs).
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        if [ -t 0 ]; then sudo "$@"; else sudo -n "$@"; fi
    else
        die "need root for: $*; run as root or install sudo"
    fi
}

# -- system packages ---------------------------------------------------------------------
DEB_PKGS=(
    python3 python3-venv python3-dev gcc git curl ca-certificates xz-utils zstd
    libarchive-tools zsh fish  # zsh and fish: the shell-integration tests run them
    patchelf  # tests/support/realbin.py: a relocatable CPython for the real-binary tests
    # the Arch toolchain (docs: REAL-COMPONENTS.md): libalpm for pyalpm, makepkg, repo-add
    libalpm-dev pacman-package-manager makepkg libarchive-dev libcurl4-openssl-dev
    libgpgme-dev pkg-config fakeroot debugedit
    # the real-Ruby test builds CRuby from Debian's source (tests/support/realruby.py)
    make libssl-dev libyaml-dev libffi-dev zlib1g-dev
    # gpgv checks upstream signatures (omg.signatures); gnupg makes the tests' keys
    gpgv gnupg
    bubblewrap  # makepkg runs in bwrap (omg/arch/build.py, docs/arch.md "Sandboxed builds")
    nginx  # a static HTTP binary cache in the tests (tests/cache)
)
ARCH_PKGS=(
    python gcc git curl ca-certificates xz zstd libarchive pacman
    pkgconf gpgme fakeroot debugedit make zsh fish patchelf
    gnupg  # gpgv (upstream signatures) and gpg (the tests' keys)
    bubblewrap  # makepkg runs in bwrap (omg/arch/build.py)
    nginx  # a static HTTP binary cache in the tests (tests/cache)
)

install_apt() {
    local missing=() p
    for p in "${DEB_PKGS[@]}"; do
        if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
            missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing with apt: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

install_pacman() {
    local missing=() p
    for p in "${ARCH_PKGS[@]}"; do
        pacman -Q "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing with pacman: ${missing[*]}"
    as_root pacman -Sy --needed --noconfirm "${missing[@]}"
}

if command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; then
    install_apt
elif command -v pacman >/dev/null 2>&1; then
    install_pacman
else
    die "neither apt-get nor pacman found: omg's setup supports Debian 12 and Arch Linux"
fi

# makepkg warns it cannot initialise alpm while writing .BUILDINFO without this.
[ -d /var/lib/pacman/local ] || as_root mkdir -p /var/lib/pacman/local

# -- the venv ----------------------------------------------------------------------------
PY="${OMG_SETUP_PYTHON:-}"
if [ -z "$PY" ]; then
    if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY="$(command -v python3)"; fi
fi

venv_ok() {
    [ -x "$VENV/bin/python" ] &&
        "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}
if ! venv_ok; then
    "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
        die "$PY is $("$PY" --version 2>&1); omg needs Python >= 3.11"
    say "creating $VENV with $("$PY" --version 2>&1)"
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip setuptools wheel
fi

STAMP="$VENV/.omg-setup-stamp"
want="$( { cat "$REPO/pyproject.toml"; "$VENV/bin/python" -VV; echo compat; } | sha256sum | cut -d' ' -f1)"
have="$(cat "$STAMP" 2>/dev/null || true)"
# The venv's omg must be this checkout's: a venv another checkout installed into (a
# worktree sharing it, a copied directory) would test that checkout's code.
if [ "${OMG_SETUP_FORCE:-0}" = 1 ] || [ "$want" != "$have" ] ||
        ! "$VENV/bin/python" -c 'import os, sys, omg, pytest, pyalpm
sys.exit(os.path.dirname(os.path.dirname(os.path.realpath(omg.__file__)))
         != os.path.realpath(sys.argv[1]))' "$REPO" 2>/dev/null; then
    say "installing omg (editable) with [test,arch] into $VENV"
    # compat mode: a plain path in a .pth file. The default editable mode installs an
    # import hook that every Python process in the venv pays for at start-up (about
    # 10 ms here, more than omg's whole `use`), which users' pipx/uv installs never do;
    # benchmarks must see what users see.
    "$VENV/bin/python" -m pip install -q -e "$REPO[test,arch]" \
        --config-settings editable_mode=compat
    printf '%s\n' "$want" >"$STAMP"
fi
say "ready: $VENV ($("$VENV/bin/python" --version 2>&1))"
