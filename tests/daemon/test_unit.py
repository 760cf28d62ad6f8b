"""docs/contrib/omgd.service: hardened (systemd's own rating) without losing what omgd needs.

The rating comes from the real `systemd-analyze security --offline=true`; what omgd
needs (docs/shared-store.md, "Hardening omgd.service") is read from the unit itself.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[2] / "docs" / "contrib" / "omgd.service"


def unit_settings() -> dict[str, list[str]]:
    """Each `Key=` of [Service] with its values, in order (a key may repeat)."""
    out: dict[str, list[str]] = {}
    section = ""
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed")
def test_systemd_rates_the_unit_below_5() -> None:
    proc = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager",
                           str(UNIT)], capture_output=True, text=True, timeout=60)
    found = re.search(r"Overall exposure level for omgd\.service: (\d+\.\d+)", proc.stdout)
    assert found, proc.stdout + proc.stderr
    assert float(found.group(1)) < 5.0, proc.stdout


def test_the_unit_keeps_what_omgd_needs() -> None:
    s = unit_settings()
    # root, able to chown and write the store and per-user directories
    assert "User" not in s and "DynamicUser" not in s
    caps = set(" ".join(s["CapabilityBoundingSet"]).split())
    assert {"CAP_CHOWN", "CAP_FOWNER", "CAP_DAC_OVERRIDE"} <= caps
    assert "/var/lib/omg" in s["ReadWritePaths"] and s["StateDirectory"] == ["omg"]
    # SO_PEERCRED sees real uids, the socket and downloads work, peers' /proc is visible
    assert "PrivateUsers" not in s and "PrivateNetwork" not in s and "IPAddressDeny" not in s
    families = set(" ".join(s["RestrictAddressFamilies"]).split())
    assert {"AF_UNIX", "AF_INET", "AF_INET6"} <= families
    assert s.get("ProtectProc", ["default"]) == ["default"]
    denied = " ".join(v for v in s.get("SystemCallFilter", []) if v.startswith("~"))
    assert "@chown" not in denied and "@privileged" not in denied  # chown stays allowed
