"""A local Feishu/Lark Open Platform that the real lark-oapi SDK talks to, for tests and demos.

Owns the platform side of the wire: tenant tokens, ws endpoint discovery, the pbbp2 long
connection (events, multi-part payloads, pings, acks, card taps answered in the ack), the
im/v1 REST calls the bot makes (messages, reactions, uploads), CardKit card entities (create,
stream an element, settings, replace), failure switches and a control surface. Must not know
the bot: nothing here imports cclark's other modules.

Python API (tests)::

    async with Emulator(client_config=ClientConfig.fast()) as emu:
        posted = await emu.post_text("hello")          # a user writes to the bot (p2p)
        ack = await emu.wait_for_ack(posted.event_id)  # the SDK acked: ack.code, ack.latency
        sent = await emu.wait_for_sent(1)              # what the bot created/replied/patched
        clicked = await emu.click(sent.message_id, value)   # a tap on a button: the bot's
                                                             # toast and card, within 3 s
        emu.reactions(message_id), emu.card_ops(), emu.card_entity(card_id)

HTTP control surface (people, scripts, other processes), JSON, under ``/_emulator``; mounted
only on a test server (``test_controls=True``, and ``python -m feishu_emulator``)::

    GET    /_emulator                          overview (apps, chats, live sockets, faults)
    GET    /_emulator/{apps|chats|acks|deliveries|connections}
    POST   /_emulator/apps                     {app_id?, app_secret?, bot_name?, ...}
    POST   /_emulator/chats                    {chat_id?, chat_type?, name?}
    GET    /_emulator/chats/{chat_id}/messages
    POST   /_emulator/messages                 {text | msg_type+content, chat_id?, chat_type?,
                                                sender_open_id?, mention_bot?, thread_id?,
                                                reply_to?, start_thread?, create_time?,
                                                app_id?, parts?, part_order?}
    POST   /_emulator/events                   {event_type, event, app_id?, parts?}
    POST   /_emulator/events/{event_id}/redeliver   {parts?, part_order?}
    POST   /_emulator/clicks                   {message_id, value, operator_open_id?}: a tap
                                                on a card button; the bot's answer
    GET    /_emulator/sent?chat_id=&after=
    POST   /_emulator/connections/close        {app_id?, code?, abort?}
    GET|PUT /_emulator/client_config           {reconnect_count?, reconnect_interval?, ...}
    GET    /_emulator/images/{image_key}
    GET|DELETE /_emulator/faults
    POST   /_emulator/faults/server_error      {times?, status?, api?, body?: json|html}
    POST   /_emulator/faults/api_rate_limit    {api?, times?, reset_after?}
    POST   /_emulator/faults/chat_rate_limit   {chat_id, times?}
    POST   /_emulator/faults/invalidate_tokens {app_id?}
    POST   /_emulator/faults/refuse_ws_endpoint {mode?, times?, seconds?}

With ``page=PageSettings(...)`` it also serves the web chat of local mode (docs/local-mode.md),
behind a per-launch token (``page_url`` carries it; the page trades it for a cookie)::

    GET    /chat?token=…  (and /)              the chat page (plain HTML, CSS and JavaScript)
    GET    /chat/static/{file}                 its script and style sheet
    GET    /chat/config                        the page's users, chats and app
    GET    /chat/updates?after=&wait=          long-poll for changed messages
    POST   /chat/messages                      {text, sender_open_id, chat: p2p|group,
                                                thread_id?, reply_to?} as one of its users
    POST   /chat/clicks                        {message_id, value, sender_open_id}: a tap
                                                on a card button; answers the bot's toast
    GET    /chat/images/{image_key}            an image the bot sent

A server bound to loopback answers only requests whose Host is its own address or localhost
with its port.
"""

from __future__ import annotations

from feishu_emulator.app import EmulatorServer, EmulatorSettings
from feishu_emulator.emulator import Emulator, MessageOptions
from feishu_emulator.errors import (
    EmulatorError,
    EmulatorStateError,
    EmulatorTimeoutError,
    UnknownRecordError,
)
from feishu_emulator.models import (
    Ack,
    Api,
    App,
    CardClick,
    Chat,
    ChatType,
    Clicked,
    ClientConfig,
    Connection,
    Delivery,
    DeliveryState,
    Limits,
    Mention,
    Message,
    PageSettings,
    PageUser,
    Posted,
    RefuseMode,
    Sent,
    SentOp,
    User,
    UserMessage,
)

__all__ = [
    "Ack",
    "Api",
    "App",
    "CardClick",
    "Chat",
    "ChatType",
    "Clicked",
    "ClientConfig",
    "Connection",
    "Delivery",
    "DeliveryState",
    "Emulator",
    "EmulatorError",
    "EmulatorServer",
    "EmulatorSettings",
    "EmulatorStateError",
    "EmulatorTimeoutError",
    "Limits",
    "Mention",
    "Message",
    "MessageOptions",
    "PageSettings",
    "PageUser",
    "Posted",
    "RefuseMode",
    "Sent",
    "SentOp",
    "UnknownRecordError",
    "User",
    "UserMessage",
]
