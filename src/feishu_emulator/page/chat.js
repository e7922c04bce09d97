// The chat page: one conversation with the bot, as one of the configured users, in their p2p
// chat or in the shared topic group.
//
// Owns the page's state (who you are, which chat, which topic), following the emulator's
// message feed (a long-poll that answers when something changed), drawing bubbles and topics,
// updating a bubble in place when the bot patches its card, and posting what the person
// types through POST /chat/messages. How one message body looks is body(); cards and
// markdown are card.js and markdown.js. The server let this page in by the token in its
// URL (and a cookie since); the token is taken out of the address bar at once.

import { renderCard } from "./card.js";

const FEED_URL = "/chat/updates";
const CONFIG_URL = "/chat/config";
const POST_URL = "/chat/messages";
const CLICK_URL = "/chat/clicks";
const TOAST_MS = 4000;
const IMAGE_URL = "/chat/images/";
const LONG_POLL_SECONDS = 25;
const RETRY_MS = [1000, 2000, 5000];

const state = {
  config: null,
  userId: null,
  view: "p2p", // "p2p" | "group"
  topic: null, // root message_id of the topic replied to, or null for a new topic
  version: 0,
  messages: new Map(), // message_id -> message, in order of creation
  panels: new Map(), // "<message_id>:<path>" -> expanded, as the person left it
  unread: new Set(), // chat ids with bot messages that came while another chat was shown
  primed: false, // the first snapshot arrived (what it holds is not "new")
  sending: false,
  toastTimer: 0,
};

const $ = (id) => document.getElementById(id);

