"""ReceivedFiles: photos and files a person sends, handed to the chat's agent.

Owns fetching a message's attachments from Feishu (at most MAX_ATTACHMENTS, each within
``files.max_receive_mb``), handing them to the gateway (saved in the session's folder under
``.unified-icc/inbox/``, the agent told their paths with the message's caption), the receipt,
and the answer when that cannot be done: no session, too many, too large, Feishu refused.
Nothing reaches the agent unless every file of the message did. Calls only the gateway's
public API.
"""

from __future__ import annotations

from typing import Final

from cclark.audit import AuditKind, AuditLog
from cclark.errors import CclarkError, FeishuPermissionError
from cclark.event_parsers import AttachmentKind, FeishuMessageEvent
from cclark.handlers.dispatch import Receipt, Replier, audit_event
from cclark.handlers.user_input import quoted
from unified_icc import UnifiedICC, UnifiedICCError

__all__ = ["MAX_ATTACHMENTS", "ReceivedFiles"]

MAX_ATTACHMENTS: Final = 20
NO_RESOURCE_SCOPE = ("Could not fetch the {what}: this app lacks Feishu's im:resource "
                     "permission (see docs/feishu-setup.md).")  # fmt: skip
NO_SESSION = ("This chat has no agent session to give it to. Send #new to start one, then "
              "send it again.")  # fmt: skip


class ReceivedFiles:
    def __init__(
        self, *, gateway: UnifiedICC, replier: Replier, audit: AuditLog, max_bytes: int
    ) -> None:
        self._gateway = gateway
        self._replier = replier
        self._audit = audit
        self._max_bytes = max_bytes

    async def deliver(self, event: FeishuMessageEvent, caption: str) -> None:
        """Fetch the message's photos and files and give them, with caption, to the agent."""
        window = self._gateway.channel_router.resolve_window(event.channel_id)
        if window is None:
            await self._refuse(event, NO_SESSION)
            return
        count = len(event.attachments)
        if count > MAX_ATTACHMENTS:
            await self._refuse(event, f"That message holds {count} photos or files; send at "
                                      f"most {MAX_ATTACHMENTS} at a time.")  # fmt: skip
            return
        files: list[tuple[str | None, bytes]] = []
        for attachment in event.attachments:
            what = "photo" if attachment.kind is AttachmentKind.IMAGE else "file"
            try:
                name, data = await self._replier.download(event, attachment)
            except FeishuPermissionError:
                await self._refuse(event, NO_RESOURCE_SCOPE.format(what=what))
                return
            except CclarkError as exc:
                await self._refuse(event, f"Could not fetch the {what} from Feishu: {exc}")
                return
            # A photo is named for its format (photo.jpg); Feishu's name for it is its key.
            image = attachment.kind is AttachmentKind.IMAGE
            name = attachment.name or (None if image else name)
            if len(data) > self._max_bytes:
                await self._refuse(event, self._too_large(what, name, len(data)))
                return
            files.append((name, data))
        names = ", ".join(quoted(n or "photo", limit=40) for n, _ in files)
        audit_event(self._audit, AuditKind.KEYSTROKES, event, f"[files: {names}] {caption}",
                    window)  # fmt: skip
        try:
            saved = await self._gateway.send_files(window, files, caption)
        except (UnifiedICCError, OSError) as exc:
            await self._refuse(event, f"Not given to the agent: {exc}")
            return
        await self._replier.react(event, Receipt.TYPED)
        info = self._gateway.window_info(window)
        if info.provider == "shell":
            listed = ", ".join(str(path.relative_to(info.cwd)) for path in saved)
            await self._replier.reply_text(event, f"Saved in the session's folder: {listed} "
                                                  "(a shell is not typed into).")  # fmt: skip

    def _too_large(self, what: str, name: str | None, size: int) -> str:
        limit = self._max_bytes // (1024 * 1024)
        called = quoted(name, limit=40) if name else f"The {what}"
        return (f"{called} is {size / 1024 / 1024:.1f} MB: a chat can hand the agent files of "
                f"up to {limit} MB (files.max_receive_mb in config.yaml).")  # fmt: skip

    async def _refuse(self, event: FeishuMessageEvent, text: str) -> None:
        await self._replier.react(event, Receipt.NOT_TYPED)
        await self._replier.reply_text(event, text)
