// Feishu interactive cards (JSON 2.0, and the plain parts of 1.0) rendered as DOM nodes.
//
// Owns how a card looks on the page: the header (title, subtitle, template colour), the body's
// elements (markdown, collapsible panels, rules, columns, images, buttons, plain text), and a
// grey "[unsupported element: tag]" line for anything else. Knows nothing of messages or
// chats; a panel's open/closed state is kept by the caller, so an updated card keeps what the
// person toggled.

import { renderInline, renderMarkdown } from "./markdown.js";

const TEMPLATES = new Set([
  "blue", "wathet", "turquoise", "green", "yellow", "orange", "red", "carmine", "violet",
  "purple", "indigo", "grey", "default",
]);
const TEXT_SIZES = new Set(["notation", "normal", "heading", "normal_v2", "xxxx-large", "xxx-large",
  "xx-large", "x-large", "large", "medium", "small", "x-small"]);
const MAX_DEPTH = 8;

function node(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

// options: { key: string, panels: Map<string, boolean>, imageUrl: (key) => string }
export function renderCard(card, options) {
  const root = node("div", "card");
  if (!card || typeof card !== "object") {
    root.append(unsupported("card"));
    return root;
  }
  if (card.header) root.append(renderHeader(card.header));
  const body = node("div", "card-body");
  const elements = card.schema === "2.0" ? card.body?.elements : card.elements;
  renderElements(Array.isArray(elements) ? elements : [], body, "e", options, 0);
  root.append(body);
  return root;
}

function renderHeader(header) {
  const template = TEMPLATES.has(header.template) ? header.template : "default";
  const element = node("div", `card-header template-${template}`);
  element.dataset.template = template;
  element.append(textObject(header.title, "card-title"));
  if (header.subtitle?.content) element.append(textObject(header.subtitle, "card-subtitle"));
  return element;
}

// A text object: {tag: plain_text | lark_md | markdown, content}; plain text stays literal.
function textObject(text, className) {
  const element = node("div", className);
  if (!text || typeof text.content !== "string") return element;
  if (text.tag === "lark_md" || text.tag === "markdown") {
    element.append(renderMarkdown(text.content));
  } else {
    element.textContent = text.content;
  }
  return element;
}

function renderElements(elements, parent, path, options, depth) {
  elements.forEach((element, index) => {
    parent.append(renderElement(element, `${path}.${index}`, options, depth));
  });
}

function renderElement(element, path, options, depth) {
  if (!element || typeof element !== "object" || depth > MAX_DEPTH) return unsupported("?");
  switch (element.tag) {
    case "markdown":
    case "lark_md":
      return markdownElement(element);
    case "plain_text":
      return node("div", "card-plain", String(element.content ?? ""));
    case "div":
      return divElement(element);
    case "hr":
      return node("hr", "card-rule");
    case "note":
      return noteElement(element);
    case "collapsible_panel":
      return panel(element, path, options, depth);
    case "column_set":
      return columns(element, path, options, depth);
    case "img":
      return image(element, options);
    case "button":
      return button(element, options);
    default:
      return unsupported(element.tag);
  }
}

function markdownElement(element) {
  const size = TEXT_SIZES.has(element.text_size) ? element.text_size : "normal";
  const block = node("div", `card-markdown size-${size}`);
  if (["center", "right"].includes(element.text_align)) block.style.textAlign = element.text_align;
  block.append(renderMarkdown(String(element.content ?? "")));
  return block;
}

function divElement(element) {
  const block = node("div", "card-div");
  if (element.text) block.append(textObject(element.text, "card-div-text"));
  for (const field of Array.isArray(element.fields) ? element.fields : []) {
    block.append(textObject(field.text, "card-div-field"));
  }
  return block;
}

function noteElement(element) {
  const block = node("div", "card-markdown size-notation card-note");
  for (const item of Array.isArray(element.elements) ? element.elements : []) {
    const part = node("span");
    if (item.tag === "lark_md") renderInline(String(item.content ?? ""), part);
    else part.textContent = String(item.content ?? "");
    block.append(part);
  }
  return block;
}

function panel(element, path, options, depth) {
  const key = `${options.key}:${path}`;
  const wrapper = node("div", "card-panel");
  const header = node("button", "card-panel-header");
  header.type = "button";
  header.append(textObject(element.header?.title, "card-panel-title"), node("span", "card-panel-icon"));
  const body = node("div", "card-panel-body");
  renderElements(Array.isArray(element.elements) ? element.elements : [], body, path, options, depth + 1);
  wrapper.append(header, body);
  const show = (expanded) => {
    wrapper.classList.toggle("expanded", expanded);
    header.setAttribute("aria-expanded", String(expanded));
    body.hidden = !expanded;
  };
  show(options.panels.get(key) ?? Boolean(element.expanded));
  header.addEventListener("click", () => {
    const expanded = !wrapper.classList.contains("expanded");
    options.panels.set(key, expanded);
    show(expanded);
  });
  return wrapper;
}

function columns(element, path, options, depth) {
  const row = node("div", "card-columns");
  (Array.isArray(element.columns) ? element.columns : []).forEach((column, index) => {
    const cell = node("div", "card-column");
    const weight = Number(column.weight);
    if (weight > 0) cell.style.flexGrow = String(weight);
    const items = Array.isArray(column.elements) ? column.elements : [];
    renderElements(items, cell, `${path}.${index}`, options, depth + 1);
    row.append(cell);
  });
  return row;
}

function image(element, options) {
  if (typeof element.img_key !== "string") return unsupported("img");
  const picture = node("img", "card-image");
  picture.src = options.imageUrl(element.img_key);
  picture.alt = element.alt?.content ?? "image";
  return picture;
}

// A button whose behaviour is a callback is tapped through options.onClick(value) (the page
// posts it to the emulator, which sends card.action.trigger to the bot); a button with a
// confirm asks first, as the Feishu client does. Other buttons stay inert.
function button(element, options) {
  const control = node("button", `card-button card-button-${element.type ?? "default"}`);
  control.type = "button";
  control.textContent = element.text?.content ?? "button";
  const callback = (element.behaviors ?? []).find((b) => b && b.type === "callback");
  const value = callback?.value ?? element.value;
  if (!options.onClick || !value || typeof value !== "object" || element.disabled) {
    control.disabled = true;
    control.title = "This button does nothing on this page";
    return control;
  }
  control.addEventListener("click", () => {
    const confirm = element.confirm;
    if (confirm && !window.confirm(confirmText(confirm))) return;
    options.onClick(value, control);
  });
  return control;
}

function confirmText(confirm) {
  const title = confirm.title?.content ?? "";
  const text = confirm.text?.content ?? "";
  return [title, text].filter(Boolean).join("\n\n") || "Are you sure?";
}

function unsupported(tag) {
  return node("div", "card-unsupported", `[unsupported element: ${tag ?? "?"}]`);
}
