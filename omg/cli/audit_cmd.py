"""`omg audit`: vulnerabilities, end of life and unverified signatures of what is
installed (`omg.audit.run`); its exit status says whether any reaches --fail-on."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

from omg.cli.output import backend, print_json

if TYPE_CHECKING:
    from omg.audit.run import AuditReport

FailOnOpt = Annotated[str, typer.Option(
    "--fail-on", metavar="SEVERITY",
    help="Exit 1 when a finding is at least this severe: unknown, low, medium, high "
         "(default) or critical.")]


def register(app: typer.Typer) -> None:
    @app.command("audit")
    def audit_cmd(
        json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
        = False,
        fail_on: FailOnOpt = "high",
        offline: Annotated[bool, typer.Option(
            "--offline", help="Use only the feeds already cached; never the network.")]
        = False,
        refresh: Annotated[bool, typer.Option(
            "--refresh", help="Ask every feed again, however fresh its cached copy.")]
        = False,
    ) -> None:
        """Known vulnerabilities, end-of-life lines and unverified signatures of the
        installed runtimes and packages."""
        from omg.audit.finding import SEVERITIES
        from omg.audit.run import FINDINGS_EXIT
        from store.errors import UsageError

        level = fail_on.strip().lower()
        if level not in SEVERITIES:
            raise UsageError(f"--fail-on {fail_on}: not a severity",
                             hint=f"one of {', '.join(SEVERITIES)}")
        with backend() as b:
            report = b.audit(offline=offline, refresh=refresh)
        for line in report.warnings:
            typer.echo(f"warning: {line}", err=True)
        for line in report.notes:
            typer.echo(f"note: {line}", err=True)
        if json_out:
            print_json(as_json(report, level))
        else:
            for line in lines(report):
                typer.echo(line)
        if report.failing(level):
            raise typer.Exit(FINDINGS_EXIT)


def lines(report: AuditReport) -> list[str]:
    """The table: one row per finding, then how old each feed's data is."""
    from omg.audit.feeds import describe_age

    rows = [("TOOL", "VERSION", "KIND", "SEVERITY", "IDS", "FIXED IN", "UPGRADE")]
    for f in report.findings:
        ids = ",".join([*f.ids, f.advisory] if f.advisory else f.ids)
        rows.append((f.tool, f.version, f.kind, f.severity, ids or "-",
                     ",".join(f.fixed_in) or "-", f.upgrade or "-"))
    out = []
    if len(rows) > 1:
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
        out = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1]
               for r in rows]
    out.append(f"{len(report.findings)} finding(s) in {len(report.checked)} installed "
               "runtime(s) and package(s)")
    now = time.time()
    for feed in report.feeds:
        age = "no data" if feed.fetched is None else f"{describe_age(now - feed.fetched)} old"
        out.append(f"  {feed.label}: {age}")
    return out


def as_json(report: AuditReport, fail_on: str) -> dict[str, object]:
    from omg.cli import json_out as J

    return {"schema": J.SCHEMA_VERSION, "fail_on": fail_on,
            "failing": len(report.failing(fail_on)),
            "checked": [{"tool": t, "version": v} for t, v in report.checked],
            "findings": [f.as_dict() for f in report.findings],
            "feeds": [{"feed": s.key, "label": s.label,
                       "fetched": J.iso_time(s.fetched) if s.fetched is not None else None}
                      for s in report.feeds],
            "warnings": report.warnings}
