"""`omg daemon`: run omgd in the foreground, or ask a running one how it is."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from omg.cli.output import human_size, print_json

if TYPE_CHECKING:
    from omg.daemon.observe import DaemonStats

SocketOpt = Annotated[Path | None, typer.Option(
    "--socket", help="The daemon's Unix socket (default: OMG_SOCKET, [daemon] socket).")]


def register(app: typer.Typer) -> None:
    daemon_app = typer.Typer(help="The omgd daemon that serves a shared store.",
                             invoke_without_command=True)
    app.add_typer(daemon_app, name="daemon")

    @daemon_app.callback()
    def daemon(
        ctx: typer.Context,
        foreground: Annotated[bool, typer.Option(
            "--foreground", help="Serve the store in this process until SIGTERM.")] = False,
        socket: SocketOpt = None,
    ) -> None:
        """Run omgd (`omg daemon --foreground`) or query it (`omg daemon status`)."""
        if ctx.invoked_subcommand is not None:
            return
        if not foreground:
            typer.echo(ctx.get_help())
            raise typer.Exit(2)
        from omg import config
        from omg.daemon.server import run

        raise typer.Exit(run(config.load(), socket))

    @daemon_app.command("status")
    def status(socket: SocketOpt = None,
               stats: Annotated[bool, typer.Option(
                   "--stats", help="Also show request counts, errors and latencies.")] = False,
               json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Ping the daemon; show its version and who it sees you as."""
        import time

        from omg import config
        from omg.daemon.client import Client
        from omg.daemon.wire import default_socket

        settings = config.load()
        path = socket or default_socket(settings.home, settings.raw)
        start = time.perf_counter()
        with Client(path, timeout=10) as client:
            client.call("ping")
            elapsed = time.perf_counter() - start
            me = _reply(client.call("whoami"), "whoami")
            server = client.hello["server"]
            numbers = _reply(client.call("daemon.stats"), "daemon.stats") if stats else None
        if json_out:
            from omg.cli.json_out import versioned

            out = versioned({"socket": str(path), "server": server, "peer": me,
                             "latency_ms": round(elapsed * 1000, 3), "stats": numbers})
            print_json(out)
            return
        typer.echo(f"{server} on {path}: up ({elapsed * 1000:.1f} ms)")
        typer.echo(f"you are {me['user']} (uid {me['uid']}, gid {me['gid']}); "
                   f"gc {'allowed' if me['may_gc'] else 'not allowed'}")
        if numbers is not None:
            for line in stats_lines(cast("DaemonStats", numbers)):
                typer.echo(line)


def _reply(reply: object, method: str) -> dict[str, object]:
    """omgd's answer to `method`, a map (or one line saying it was not)."""
    if not isinstance(reply, dict):
        from store.errors import DaemonUnavailable

        raise DaemonUnavailable(f"omgd sent a malformed {method} reply")
    return reply


def stats_lines(stats: DaemonStats) -> list[str]:
    """`daemon.stats` as text: a summary line, then one row per method."""
    conns, incoming = stats["connections"], stats["incoming"]
    lines = [f"{stats['requests']} requests, {stats['errors']} errors in "
             f"{_duration(stats['uptime_s'])}; {conns['open']} connections open "
             f"({conns['accepted']} accepted, {conns['refused']} refused); "
             f"{human_size(incoming['bytes'])} of uploads in flight",
             f"{'method':<20} {'count':>7} {'errors':>6} {'mean ms':>9} {'p50 ms':>9} "
             f"{'p95 ms':>9} {'max ms':>9}  error types"]
    for name, m in stats["methods"].items():
        kinds = ", ".join(f"{k} {n}" for k, n in m["error_types"].items())
        lines.append(f"{name:<20} {m['count']:>7} {m['errors']:>6} {m['mean_ms']:>9.1f} "
                     f"{m['p50_ms']:>9.1f} {m['p95_ms']:>9.1f} {m['max_ms']:>9.1f}  {kinds}"
                     .rstrip())
    return lines


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