function node(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

// ---------------------------------------------------------------- who and where

function currentUser() {
  return state.config.users.find((user) => user.open_id === state.userId) ?? state.config.users[0];
}

function currentChatId() {
  return state.view === "group" ? state.config.group_chat_id : currentUser().p2p_chat_id;
}

function userName(openId) {
  return state.config.users.find((user) => user.open_id === openId)?.name ?? openId;
}

function topicKey(message) {
  return message.root_id ?? message.message_id;
}

function readLocation() {
  const params = new URLSearchParams(location.hash.slice(1));
  const user = state.config.users.find((u) => u.open_id === params.get("user"));
  state.userId = (user ?? state.config.users[0]).open_id;
  state.view = params.get("chat") === "group" ? "group" : "p2p";
}

function writeLocation() {
  const params = new URLSearchParams({ user: state.userId, chat: state.view });
  history.replaceState(null, "", `#${params}`);
}

// ---------------------------------------------------------------- header

function renderHeader() {
  const { config } = state;
  const user = currentUser();
  document.title = `${config.app_name} — local mode`;
  $("app-name").textContent = config.app_name;
  $("exposure").textContent = config.loopback_only
    ? "local mode — reachable from this machine only"
    : "local mode — reachable from the network (no authentication!)";
  $("current-user").textContent = user.name;
  $("current-user-access").textContent = user.allowed ? "on the allowlist" : "not on the allowlist";
  $("current-user-access").dataset.allowed = String(user.allowed);
  $("current-chat").textContent =
    state.view === "group" ? `${config.group_name} (group, topics)` : `Direct chat with ${config.bot_name}`;
  renderSwitches();
}

function renderSwitches() {
  const { users, group_chat_id: groupId, group_name: groupName } = state.config;
  const unread = (chatId) => state.unread.has(chatId);
  $("user-switch").replaceChildren(
    ...users.map((user) =>
      switchButton(user.name, user.open_id === state.userId, unread(user.p2p_chat_id), {
        openId: user.open_id,
      }, () => selectUser(user.open_id)),
    ),
  );
  const p2p = currentUser().p2p_chat_id;
  $("chat-switch").replaceChildren(
    switchButton("Direct chat", state.view === "p2p", unread(p2p), { view: "p2p" }, () =>
      selectView("p2p"),
    ),
    switchButton(groupName, state.view === "group", unread(groupId), { view: "group" }, () =>
      selectView("group"),
    ),
  );
}

function switchButton(label, pressed, unread, data, onClick) {
  const button = node("button", "switch-button", label);
  button.type = "button";
  button.classList.toggle("unread", unread);
  button.title = unread ? "new messages from the bot" : "";
  button.setAttribute("aria-pressed", String(pressed));
  Object.assign(button.dataset, data);
  button.addEventListener("click", onClick);
  return button;
}

function selectUser(openId) {
  state.userId = openId;
  rerender();
}

function selectView(view) {
  state.view = view;
  state.topic = null;
  rerender();
}

function selectTopic(rootId) {
  state.topic = rootId;
  renderComposerTarget();
  for (const topic of document.querySelectorAll(".topic")) {
    topic.classList.toggle("selected", topic.dataset.topic === rootId);
  }
  $("composer").focus();
}

function rerender() {
  state.unread.delete(currentChatId());
  writeLocation();
  renderHeader();
  renderConversation();
  renderComposerTarget();
}

// ---------------------------------------------------------------- conversation

function inView(message) {
  return message.chat_id === currentChatId();
}

function renderConversation() {
  const conversation = $("conversation");
  conversation.replaceChildren();
  conversation.dataset.view = state.view;
  const shown = [...state.messages.values()].filter(inView);
  if (!shown.length) conversation.append(emptyNote());
  for (const message of shown) place(message, conversation);
  scrollToBottom(conversation);
}

function emptyNote() {
  const text =
    state.view === "group"
      ? "No topics yet. What you send starts a topic (the bot is @mentioned for you)."
      : `No messages yet. Write to ${state.config.bot_name} below (try #help).`;
  return node("div", "empty-note", text);
}

// Put a new message's bubble where it belongs in the current view.
function place(message, conversation) {
  conversation.querySelector(".empty-note")?.remove();
  const bubble = renderBubble(message);
  if (state.view === "group") {
    topicSection(topicKey(message), conversation).querySelector(".topic-messages").append(bubble);
  } else {
    conversation.append(bubble);
  }
  return bubble;
}

function topicSection(rootId, conversation) {
  const existing = conversation.querySelector(`.topic[data-topic="${CSS.escape(rootId)}"]`);
  if (existing) return existing;
  const section = node("section", "topic");
  section.dataset.topic = rootId;
  section.classList.toggle("selected", state.topic === rootId);
  const messages = node("div", "topic-messages");
  const reply = node("button", "topic-reply", "Reply in this topic");
  reply.type = "button";
  reply.addEventListener("click", () => selectTopic(rootId));
  section.append(messages, reply);
  conversation.append(section);
  return section;
}

function renderBubble(message) {
  const bubble = node("div", "msg");
  bubble.dataset.messageId = message.message_id;
  fillBubble(bubble, message);
  return bubble;
}

function fillBubble(bubble, message) {
  const fromBot = message.sender_type === "app";
  bubble.classList.toggle("from-bot", fromBot);
  bubble.classList.toggle("from-user", !fromBot);
  bubble.classList.toggle("from-me", message.sender_id === state.userId);
  bubble.dataset.msgType = message.msg_type;
  bubble.dataset.updated = String(Boolean(message.updated));
  const meta = node("div", "msg-meta");
  meta.append(
    node("span", "msg-sender", fromBot ? state.config.bot_name : userName(message.sender_id)),
    node("time", "msg-time", clock(message.create_time)),
  );
  const content = node("div", `msg-body body-${message.msg_type}`);
  content.append(body(message));
  bubble.replaceChildren(meta, content, reactions(message));
}

// Reactions under a bubble, as Feishu shows them (the bot's receipts among them).
const EMOJI = { OK: "👌", CrossMark: "❌", THUMBSUP: "👍", DONE: "✅", CheckMark: "✔️" };

function reactions(message) {
  const row = node("div", "msg-reactions");
  for (const reaction of message.reactions ?? []) {
    const chip = node("span", "reaction", EMOJI[reaction.emoji_type] ?? reaction.emoji_type);
    chip.dataset.emojiType = reaction.emoji_type;
    chip.title = reaction.emoji_type;
    row.append(chip);
  }
  row.hidden = row.childElementCount === 0;
  return row;
}

function clock(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function parse(content) {
  try {
    return JSON.parse(content);
  } catch {
    return null;
  }
}

function body(message) {
  const content = parse(message.content);
  switch (content && message.msg_type) {
    case "text":
      return textBody(String(content.text ?? ""), message.mentions);
    case "image":
      return imageBody(content.image_key);
    case "interactive":
      return renderCard(content, {
        key: message.message_id,
        panels: state.panels,
        imageUrl: imageUrl,
        onClick: (value, control) => tap(message, value, control),
      });
    case "post":
      return postBody(content);
    default:
      return node("div", "unsupported-message", `[unsupported message: ${message.msg_type}]`);
  }
}

function imageUrl(key) {
  return IMAGE_URL + encodeURIComponent(key);
}

// Plain text as Feishu shows it: newlines kept, @_user_N placeholders shown as names.
function textBody(text, mentions) {
  const element = node("div", "text");
  const names = new Map((mentions ?? []).map((m) => [m.key, m.name]));
  for (const part of text.split(/(@_user_\d+)/)) {
    if (names.has(part)) element.append(node("span", "mention", `@${names.get(part)}`));
    else if (part) element.append(part);
  }
  return element;
}

function imageBody(key) {
  const picture = node("img", "image");
  picture.alt = "image";
  if (typeof key === "string") picture.src = imageUrl(key);
  picture.addEventListener(
    "load",
    () => {
      const conversation = $("conversation");
      if (nearBottom(conversation, 480)) scrollToBottom(conversation);
    },
    { once: true },
  );
  return picture;
}

function postBody(content) {
  const post = content.content ? content : Object.values(content)[0] ?? {};
  const element = node("div", "text post");
  if (post.title) element.append(node("strong", "post-title", post.title), "\n");
  for (const line of Array.isArray(post.content) ? post.content : []) {
    for (const item of Array.isArray(line) ? line : []) element.append(String(item.text ?? ""));
    element.append("\n");
  }
  return element;
}

function nearBottom(conversation, slack = 240) {
  return conversation.scrollHeight - conversation.scrollTop - conversation.clientHeight < slack;
}

function scrollToBottom(conversation) {
  conversation.scrollTop = conversation.scrollHeight;
}

// A message arrived or changed: update its bubble in place, or add it if it is new here.
function apply(message) {
  state.messages.set(message.message_id, message);
  const conversation = $("conversation");
  const id = CSS.escape(message.message_id);
  const bubble = conversation.querySelector(`.msg[data-message-id="${id}"]`);
  const stick = nearBottom(conversation);
  if (bubble) {
    fillBubble(bubble, message);
    if (stick) scrollToBottom(conversation);
  } else if (inView(message)) {
    const placed = place(message, conversation);
    const last = conversation.lastElementChild;
    if (last === placed || last?.contains(placed)) scrollToBottom(conversation);
    else placed.scrollIntoView({ block: "nearest" });
  }
}

// ---------------------------------------------------------------- the feed

async function follow() {
  let failures = 0;
  let wait = 0; // the first call is a snapshot
  for (;;) {
    try {
      const response = await fetch(`${FEED_URL}?after=${state.version}&wait=${wait}`, { cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      receive(await response.json());
      failures = 0;
      wait = LONG_POLL_SECONDS;
      setFeedState("live");
    } catch (error) {
      setFeedState("reconnecting");
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS[Math.min(failures, RETRY_MS.length - 1)]));
      failures += 1;
    }
  }
}

function receive(update) {
  if (update.reset) {
    state.messages.clear();
    renderConversation();
  }
  state.version = update.version;
  const unread = state.unread.size;
  for (const message of update.messages) {
    const fresh = state.primed && !state.messages.has(message.message_id);
    apply(message);
    if (fresh && message.sender_type === "app" && !inView(message)) state.unread.add(message.chat_id);
  }
  state.primed = true;
  if (state.unread.size !== unread) renderSwitches();
  document.body.dataset.version = String(state.version);
}

function setFeedState(feed) {
  const status = $("feed-status");
  status.dataset.state = feed;
  status.textContent = feed === "live" ? "● live" : "○ reconnecting…";
  document.body.dataset.feed = feed;
}

// ---------------------------------------------------------------- composing

function renderComposerTarget() {
  const target = $("composer-target");
  target.replaceChildren();
  const composer = $("composer");
  if (state.view === "p2p") {
    target.append(`To ${state.config.bot_name}, as ${currentUser().name}`);
    composer.placeholder = `Message ${state.config.bot_name} (Enter sends, Shift+Enter for a new line)`;
    return;
  }
  const root = state.topic && state.messages.get(state.topic);
  if (!root) {
    state.topic = null;
    target.append(`New topic in ${state.config.group_name}, @${state.config.bot_name} included`);
    composer.placeholder = "Start a new topic (Enter sends, Shift+Enter for a new line)";
    return;
  }
  target.append(`Replying in the topic “${snippet(root)}” `);
  const leave = node("button", "topic-leave", "× new topic instead");
  leave.type = "button";
  leave.addEventListener("click", () => selectTopic(null));
  target.append(leave);
  composer.placeholder = "Reply in this topic (Enter sends, Shift+Enter for a new line)";
}

function snippet(message) {
  const content = parse(message.content);
  const text = message.msg_type === "text" ? String(content?.text ?? "") : `[${message.msg_type}]`;
  const plain = text.replace(/@_user_\d+\s*/g, "").trim();
  return plain.length > 40 ? `${plain.slice(0, 40)}…` : plain;
}

function postBodyFor(text) {
  const request = { text, sender_open_id: currentUser().open_id };
  if (state.view === "p2p") return { ...request, chat: "p2p" };
  const root = state.topic && state.messages.get(state.topic);
  if (!root) return { ...request, chat: "group" }; // a new topic
  const where = root.thread_id ? { thread_id: root.thread_id } : { reply_to: root.message_id };
  return { ...request, chat: "group", ...where };
}

async function send() {
  const composer = $("composer");
  const text = composer.value;
  if (!text.trim() || state.sending) return;
  state.sending = true;
  $("send").disabled = true;
  const startsTopic = state.view === "group" && !state.topic;
  try {
    const response = await fetch(POST_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(postBodyFor(text)),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error ?? `HTTP ${response.status}`);
    composer.value = "";
    showError("");
    if (answer.message) apply(answer.message);
    if (startsTopic && answer.message) selectTopic(topicKey(answer.message));
  } catch (error) {
    showError(`Not sent: ${error.message}`);
  } finally {
    state.sending = false;
    updateSendButton();
  }
}

// A tap on a card button: the emulator sends card.action.trigger to the bot and answers with
// the bot's toast (and applies the bot's new card, which the feed then shows).
async function tap(message, value, control) {
  control.disabled = true;
  try {
    const response = await fetch(CLICK_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ message_id: message.message_id, value, sender_open_id: currentUser().open_id }),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error ?? `HTTP ${response.status}`);
    if (!answer.answered) showToast({ type: "error", content: "The bot did not answer in time (error 200341)." });
    else if (answer.toast) showToast(answer.toast);
  } catch (error) {
    showToast({ type: "error", content: `Not sent: ${error.message}` });
  } finally {
    control.disabled = false;
  }
}

