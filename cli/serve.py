"""``coa-audit serve``: the full-screen auditor in a browser, through textual-serve (the
optional ``serve`` extra).

Each browser tab that connects runs its own ``coa-audit tui FILE ...`` under Textual's web
driver (its own session and journal, as a second terminal would). The server listens on
127.0.0.1 unless told otherwise, and every request must carry the token printed with the
address: the page's address holds it (``?token=``), and the page, once opened with it, gets
it back as an HttpOnly, SameSite=Strict cookie, which its websocket, static files and
downloads carry. Anything else is refused with 403. Textual is not imported here: the app
runs in the processes the server starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import os
import secrets
import shlex
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from coa_audit.core.errors import UsageError

__all__ = ["INSTALL_HINT", "app_command", "is_loopback", "serve"]

INSTALL_HINT = "pipx install '.[serve]' (or: pip install 'coa-audit[serve]')"
_SUPERVISED = "COA_AUDIT_SUPERVISED"  # cli.supervise: the app processes supervise themselves


def app_command(args: Sequence[str]) -> str:
    """The shell command that runs ``coa-audit ARGS`` with this very program (a one-file
    build is the program itself; elsewhere this interpreter with ``-m coa_audit``)."""
    program = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m"]
    return shlex.join([*program, *([] if len(program) == 1 else ["coa_audit"]), *args])


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(
    command: str,
    host: str,
    port: int,
    title: str,
    say: Callable[[str], None],
    token: str | None = None,
) -> None:
    """Serve ``command`` (one app per browser tab) on ``host:port`` (0: a free port) until
    SIGINT or SIGTERM; ``say`` gets the address with its token once the port is bound."""
    try:
        import aiohttp_jinja2
        from aiohttp import web
        from textual_serve.server import Server
    except ImportError:
        raise UsageError(f"serve needs the serve extra (textual-serve): {INSTALL_HINT}") from None

    from textual_serve import download_manager

    # textual-serve ends a download whose next chunk the app has not sent within 4 s; an app
    # on a busy server (an export just written, other tabs) may take longer
    download_manager.DOWNLOAD_TIMEOUT = max(download_manager.DOWNLOAD_TIMEOUT, 60)
    token = token or secrets.token_urlsafe(32)

    def cookie(request: web.Request) -> str:
        """A browser keeps one cookie jar per host name, whatever the port: one name per
        port, so two servers on one machine do not overwrite each other's token."""
        return f"coa_audit_token_{request.url.port or 0}"

    def allowed(request: web.Request) -> bool:
        for given in (request.query.get("token"), request.cookies.get(cookie(request))):
            if given and hmac.compare_digest(given.encode(), token.encode()):
                return True
        return False

    @web.middleware
    async def guard(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not allowed(request):
            raise web.HTTPForbidden(
                text="coa-audit: refused: open the address `coa-audit serve` printed, with "
                "its token\n"
            )
        response = await handler(request)
        if request.path == "/" and not response.prepared:
            # the page's own requests (websocket, static files, downloads) carry the token
            # as a cookie; nothing caches the page, and no address leaves it in a Referer
            response.set_cookie(cookie(request), token, httponly=True, samesite="Strict", path="/")
            response.headers["Cache-Control"] = "no-store"
            response.headers["Referrer-Policy"] = "no-referrer"
        return response

    class TokenServer(Server):
        """textual-serve's server behind the token; its page's addresses are those the
        browser used (Host, and X-Forwarded-Proto from a proxy that ends TLS)."""

        @aiohttp_jinja2.template("app_index.html")
        async def handle_index(self, request: web.Request) -> dict[str, Any]:
            https = request.headers.get("X-Forwarded-Proto", request.scheme) == "https"
            socket_url = f"{'wss' if https else 'ws'}://{request.host}/ws"
            return {
                "font_size": 16,
                "app_websocket_url": socket_url,
                "config": {"static": {"url": "/static/"}},
                "application": {"name": self.title},
            }

        async def on_startup(self, app: web.Application) -> None:
            """Quiet: the command says the address itself."""

    server = TokenServer(command, host=host, port=port, title=title)

    async def run() -> None:
        app = await server._make_app()
        app.middlewares.append(guard)
        # Ctrl+C ends the apps with their connections (each edit is in its journal already)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=3)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as exc:
            await runner.cleanup()
            raise UsageError(
                f"serve: cannot listen on {host}:{port}: {exc.strerror or exc}; give another "
                "--port (or --host)"
            ) from None
        bound = runner.addresses[0][1]
        shown = f"[{host}]" if ":" in host else host
        say(f"http://{shown}:{bound}/?token={token}")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    os.environ.pop(_SUPERVISED, None)  # each app is a program of its own, supervised
    asyncio.run(run())
