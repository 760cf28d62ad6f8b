"""`[policy] aur = "deny"`: an AUR build is refused before anything is fetched or built."""

from __future__ import annotations

import pytest

from omg.arch.install import build_aur
from store.errors import PolicyDenied
from tests.conftest import OmgEnv


def test_aur_deny_refuses_before_any_download(omg_env: OmgEnv,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    config = omg_env.root / "config" / "omg"
    config.mkdir(parents=True)
    (config / "config.toml").write_text('[policy]\naur = "deny"\n')
    # Nothing listens there: a request would be a NetworkError, not the policy's refusal.
    monkeypatch.setenv("OMG_AUR_URL", "http://127.0.0.1:9")
    settings = omg_env.settings()
    with pytest.raises(PolicyDenied) as info:
        build_aur(settings, ["yay", "paru"], noconfirm=True)
    assert info.value.exit_code == 11
    assert info.value.message == ("policy aur = deny: AUR builds are not allowed "
                                  "(aur/yay, aur/paru)")
    assert not (omg_env.home / "store").exists() or not list((omg_env.home / "store").iterdir())