function showToast(toast) {
  const box = $("toast");
  box.textContent = String(toast.content ?? "");
  box.dataset.type = String(toast.type ?? "info");
  box.hidden = !box.textContent;
  clearTimeout(state.toastTimer);
  state.toastTimer = setTimeout(() => { box.hidden = true; }, TOAST_MS);
}

function showError(text) {
  const error = $("composer-error");
  error.textContent = text;
  error.hidden = !text;
}

function updateSendButton() {
  $("send").disabled = state.sending || !$("composer").value.trim();
}

function wireComposer() {
  const composer = $("composer");
  composer.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  composer.addEventListener("input", updateSendButton);
  $("send").addEventListener("click", send);
  updateSendButton();
}

// ---------------------------------------------------------------- start

function forgetToken() {
  // The cookie lets this page back in; the token need not stay in history or bookmarks.
  const url = new URL(location.href);
  if (!url.searchParams.has("token")) return;
  url.searchParams.delete("token");
  history.replaceState(null, "", url.pathname + url.search + url.hash);
}

async function start() {
  forgetToken();
  const response = await fetch(CONFIG_URL, { cache: "no-store" });
  if (!response.ok) throw new Error(`HTTP ${response.status}: open the link printed at start`);
  state.config = await response.json();
  readLocation();
  wireComposer();
  rerender();
  document.body.dataset.ready = "true";
  follow();
}

start().catch((error) => showError(`The page could not start: ${error.message}`));
