"""Identifiers in the shapes the Open Platform hands out.

Owns the prefixes and lengths of message, chat, thread, user, token, key, card, reaction and
log ids; keeps no registry of them (state.py does).
"""

from __future__ import annotations

import hashlib
import secrets
import time

__all__ = [
    "derived_union_id",
    "derived_user_id",
    "new_app_id",
    "new_card_id",
    "new_chat_id",
    "new_device_id",
    "new_event_id",
    "new_file_key",
    "new_frame_message_id",
    "new_image_key",
    "new_log_id",
    "new_message_id",
    "new_open_id",
    "new_reaction_id",
    "new_secret",
    "new_tenant_key",
    "new_thread_id",
    "new_ticket",
    "new_token",
    "new_trace_id",
]


def new_app_id() -> str:
    return f"cli_{secrets.token_hex(8)}"


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def new_tenant_key() -> str:
    return secrets.token_hex(8)


def new_message_id() -> str:
    return f"om_{secrets.token_hex(16)}"


def new_chat_id() -> str:
    return f"oc_{secrets.token_hex(16)}"


def new_thread_id() -> str:
    return f"omt_{secrets.token_hex(8)}"


def new_open_id() -> str:
    return f"ou_{secrets.token_hex(16)}"


def derived_union_id(open_id: str) -> str:
    # Stable per open_id, so a user keeps one union_id across events.
    return f"on_{hashlib.sha256(open_id.encode()).hexdigest()[:32]}"


def derived_user_id(open_id: str) -> str:
    return hashlib.sha256(f"user:{open_id}".encode()).hexdigest()[:8]


def new_event_id() -> str:
    return secrets.token_hex(16)


def new_image_key() -> str:
    return f"img_v3_{secrets.token_hex(4)}_{secrets.token_hex(16)}"


def new_file_key() -> str:
    return f"file_v3_{secrets.token_hex(4)}_{secrets.token_hex(16)}"


def new_card_id() -> str:
    # CardKit card ids are 19-digit numbers, e.g. "7355372766134157313".
    return str(7 * 10**18 + secrets.randbelow(10**18))


def new_reaction_id() -> str:
    # Shaped like the docs' "ZCaCIjUBVVWSrm5L-3ZTw****": 25 URL-safe characters.
    return secrets.token_urlsafe(19)[:25]


def new_token() -> str:
    return f"t-{secrets.token_hex(20)}"


def new_log_id() -> str:
    # Production log ids start with the UTC time, which helps when reading a transcript.
    return time.strftime("%Y%m%d%H%M%S", time.gmtime()) + secrets.token_hex(10).upper()


def new_device_id() -> str:
    return str(secrets.randbelow(9 * 10**18) + 10**18)


def new_ticket() -> str:
    return secrets.token_hex(16)


def new_trace_id() -> str:
    return secrets.token_hex(16)


def new_frame_message_id() -> str:
    return secrets.token_hex(12)
