"""FeishuAdapter: send text, cards and images to a channel id, splitting long text.

Owns addressing by channel id (a chat, or a topic answered under its root message), the map of
topic roots learned from inbound messages (kept in state.db's ``topic_roots`` when given the
journal, so a restart can still answer a topic), and splitting long text at paragraph and
code-fence boundaries into numbered parts; knows nothing of lark-oapi, retries or card layout.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cclark.errors import TopicRootUnknownError
from cclark.event_parsers import FeishuChannel, FeishuMessageEvent, parse_feishu_channel
from cclark.feishu_client import Download, FeishuClient, card_entity_content
from unified_icc import ChannelId, Journal

__all__ = ["AdapterSettings", "FeishuAdapter", "part_label", "split_text"]

logger = logging.getLogger(__name__)

# Feishu takes at most 150 KB of request body for a text message. The text is JSON-escaped
# twice (content string inside the body), so a newline costs 3 bytes on the wire: 30 KB of
# UTF-8 text per part stays under the limit even for newline-dense text.
TEXT_PART_BYTES = 30_000
LABEL_RESERVE = 16  # bytes kept free in each part for "(nn/nn)\n"
MIN_PART_BYTES = 256
_FENCE = re.compile(r"( {0,3})(`{3,}|~{3,})(.*)")
_LABEL = "({index}/{total})\n"
_ROOTS_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS topic_roots (channel TEXT PRIMARY KEY, root TEXT NOT NULL, "
    "at INTEGER NOT NULL);"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AdapterSettings:
    """Limits of FeishuAdapter."""

    text_part_bytes: int = TEXT_PART_BYTES  # UTF-8 bytes per text part, label included
    topic_roots_kept: int = 4096  # topic channels whose root message id is remembered

    def __post_init__(self) -> None:
        if self.text_part_bytes < MIN_PART_BYTES or self.topic_roots_kept < 1:
            raise ValueError(f"text_part_bytes must be >= {MIN_PART_BYTES}, topic_roots_kept >= 1")


class FeishuAdapter:
    """Sends to ``feishu:<app>:<chat_id>[:<thread_id>]`` channels of one app.

    A chat channel gets new messages in the chat. A topic channel is answered with the reply
    API (``reply_in_thread``) under the topic's root message. Feishu cannot post "into a
    thread id", so the adapter must be told the root: the caller feeds every inbound message
    to note_inbound (or calls remember_topic_root), and the adapter keeps the latest root per
    topic channel in a bounded in-memory map. Without a journal the map is empty after a
    restart until the topic's next inbound message; sending to the topic before that raises
    TopicRootUnknownError. With one (load_roots at gateway start) each change is kept in
    state.db, so a restarted bot still answers its topics.
    """

    def __init__(
        self,
        client: FeishuClient,
        *,
        app_name: str,
        settings: AdapterSettings | None = None,
    ) -> None:
        self._client = client
        self._app_name = app_name
        self._settings = settings or AdapterSettings()
        self._journal: Journal | None = None
        self._roots: OrderedDict[ChannelId, str] = OrderedDict()
        self._stamp = 0

    def load_roots(self, journal: Journal) -> None:
        """Keep topic roots in journal from now on, starting with the ones saved there."""
        journal.define(_ROOTS_SCHEMA)
        keep = self._settings.topic_roots_kept
        rows = journal.rows("SELECT channel, root, at FROM topic_roots ORDER BY at")
        for channel, root, at in rows[-keep:]:
            self._roots[ChannelId(channel)] = root
            self._stamp = max(self._stamp, at)
        self._journal = journal

    def note_inbound(self, event: FeishuMessageEvent) -> None:
        """Remember the topic root of an inbound message (no-op outside topics)."""
        root = event.topic_root_id
        if root is not None:
            self.remember_topic_root(event.channel_id, root)

    def remember_topic_root(self, channel_id: ChannelId, root_message_id: str) -> None:
        """Reply under root_message_id from now on when sending to this topic channel.

        Raises: ValueError if channel_id is not a topic channel of this adapter's app.
        """
        if not self._channel(channel_id).is_topic:
            raise ValueError(f"not a topic channel: {channel_id}")
        if self._roots.get(channel_id) == root_message_id:
            return
        self._roots[channel_id] = root_message_id
        self._roots.move_to_end(channel_id)
        forgotten = []
        while len(self._roots) > self._settings.topic_roots_kept:
            forgotten.append(self._roots.popitem(last=False)[0])
        if self._journal is not None:
            self._stamp += 1
            self._journal.stage("INSERT OR REPLACE INTO topic_roots VALUES (?, ?, ?)",
                                (channel_id, root_message_id, self._stamp))  # fmt: skip
            for channel in forgotten:
                self._journal.stage("DELETE FROM topic_roots WHERE channel=?", (channel,))

    async def send_text(
        self, channel_id: ChannelId, text: str, *, uuid: str | None = None
    ) -> tuple[str, ...]:
        """Send text, split into numbered parts ``(1/3)`` when longer than text_part_bytes.

        Parts are sent one after another, in order, paced per chat by the client; each has
        its own idempotency uuid (derived from uuid when given, so sending the same text
        again with it shows nothing new). If a part fails, the earlier parts stay sent.
        Cancelling stops before the next part. Returns the message ids of the parts.

        Raises: ValueError for an empty text or a channel id of another app or shape;
        TopicRootUnknownError; FeishuApiError and its subclasses from the client.
        """
        if not text.strip():
            raise ValueError("refusing to send an empty text message")
        parts = split_text(text.strip("\n"), limit_bytes=self._settings.text_part_bytes)
        ids: list[str] = []
        for index, part in enumerate(parts):
            key = None if uuid is None else uuid if len(parts) == 1 else f"{uuid}-{index}"
            ids.append(await self._send(channel_id, "text", {"text": part}, uuid=key))
        return tuple(ids)

    async def send_card(
        self, channel_id: ChannelId, card: Mapping[str, Any], *, uuid: str | None = None
    ) -> str:
        """Send an interactive card (JSON 2.0 dict) and return its message id for updates.

        Idempotency (uuid), timeouts, retries and cancellation as FeishuClient.send_message.
        Raises: as send_text.
        """
        return await self._send(channel_id, "interactive", card, uuid=uuid)

    async def update_card(self, message_id: str, card: Mapping[str, Any]) -> None:
        """Replace a sent card's whole content (FeishuClient.patch_card).

        Raises: FeishuApiError and its subclasses.
        """
        await self._client.patch_card(message_id, card)

    async def create_card_entity(self, card: Mapping[str, Any]) -> str:
        """A CardKit card entity of card (JSON 2.0); returns its card_id (FeishuClient)."""
        return await self._client.create_card_entity(dict(card))

    async def send_card_entity(
        self, channel_id: ChannelId, card_id: str, *, uuid: str | None = None
    ) -> str:
        """Send the message that shows a card entity; returns its message id.

        Raises: as send_text.
        """
        return await self._send(channel_id, "interactive", card_entity_content(card_id), uuid=uuid)

    async def stream_card_text(
        self, card_id: str, element_id: str, text: str, *, sequence: int
    ) -> None:
        await self._client.stream_card_text(card_id, element_id, text, sequence=sequence)

    async def set_card_settings(
        self, card_id: str, settings: Mapping[str, Any], *, sequence: int
    ) -> None:
        await self._client.set_card_settings(card_id, dict(settings), sequence=sequence)

    async def replace_card_entity(
        self, card_id: str, card: Mapping[str, Any], *, sequence: int
    ) -> None:
        await self._client.replace_card_entity(card_id, dict(card), sequence=sequence)

    async def add_reaction(self, message_id: str, emoji: str) -> str:
        """React to a message with one of Feishu's emoji types; returns the reaction id.

        Raises: FeishuApiError and its subclasses.
        """
        return await self._client.add_reaction(message_id, emoji)

    async def send_image(self, channel_id: ChannelId, png: bytes) -> str:
        """Upload a PNG and send it as an image message; returns the message id.

        Raises: as send_text.
        """
        channel = self._channel(channel_id)
        self._root_for(channel_id, channel)  # fail before uploading
        image_key = await self._client.upload_image(png)
        return await self._send(channel_id, "image", {"image_key": image_key})

    async def download(self, message_id: str, key: str, kind: str) -> Download:
        """A photo or file a person sent in message_id (see FeishuClient.download_resource)."""
        return await self._client.download_resource(message_id, key, kind)

    async def send_file(self, channel_id: ChannelId, data: bytes, file_name: str) -> str:
        """Upload a file and send it as a file message; returns the message id.

        Raises: as send_text.
        """
        channel = self._channel(channel_id)
        self._root_for(channel_id, channel)  # fail before uploading
        file_key = await self._client.upload_file(data, file_name)
        return await self._send(channel_id, "file", {"file_key": file_key})

    async def _send(
        self,
        channel_id: ChannelId,
        msg_type: str,
        content: Mapping[str, Any],
        *,
        uuid: str | None = None,
    ) -> str:
        channel = self._channel(channel_id)
        root = self._root_for(channel_id, channel)
        if root is None:
            return await self._client.send_message(channel.chat_id, msg_type, content, uuid=uuid)
        return await self._client.reply(
            root, msg_type, content, in_thread=True, chat_id=channel.chat_id, uuid=uuid
        )

    def _channel(self, channel_id: ChannelId) -> FeishuChannel:
        channel = parse_feishu_channel(channel_id)
        if channel.app != self._app_name:
            raise ValueError(
                f"channel {channel_id} belongs to app {channel.app!r}, "
                f"this adapter serves {self._app_name!r}"
            )
        return channel

    def _root_for(self, channel_id: ChannelId, channel: FeishuChannel) -> str | None:
        if not channel.is_topic:
            return None
        root = self._roots.get(channel_id)
        if root is None:
            raise TopicRootUnknownError(channel_id)
        return root


def part_label(index: int, total: int) -> str:
    """The line that starts part ``index`` (1-based) of ``total``: ``(2/5)`` and a newline."""
    return _LABEL.format(index=index, total=total)


def split_text(text: str, *, limit_bytes: int = TEXT_PART_BYTES) -> list[str]:
    """Split text into parts of at most limit_bytes UTF-8 bytes, each labelled ``(i/n)``.

    Cuts fall between paragraphs, never inside a fenced code block; a fenced block that is
    itself too long is cut between lines, closed at the cut and reopened with the same fence
    line (language included) in the next part. Only a paragraph or line too long on its own
    is cut inside, at a space when one is near, else at a character boundary. A text that
    fits is returned as it is, unlabelled; otherwise removing the labels (and the fence lines
    added at cuts) and joining gives back the text.

    Raises: ValueError if limit_bytes is below MIN_PART_BYTES.
    """
    if limit_bytes < MIN_PART_BYTES:
        raise ValueError(f"limit_bytes must be at least {MIN_PART_BYTES}")
    if _size(text) <= limit_bytes:
        return [text]
    parts = _pack(_pieces(text, limit_bytes - LABEL_RESERVE), limit_bytes - LABEL_RESERVE)
    total = len(parts)
    return [part_label(i, total) + part for i, part in enumerate(parts, start=1)]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Block:
    text: str  # an exact slice of the input
    opening: str | None = None  # the fence line of a fenced code block, without newline
    closing: str = ""  # indent and fence characters that close it


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _lines(text: str) -> list[str]:
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return [line for line in lines if line]


def _blocks(text: str) -> Iterator[_Block]:
    """Paragraphs (with the blank line that ends them) and whole fenced code blocks."""
    lines, paragraph, i = _lines(text), "", 0
    while i < len(lines):
        fence = _FENCE.fullmatch(lines[i].rstrip("\n"))
        if fence and not (fence[2][0] == "`" and "`" in fence[3]):
            if paragraph:
                yield _Block(text=paragraph)
                paragraph = ""
            end = i + 1
            while end < len(lines) and not _closes(lines[end], fence[2]):
                end += 1
            text, opening = "".join(lines[i : end + 1]), lines[i].rstrip("\n")
            yield _Block(text=text, opening=opening, closing=fence[1] + fence[2])
            i = end + 1
            continue
        paragraph += lines[i]
        if not lines[i].strip():
            yield _Block(text=paragraph)
            paragraph = ""
        i += 1
    if paragraph:
        yield _Block(text=paragraph)


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= len(fence) and set(stripped) == {fence[0]}


def _pieces(text: str, limit: int) -> Iterator[str]:
    """Slices of at most limit bytes: whole blocks where they fit."""
    for block in _blocks(text):
        if _size(block.text) <= limit:
            yield block.text
        elif block.opening is None:
            yield from _pack(_cut_lines(_lines(block.text), limit), limit)
        else:
            yield from _split_fence(block, block.opening, limit)


def _split_fence(block: _Block, opening: str, limit: int) -> Iterator[str]:
    """Cut a fenced block between lines, closing and reopening the fence at each cut."""
    lines = _lines(block.text)
    body = lines[1:]
    ending = body.pop() if body and _closes(body[-1], block.closing) else ""
    close, reopen = block.closing + "\n", opening + "\n"
    room = limit - max(_size(close) + 1, _size(ending))
    current = lines[0]
    fresh = True  # nothing but a fence line in current
    for line in _cut_lines(body, room - _size(reopen)):
        if not fresh and _size(current) + _size(line) > room:
            yield current + ("" if current.endswith("\n") else "\n") + close
            current, fresh = reopen, True
        current += line
        fresh = False
    yield current + ending


def _cut_lines(lines: list[str], limit: int) -> Iterator[str]:
    """Each line, or slices of it when it alone exceeds limit bytes."""
    for line in lines:
        while _size(line) > limit:
            head = line.encode("utf-8")[:limit].decode("utf-8", errors="ignore") or line[0]
            space = head.rfind(" ")
            if space > len(head) // 2:
                head = head[: space + 1]
            yield head
            line = line[len(head) :]
        if line:
            yield line


def _pack(pieces: Iterator[str], limit: int) -> list[str]:
    """Join consecutive pieces into parts of at most limit bytes."""
    parts: list[str] = []
    current = ""
    for piece in pieces:
        if current and _size(current) + _size(piece) > limit:
            parts.append(current)
            current = ""
        current += piece
    if current:
        parts.append(current)
    return parts
