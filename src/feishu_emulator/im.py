"""The im/v1 message rules: where a message goes, what it may contain, threads, idempotency.

Owns create / reply / patch as the platform decides them (refusals as OpenApiError with the
documented codes), sending a CardKit card entity, a bot's reactions, and the thread placement
of a user's post; knows no HTTP and no frames.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

from feishu_emulator import ids
from feishu_emulator.cards import card_problem, is_shared_card, referenced_card_id
from feishu_emulator.errors import OpenApiError, UnknownRecordError
from feishu_emulator.faults import Faults, Throttle
from feishu_emulator.models import (
    App,
    CardEntity,
    Chat,
    Limits,
    Mention,
    Message,
    Reaction,
    SenderType,
    Sent,
    SentOp,
    UserMessage,
)
from feishu_emulator.state import World

__all__ = ["EMOJI_TYPES", "MSG_TYPES", "Messenger"]

MSG_TYPES = frozenset(
    {
        "text", "post", "image", "file", "audio", "media", "sticker",
        "interactive", "share_chat", "share_user", "system",
    }
)  # fmt: skip
CARD_SIZED = frozenset({"interactive", "post"})
RECEIVE_ID_TYPES = frozenset({"chat_id", "open_id", "union_id", "user_id"})
BOT_MENTION_KEY = "@_user_1"

INVALID = 230001
NOT_IN_CHAT = 230002
NOT_SENDER = 230012
NO_AVAILABILITY = 230013
FREQUENCY = 230020
TOO_LONG = 230025
TOO_OLD = 230031
BAD_CARD = 230099
FIELD_VALIDATION = 99992402
# message-reaction create/delete error tables
REACTION_TYPE_INVALID = 231001
REACTION_NOT_OWNER = 231007
REACTION_NOT_FOUND = 231003
REACTION_ELSEWHERE = 231010
REACTION_ID_INVALID = 231011
# The emoji_type values of the docs' "表情文案说明" table (e.g. no "CROSS": it is CrossMark).
EMOJI_TYPES = frozenset(
    {
        "OK", "THUMBSUP", "THANKS", "MUSCLE", "FINGERHEART", "APPLAUSE", "FISTBUMP", "JIAYI",
        "DONE", "SMILE", "BLUSH", "LAUGH", "SMIRK", "LOL", "FACEPALM", "LOVE", "WINK", "PROUD",
        "WITTY", "SMART", "SCOWL", "THINKING", "SOB", "CRY", "ERROR", "NOSEPICK", "HAUGHTY", "SLAP",
        "SPITBLOOD", "TOASTED", "GLANCE", "DULL", "INNOCENTSMILE", "JOYFUL", "WOW", "TRICK", "YEAH",
        "ENOUGH", "TEARS", "EMBARRASSED", "KISS", "SMOOCH", "DROOL", "OBSESSED", "MONEY", "TEASE",
        "SHOWOFF", "COMFORT", "CLAP", "PRAISE", "STRIVE", "XBLUSH", "SILENT", "WAVE", "WHAT",
        "FROWN", "SHY", "DIZZY", "LOOKDOWN", "CHUCKLE", "WAIL", "CRAZY", "WHIMPER", "HUG",
        "BLUBBER", "WRONGED", "HUSKY", "SHHH", "SMUG", "ANGRY", "HAMMER", "SHOCKED", "TERROR",
        "PETRIFIED", "SKULL", "SWEAT", "SPEECHLESS", "SLEEP", "DROWSY", "YAWN", "SICK", "PUKE",
        "BETRAYED", "HEADSET", "EatingFood", "MeMeMe", "Sigh", "Typing", "Lemon", "Get", "LGTM",
        "OnIt", "OneSecond", "VRHeadset", "YouAreTheBest", "SALUTE", "SHAKE", "HIGHFIVE",
        "UPPERLEFT", "ThumbsDown", "SLIGHT", "TONGUE", "EYESCLOSED", "RoarForYou", "CALF", "BEAR",
        "BULL", "RAINBOWPUKE", "ROSE", "HEART", "PARTY", "LIPS", "BEER", "CAKE", "GIFT", "CUCUMBER",
        "Drumstick", "Pepper", "CANDIEDHAWS", "BubbleTea", "Coffee", "Yes", "No", "OKR",
        "CheckMark", "CrossMark", "MinusOne", "Hundred", "AWESOMEN", "Pin", "Alarm", "Loudspeaker",
        "Trophy", "Fire", "BOMB", "Music", "XmasTree", "Snowman", "XmasHat", "FIREWORKS", "2022",
        "REDPACKET", "FORTUNE", "LUCK", "FIRECRACKER", "StickyRiceBalls", "HEARTBROKEN", "POOP",
        "StatusFlashOfInspiration", "18X", "CLEAVER", "Soccer", "Basketball", "GeneralDoNotDisturb",
        "Status_PrivateMessage", "GeneralInMeetingBusy", "StatusReading", "StatusInFlight",
        "GeneralBusinessTrip", "GeneralWorkFromHome", "StatusEnjoyLife", "GeneralTravellingCar",
        "StatusBus", "GeneralSun", "GeneralMoonRest", "MoonRabbit", "Mooncake", "JubilantRabbit",
        "TV", "Movie", "Pumpkin", "BeamingFace", "Delighted", "ColdSweat", "FullMoonFace",
        "Partying", "GoGoGo", "ThanksFace", "SaluteFace", "Shrug", "ClownFace", "HappyDragon",
    }
)  # fmt: skip


def invalid(detail: str) -> OpenApiError:
    return OpenApiError(INVALID, f"Your request contains an invalid request parameter: {detail}")


class Messenger:
    """Applies the platform's message rules to the world."""

    def __init__(
        self,
        *,
        world: World,
        faults: Faults,
        throttle: Throttle,
        limits: Limits,
        clock: Callable[[], float],
    ) -> None:
        self._world = world
        self._faults = faults
        self._throttle = throttle
        self._limits = limits
        self._clock = clock

    def create(
        self,
        *,
        app_id: str,
        receive_id_type: str,
        receive_id: str,
        msg_type: str,
        content: str,
        uuid: str | None,
        body_size: int,
    ) -> Message:
        """POST /im/v1/messages. Raises: OpenApiError."""
        if (earlier := self._earlier(app_id, uuid)) is not None:
            return earlier
        chat = self._receiver_chat(app_id, receive_id_type, receive_id)
        self._check_chat_rate(chat.chat_id)
        card = self._content_card(app_id, msg_type, content, body_size)
        message = self._bot_message(app_id, chat, msg_type, content, card)
        return self._record(SentOp.CREATE, app_id, message, uuid=uuid, card=card)

    def reply(
        self,
        *,
        app_id: str,
        parent_id: str,
        msg_type: str,
        content: str,
        reply_in_thread: bool,
        uuid: str | None,
        body_size: int,
    ) -> Message:
        """POST /im/v1/messages/:id/reply; lands in the parent's thread if it has one."""
        if (earlier := self._earlier(app_id, uuid)) is not None:
            return earlier
        parent = self._existing(parent_id)
        self._check_chat_rate(parent.chat_id)
        card = self._content_card(app_id, msg_type, content, body_size)
        root_id = parent.root_id or parent.message_id
        thread_id = parent.thread_id
        if thread_id is None and reply_in_thread:
            thread_id = self._world.open_thread(root_id)
        chat = self._world.chat(parent.chat_id)
        message = self._bot_message(app_id, chat, msg_type, content, card)
        message = dataclasses.replace(
            message, root_id=root_id, parent_id=parent.message_id, thread_id=thread_id
        )
        return self._record(
            SentOp.REPLY, app_id, message, uuid=uuid, reply_in_thread=reply_in_thread, card=card
        )

    def patch(self, *, app_id: str, message_id: str, content: str, body_size: int) -> Message:
        """PATCH /im/v1/messages/:id: replace a shared card the same bot sent."""
        message = self._existing(message_id)
        if message.sender_type is not SenderType.APP or message.sender_id != app_id:
            raise OpenApiError(NOT_SENDER, "Bot is NOT the sender of the message.")
        if message.msg_type != "interactive":
            raise invalid("only interactive messages (cards) can be patched")
        if self._clock() * 1000 - message.create_time > self._limits.patch_window * 1000:
            raise OpenApiError(TOO_OLD, "The message was sent more than 14 days ago.")
        forced = self._faults.take_chat_limit(message.chat_id)
        if forced or not self._throttle.patch_allows(message_id):
            raise OpenApiError(FREQUENCY, "This operation triggers the frequency limit.")
        self._check_content("interactive", content, body_size)
        if message.card_id is not None:
            # Feishu answers success, but a card entity's message keeps what CardKit set.
            return self._record(SentOp.PATCH, app_id, message, uuid=None, attempted=content)
        if not (is_shared_card(message.content) and is_shared_card(content)):
            raise invalid("the card must set config.update_multi=true before and after the update")
        patched = dataclasses.replace(
            message, content=content, update_time=self._world.now_ms(), updated=True
        )
        return self._record(SentOp.PATCH, app_id, patched, uuid=None)

    def answer_click(self, *, app_id: str, message_id: str, content: str) -> Message:
        """A card.action.trigger answer's card replaces the card that was tapped."""
        message = self._existing(message_id)
        self._check_content("interactive", content, len(content.encode()))
        answered = dataclasses.replace(
            message, content=content, update_time=self._world.now_ms(), updated=True
        )
        return self._record(SentOp.CLICK_ANSWER, app_id, answered, uuid=None)

    def react(self, *, app_id: str, message_id: str, emoji_type: str) -> Reaction:
        """POST /im/v1/messages/:id/reactions: the bot reacts to any message of a chat."""
        if emoji_type not in EMOJI_TYPES:
            raise OpenApiError(REACTION_TYPE_INVALID, "reaction type is invalid.")
        self._reacted_message(message_id)
        reaction = Reaction(
            reaction_id=ids.new_reaction_id(), emoji_type=emoji_type, operator_id=app_id,
            operator_type=SenderType.APP, action_time=self._world.now_ms(),
        )  # fmt: skip
        self._world.change_message(
            message_id, lambda m: dataclasses.replace(m, reactions=(*m.reactions, reaction))
        )
        return reaction

    def unreact(self, *, app_id: str, message_id: str, reaction_id: str) -> Reaction:
        """DELETE /im/v1/messages/:id/reactions/:reaction_id: only the bot's own reaction."""
        message = self._reacted_message(message_id)
        found = [r for r in message.reactions if r.reaction_id == reaction_id]
        if not found:
            elsewhere = any(
                r.reaction_id == reaction_id
                for m in self._world.messages_in(message.chat_id)
                for r in m.reactions
            )
            if elsewhere:
                raise OpenApiError(
                    REACTION_ELSEWHERE, "The reaction does not belong to the message."
                )
            raise OpenApiError(REACTION_ID_INVALID, "The request has an invalid reaction_id.")
        if found[0].operator_id != app_id:
            raise OpenApiError(
                REACTION_NOT_OWNER, "The operator has no permission to delete this reaction."
            )
        self._world.change_message(
            message_id,
            lambda m: dataclasses.replace(
                m, reactions=tuple(r for r in m.reactions if r.reaction_id != reaction_id)
            ),
        )
        return found[0]

    def _reacted_message(self, message_id: str) -> Message:
        try:
            return self._world.message(message_id)
        except UnknownRecordError:
            raise OpenApiError(
                REACTION_NOT_FOUND, "The message is not found, maybe not exist or deleted."
            ) from None

    def user_message(self, spec: UserMessage, app: App) -> Message:
        """The message a user posts, placed in its chat and thread (no rate limit)."""
        sender = self._world.user(spec.sender_open_id or self._world.default_user.open_id)
        if spec.chat_id is None:
            chat = self._world.p2p_chat(app.app_id, sender.open_id)
        else:
            chat = self._world.open_chat(spec.chat_id, spec.chat_type)
        content = dict(spec.content)
        mentions: tuple[Mention, ...] = ()
        if spec.mention_bot:
            mentions = (self._bot_mention(app),)
            if spec.msg_type == "text":
                content["text"] = f"{BOT_MENTION_KEY} {content.get('text', '')}"
        now = self._world.now_ms()
        created = spec.create_time if spec.create_time is not None else now
        message = Message(
            message_id=ids.new_message_id(),
            chat_id=chat.chat_id,
            chat_type=chat.chat_type,
            msg_type=spec.msg_type,
            content=json.dumps(content, ensure_ascii=False, separators=(",", ":")),
            sender_id=sender.open_id,
            sender_type=SenderType.USER,
            create_time=created,
            update_time=created,
            mentions=mentions,
        )
        return self._world.store_message(self._place(message, spec))

    def _place(self, message: Message, spec: UserMessage) -> Message:
        if spec.thread_id is not None:
            root = self._world.thread_root(spec.thread_id)
            if root.chat_id != message.chat_id:
                raise UnknownRecordError(f"thread {spec.thread_id} is not in {message.chat_id}")
            return dataclasses.replace(
                message,
                root_id=root.message_id,
                parent_id=root.message_id,
                thread_id=root.thread_id,
            )
        if spec.reply_to is not None:
            parent = self._world.message(spec.reply_to)
            if parent.chat_id != message.chat_id:
                raise UnknownRecordError(f"message {spec.reply_to} is not in {message.chat_id}")
            return dataclasses.replace(
                message,
                root_id=parent.root_id or parent.message_id,
                parent_id=parent.message_id,
                thread_id=parent.thread_id,
            )
        if spec.start_thread:
            self._world.store_message(message)
            thread_id = self._world.open_thread(message.message_id)
            return dataclasses.replace(message, thread_id=thread_id)
        return message

    def _bot_mention(self, app: App) -> Mention:
        bot = self._world.user(app.bot_open_id, app.bot_name)
        return Mention(
            key=BOT_MENTION_KEY,
            open_id=bot.open_id,
            union_id=bot.union_id,
            user_id="",
            name=app.bot_name,
        )

    def _earlier(self, app_id: str, uuid: str | None) -> Message | None:
        if uuid is None:
            return None
        message_id = self._world.remembered_uuid(app_id, uuid)
        return None if message_id is None else self._world.message(message_id)

    def _existing(self, message_id: str) -> Message:
        try:
            return self._world.message(message_id)
        except UnknownRecordError:
            raise invalid(f"message_id {message_id} not found") from None

    def _receiver_chat(self, app_id: str, receive_id_type: str, receive_id: str) -> Chat:
        if receive_id_type not in RECEIVE_ID_TYPES:
            raise OpenApiError(FIELD_VALIDATION, "field validation failed", field="receive_id_type")
        if receive_id_type == "chat_id":
            try:
                return self._world.chat(receive_id)
            except UnknownRecordError:
                raise OpenApiError(NOT_IN_CHAT, "The bot can not be outside the group.") from None
        user = self._world.find_user(receive_id_type, receive_id)
        if user is None:
            raise OpenApiError(NO_AVAILABILITY, "Bot has NO availability to this user.")
        return self._world.p2p_chat(app_id, user.open_id)

    def _check_chat_rate(self, chat_id: str) -> None:
        forced = self._faults.take_chat_limit(chat_id)
        if forced or not self._throttle.chat_allows(chat_id):
            raise OpenApiError(FREQUENCY, "This operation triggers the frequency limit.")

    def _check_content(self, msg_type: str, content: str, body_size: int) -> None:
        if msg_type not in MSG_TYPES:
            raise invalid(f"unknown msg_type {msg_type!r}")
        limit = self._limits.card_bytes if msg_type in CARD_SIZED else self._limits.text_bytes
        if body_size > limit:
            raise OpenApiError(TOO_LONG, "The length of the message content reached its limit.")
        if msg_type == "interactive":
            if problem := card_problem(content, max_elements=self._limits.card_elements):
                raise OpenApiError(
                    BAD_CARD,
                    f"Failed to create card content, ext=ErrCode: 11310; ErrMsg: {problem}",
                )
            return
        try:
            body = json.loads(content)
        except ValueError:
            raise invalid("content is not JSON") from None
        if not isinstance(body, dict):
            raise invalid("content is not a JSON object")
        if msg_type == "text" and not isinstance(body.get("text"), str):
            raise invalid('text content needs {"text": "..."}')
        if msg_type == "image" and not self._world.has_image(str(body.get("image_key"))):
            raise invalid("image_key not found")

    def _content_card(
        self, app_id: str, msg_type: str, content: str, body_size: int
    ) -> CardEntity | None:
        """Checks the content; returns the card entity that card-reference content sends."""
        card_id = referenced_card_id(content) if msg_type == "interactive" else None
        if card_id is None:
            self._check_content(msg_type, content, body_size)
            return None
        try:
            card = self._world.card(card_id)
        except UnknownRecordError:
            card = None
        if card is None or card.app_id != app_id:
            raise OpenApiError(
                BAD_CARD,
                "Failed to create card content, ext=ErrCode: 11310; ErrMsg: cardid is invalid;",
            )
        if card.message_id is not None:
            # An entity may be sent once; the platform's wording for this refusal is a guess.
            raise OpenApiError(
                BAD_CARD,
                "Failed to create card content, ext=ErrCode: 11310; ErrMsg: "
                "card entity has already been sent;",
            )
        return card

    def _bot_message(
        self, app_id: str, chat: Chat, msg_type: str, content: str, card: CardEntity | None = None
    ) -> Message:
        now = self._world.now_ms()
        return Message(
            message_id=ids.new_message_id(),
            chat_id=chat.chat_id,
            chat_type=chat.chat_type,
            msg_type=msg_type,
            content=content if card is None else card.content,
            sender_id=app_id,
            sender_type=SenderType.APP,
            create_time=now,
            update_time=now,
            card_id=None if card is None else card.card_id,
        )

    def _record(
        self,
        op: SentOp,
        app_id: str,
        message: Message,
        *,
        uuid: str | None,
        reply_in_thread: bool = False,
        card: CardEntity | None = None,
        attempted: str | None = None,
    ) -> Message:
        """Store the message (unless the call changed nothing: ``attempted`` is what it sent)
        and its Sent record; a sent card entity learns its message."""
        if attempted is None:
            self._world.store_message(message)
        if card is not None:
            self._world.store_card(dataclasses.replace(card, message_id=message.message_id))
        if uuid is not None:
            self._world.remember_uuid(app_id, uuid, message.message_id)
        draft = Sent(
            seq=0,
            at=0,
            op=op,
            app_id=app_id,
            message_id=message.message_id,
            chat_id=message.chat_id,
            msg_type=message.msg_type,
            content=message.content if attempted is None else attempted,
            thread_id=message.thread_id,
            root_id=message.root_id,
            parent_id=message.parent_id,
            reply_in_thread=reply_in_thread,
            uuid=uuid,
            card_id=message.card_id,
        )
        self._world.record_sent(draft)
        return message
