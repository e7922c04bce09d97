"""The emulator as one aiohttp application on a loopback port.

Owns composition (world, faults, im rules, ws hub, REST, the optional test controls and chat
page), the Host check every request passes on a loopback server, and the server's lifecycle
on the *current* loop; the thread that hosts it for tests is emulator.py.
"""

from __future__ import annotations

import enum
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from aiohttp import web

from feishu_emulator.chat_page import ChatPage
from feishu_emulator.control import Control
from feishu_emulator.control_http import ControlHttp
from feishu_emulator.errors import EmulatorStateError
from feishu_emulator.faults import Faults, Throttle
from feishu_emulator.im import Messenger
from feishu_emulator.models import App, ClientConfig, Limits, PageSettings
from feishu_emulator.page_access import PageAccess
from feishu_emulator.rest import OpenApi
from feishu_emulator.state import World
from feishu_emulator.ws import Hub

__all__ = ["EmulatorServer", "EmulatorSettings", "is_loopback"]

logger = logging.getLogger(__name__)

# Large enough that an oversized message gets the platform's 230025, not aiohttp's 413.
CLIENT_MAX_SIZE = 64 * 1024 * 1024
FOREIGN_HOST = (
    "This server answers only to its own loopback address (or localhost) and port; a request "
    "for another host name is refused (DNS rebinding)."
)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatorSettings:
    """How to run the emulator; ``port=0`` picks a free port; ``page`` serves the chat page.

    ``test_controls`` mounts the ``/_emulator`` HTTP control surface (post as anyone, push
    events, faults, app listing with secrets): a test server's switch, never on otherwise.
    ``page_token`` fixes the chat page's token (default: a new random one per server).
    """

    host: str = "127.0.0.1"
    port: int = 0
    apps: Sequence[App] = field(default_factory=lambda: (App(),))
    client_config: ClientConfig = field(default_factory=ClientConfig)
    limits: Limits = field(default_factory=Limits)
    pong_carries_config: bool = True
    clock: Callable[[], float] = time.time
    allow_remote: bool = False
    page: PageSettings | None = None
    page_token: str | None = None
    test_controls: bool = False

    def __post_init__(self) -> None:
        if not (self.allow_remote or is_loopback(self.host)):
            raise ValueError(f"{self.host} is not a loopback address; set allow_remote to bind it")


class _State(enum.Enum):
    NEW = "new"
    RUNNING = "running"
    STOPPED = "stopped"


class EmulatorServer:
    """Every part of the emulator, served by aiohttp on the loop that calls start()."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.world = World(clock=settings.clock, limits=settings.limits)
        for app in settings.apps:
            self.world.register_app(app)
        faults = Faults()
        throttle = Throttle(settings.limits)
        messenger = Messenger(
            world=self.world,
            faults=faults,
            throttle=throttle,
            limits=settings.limits,
            clock=settings.clock,
        )
        self.hub = Hub(
            world=self.world,
            faults=faults,
            limits=settings.limits,
            client_config=settings.client_config,
            pong_carries_config=settings.pong_carries_config,
        )
        self.control = Control(world=self.world, faults=faults, hub=self.hub, messenger=messenger)
        self._allowed_hosts: frozenset[str] = frozenset()
        self._open_api = OpenApi(
            world=self.world,
            faults=faults,
            throttle=throttle,
            messenger=messenger,
            limits=settings.limits,
        )
        self.page: ChatPage | None = None
        if settings.page is not None:
            self.page = ChatPage(
                settings=settings.page,
                world=self.world,
                post=self.control.post,
                click=self.control.click,
                loopback_only=is_loopback(settings.host),
                access=PageAccess(token=settings.page_token),
            )
            self.page.open_chats()
        self._runner: web.AppRunner | None = None
        self._state = _State.NEW
        self._url = ""

    @property
    def url(self) -> str:
        """``http://host:port``, the ``domain`` to give both lark-oapi clients."""
        if self._state is not _State.RUNNING:
            raise EmulatorStateError("the emulator is not running")
        return self._url

    @property
    def page_url(self) -> str:
        """``http://host:port/chat?token=…``: the link that lets a browser into the page.

        Raises: EmulatorStateError (no page settings were given, or not running).
        """
        if self.page is None:
            raise EmulatorStateError("this emulator serves no chat page (give page=PageSettings)")
        return f"{self.url}{self.page.path_with_token}"

    def application(self) -> web.Application:
        application = web.Application(
            client_max_size=CLIENT_MAX_SIZE, middlewares=[self._check_host]
        )
        application.add_routes(self._open_api.routes())
        application.add_routes(self.hub.routes())
        if self.settings.test_controls:
            control = ControlHttp(control=self.control, world=self.world, url=lambda: self._url)
            application.add_routes(control.routes())
        if self.page is not None:
            self.page.install(application)
        return application

    @web.middleware
    async def _check_host(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        # A web page can point a name it controls at 127.0.0.1; the Host header still
        # carries that name, so a loopback server answers only to its own.
        if self._allowed_hosts and request.host not in self._allowed_hosts:
            logger.warning("refused a request for host %r", request.host[:100])
            return web.Response(status=403, text=FOREIGN_HOST)
        return await handler(request)

    async def start(self) -> str:
        """Bind and serve; returns the URL. Raises: EmulatorStateError, OSError (bind)."""
        if self._state is not _State.NEW:
            raise EmulatorStateError(f"cannot start an emulator that is {self._state.value}")
        runner = web.AppRunner(self.application(), access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.host, self.settings.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        host, port = runner.addresses[0][:2]
        self._url = f"http://{_url_host(host)}:{port}"
        if is_loopback(self.settings.host):
            self._allowed_hosts = _loopback_hosts(self.settings.host, host, port)
        self._runner = runner
        self._state = _State.RUNNING
        logger.info("feishu emulator serving url=%s", self._url)
        return self._url

    async def stop(self) -> None:
        """Close the bots' sockets (1001 going away) and the server. Idempotent."""
        if self._state is not _State.RUNNING or self._runner is None:
            self._state = _State.STOPPED
            return
        self._state = _State.STOPPED
        await self.hub.close(code=1001)
        await self._runner.cleanup()
        self._runner = None


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _loopback_hosts(configured: str, bound: str, port: int) -> frozenset[str]:
    """The Host headers a loopback server answers: its address or localhost, with its port."""
    names = {_url_host(bound), "localhost"}
    if configured == "localhost":
        names |= {"127.0.0.1", "[::1]"}
    return frozenset(f"{name}:{port}" for name in names)
