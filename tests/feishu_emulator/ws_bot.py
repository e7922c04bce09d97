"""A bot process for the emulator's tests: the real lark-oapi ``ws.Client``, one per process.

lark_oapi.ws.client keeps its event loop in a module global, so only one ws.Client works per
process (feishu-protocol.md §1.8); each test bot is therefore a process of its own, with its
own loop assigned to that global before ``start()``.

Every line written to --out is one JSON object:
    {"kind": "message", "event_id", "message_id", "chat_id", "chat_type", "thread_id",
     "root_id", "parent_id", "message_type", "content", "sender_open_id", "mentions",
     "create_time"}
    {"kind": "reconnecting"} / {"kind": "reconnected"}
    {"kind": "replied", "message_id", "code", "msg"}
    {"kind": "tap", "event_id", "operator_open_id", "chat_id", "message_id", "value"}

What the handler does is steered by the message text, so one process serves many tests:
    "[echo]"       reply "echo: <text>" over REST, from a worker thread so that the handler
                   returns at once (the ack must be back within 3 s)
    "[sleep=0.3]"  block the handler that long (the SDK reports it as biz_rt)
    "[fail]"       raise after recording, which the SDK acks with code 500
    "[card]"       reply with a shared card holding one button (value {"say": "tapped"})

A tap (card.action.trigger) is recorded and answered as its value says: after "sleep"
seconds, with a toast of "toast" and, when "card" is a string, a card showing that text.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import lark_oapi as lark
import lark_oapi.ws.client as lark_ws_client
from lark_oapi.api.im.v1 import (
    P2ImMessageReceiveV1,
    ReplyMessageRequest,
    ReplyMessageRequestBody,
)
from lark_oapi.event.callback.model.p2_card_action_trigger import (
    P2CardActionTrigger,
    P2CardActionTriggerResponse,
)

SLEEP = re.compile(r"\[sleep=(\d+(?:\.\d+)?)\]")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--domain", required=True)
    parser.add_argument("--app-id", required=True)
    parser.add_argument("--app-secret", required=True)
    parser.add_argument("--out", required=True)
    return parser.parse_args()


class Recorder:
    def __init__(self, path: str) -> None:
        self._lock = threading.Lock()
        self._path = path

    def __call__(self, **fields: Any) -> None:
        with self._lock, open(self._path, "a", encoding="utf-8") as out:
            out.write(json.dumps(fields, ensure_ascii=False) + "\n")


def card_showing(text: str, *, with_button: bool) -> dict[str, Any]:
    """A shared 2.0 card with text and, optionally, one callback button."""
    elements: list[dict[str, Any]] = [{"tag": "markdown", "content": text}]
    tap = {"type": "callback", "value": {"say": "tapped"}}
    if with_button:
        elements.append({"tag": "button", "text": {"tag": "plain_text", "content": "Tap"},
                         "behaviors": [tap]})  # fmt: skip
    return {"schema": "2.0", "config": {"update_multi": True},
            "header": {"title": {"tag": "plain_text", "content": "Card"}, "template": "blue"},
            "body": {"elements": elements}}  # fmt: skip


def _echo(rest: lark.Client, record: Recorder, message_id: str, text: str) -> None:
    card = "[card]" in text
    content = card_showing(text, with_button=True) if card else {"text": f"echo: {text}"}
    body = (
        ReplyMessageRequestBody.builder()
        .msg_type("interactive" if card else "text")
        .content(json.dumps(content))
        .uuid(f"echo-{message_id}")
        .build()
    )
    request = ReplyMessageRequest.builder().message_id(message_id).request_body(body).build()
    response = rest.im.v1.message.reply(request)
    record(kind="replied", message_id=message_id, code=response.code, msg=response.msg)


def _on_message(
    args: argparse.Namespace, record: Recorder, rest: lark.Client, pool: ThreadPoolExecutor
) -> Callable[[P2ImMessageReceiveV1], None]:
    def on_message(data: P2ImMessageReceiveV1) -> None:
        message = data.event.message
        record(
            kind="message",
            event_id=data.header.event_id,
            message_id=message.message_id,
            chat_id=message.chat_id,
            chat_type=message.chat_type,
            thread_id=message.thread_id,
            root_id=message.root_id,
            parent_id=message.parent_id,
            message_type=message.message_type,
            content=message.content,
            sender_open_id=data.event.sender.sender_id.open_id,
            mentions=[m.key for m in message.mentions or []],
            create_time=message.create_time,
        )
        text = str(json.loads(message.content).get("text", ""))
        if sleep := SLEEP.search(text):
            time.sleep(float(sleep[1]))
        if "[fail]" in text:
            raise RuntimeError("the handler fails on purpose")
        if "[echo]" in text or "[card]" in text:
            pool.submit(_echo, rest, record, message.message_id, text)

    return on_message


def _on_tap(record: Recorder) -> Callable[[P2CardActionTrigger], P2CardActionTriggerResponse]:
    def on_tap(data: P2CardActionTrigger) -> P2CardActionTriggerResponse:
        event = data.event
        value = event.action.value or {}
        record(kind="tap", event_id=data.header.event_id,
               operator_open_id=event.operator.open_id, chat_id=event.context.open_chat_id,
               message_id=event.context.open_message_id, value=value)  # fmt: skip
        time.sleep(float(value.get("sleep", 0)))
        answer: dict[str, Any] = {"toast": {"type": "success", "content": value.get("toast", "")}}
        if isinstance(value.get("card"), str):
            answer["card"] = {"type": "raw",
                              "data": card_showing(value["card"], with_button=False)}  # fmt: skip
        return P2CardActionTriggerResponse(answer)

    return on_tap


def main() -> None:
    args = _arguments()
    record = Recorder(args.out)
    # The SDK's ws client reads this module global at call time (feishu-protocol.md §1.8).
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    lark_ws_client.loop = loop
    rest = (
        lark.Client.builder()
        .app_id(args.app_id)
        .app_secret(args.app_secret)
        .domain(args.domain)
        .build()
    )
    pool = ThreadPoolExecutor(max_workers=2)
    handler = (
        lark.EventDispatcherHandler.builder("", "")
        .register_p2_im_message_receive_v1(_on_message(args, record, rest, pool))
        .register_p2_card_action_trigger(_on_tap(record))
        .build()
    )
    client = lark.ws.Client(
        args.app_id,
        args.app_secret,
        event_handler=handler,
        domain=args.domain,
        log_level=lark.LogLevel.DEBUG,
    )
    client.on_reconnecting = lambda: record(kind="reconnecting")
    client.on_reconnected = lambda: record(kind="reconnected")
    client.start()


if __name__ == "__main__":
    main()
