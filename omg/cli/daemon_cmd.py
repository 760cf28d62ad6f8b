"""`omg daemon`: run omgd in the foreground, or ask a running one how it is."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from omg.cli.output import print_json

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
               json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Ping the daemon; show its version and who it sees you as."""
        import time

        from omg import config
        from omg.daemon.client import Client, default_socket

        settings = config.load()
        path = socket or default_socket(settings.home, dict(settings.raw))
        start = time.perf_counter()
        with Client(path, timeout=10) as client:
            client.call("ping")
            elapsed = time.perf_counter() - start
            me = client.call("whoami")
            server = client.hello["server"]
        if json_out:
            print_json({"socket": str(path), "server": server, "peer": me,
                        "latency_ms": round(elapsed * 1000, 3)})
            return
        typer.echo(f"{server} on {path}: up ({elapsed * 1000:.1f} ms)")
        typer.echo(f"you are {me['user']} (uid {me['uid']}, gid {me['gid']}); "
                   f"gc {'allowed' if me['may_gc'] else 'not allowed'}")
