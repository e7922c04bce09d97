// Markdown of a Feishu card's markdown element, rendered as DOM nodes.
//
// Owns the subset Feishu cards show: paragraphs (a newline is a line break), headings, code
// fences, lists, block quotes, tables, rules, and inline code, bold, italic, strikethrough,
// links, <font color>, <at>, <br> and HTML entities. Never builds HTML from strings: every
// piece of text ends up in a text node, so nothing in a message can inject markup.

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^ {0,3}(?:([-*_])(?:\s*\1){2,}|<hr\s*\/?>)\s*$/i;
const LIST_ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const QUOTE = /^ {0,3}>\s?(.*)$/;
const TABLE_DIVIDER = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

const COLOURS = new Set([
  "grey", "gray", "red", "green", "blue", "orange", "yellow", "purple", "violet", "indigo",
  "wathet", "turquoise", "carmine",
]);
const SAFE_LINK = /^(https?:|mailto:)/i;
const ENTITY = /&(#\d{1,7}|#x[0-9a-f]{1,6}|amp|lt|gt|quot|apos|nbsp);/gi;
const NAMED_ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

// Inline tokens, tried at every position; the earliest match wins, ties go to the first.
const INLINE = [
  ["code", /(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/],
  ["br", /<br\s*\/?>/i],
  ["font", /<font\s+color\s*=\s*['"]?([\w#-]+)['"]?\s*>([\s\S]*?)<\/font>/i],
  ["at", /<at\s+[a-z_]+\s*=\s*['"]?([^'">\s]+)['"]?\s*>([\s\S]*?)<\/at>/i],
  ["link", /\[([^\]\n]+)\]\(([^)\s]+)\)/],
  ["bold", /\*\*(?=\S)([\s\S]*?\S)\*\*|__(?=\S)([\s\S]*?\S)__/],
  ["strike", /~~(?=\S)([\s\S]*?\S)~~/],
  ["italic", /\*(?=[^\s*])([^*]*?[^\s*])\*|(?<![\w])_(?=[^\s_])([^_]*?[^\s_])_(?![\w])/],
  ["url", /https?:\/\/[^\s<>()]*[^\s<>().,;:!?'"*_~]/],
];

export function decodeEntities(text) {
  return text.replace(ENTITY, (whole, name) => {
    const lower = name.toLowerCase();
    if (lower.startsWith("#x")) return codePoint(parseInt(lower.slice(2), 16), whole);
    if (lower.startsWith("#")) return codePoint(parseInt(lower.slice(1), 10), whole);
    return NAMED_ENTITIES[lower] ?? whole;
  });
}

function codePoint(value, fallback) {
  return value > 0 && value <= 0x10ffff ? String.fromCodePoint(value) : fallback;
}

function node(tag, className) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  return element;
}

// ---------------------------------------------------------------- inline

export function renderInline(text, parent) {
  let rest = text;
  while (rest) {
    const found = earliestToken(rest);
    if (!found) {
      parent.append(decodeEntities(rest));
      return parent;
    }
    if (found.match.index > 0) parent.append(decodeEntities(rest.slice(0, found.match.index)));
    parent.append(renderToken(found.kind, found.match));
    rest = rest.slice(found.match.index + found.match[0].length);
  }
  return parent;
}

function earliestToken(text) {
  let best = null;
  for (const [kind, pattern] of INLINE) {
    const match = pattern.exec(text);
    if (match && (!best || match.index < best.match.index)) best = { kind, match };
  }
  return best;
}

function renderToken(kind, match) {
  switch (kind) {
    case "code": {
      const code = node("code", "md-code");
      code.textContent = match[2];
      return code;
    }
    case "br":
      return node("br");
    case "font":
      return colourSpan(match[1], match[2]);
    case "at":
      return mention(match[1], match[2]);
    case "link":
      return link(match[1], match[2]);
    case "url":
      return link(match[0], match[0]);
    case "bold":
      return renderInline(match[1] ?? match[2], node("strong"));
    case "strike":
      return renderInline(match[1], node("del"));
    default:
      return renderInline(match[1] ?? match[2], node("em"));
  }
}

function colourSpan(colour, inner) {
  const name = colour.toLowerCase();
  const span = node("span", COLOURS.has(name) ? `md-colour-${name === "gray" ? "grey" : name}` : "");
  return renderInline(inner, span);
}

function mention(id, inner) {
  const span = node("span", "md-mention");
  const label = decodeEntities(inner).trim();
  span.textContent = `@${label || (id === "all" ? "all" : id)}`;
  return span;
}

function link(label, href) {
  const target = decodeEntities(href);
  if (!SAFE_LINK.test(target)) return renderInline(label, node("span"));
  const anchor = node("a", "md-link");
  anchor.href = target;
  anchor.target = "_blank";
  anchor.rel = "noopener noreferrer";
  return label === href ? Object.assign(anchor, { textContent: target }) : renderInline(label, anchor);
}

// ---------------------------------------------------------------- blocks

export function renderMarkdown(source) {
  const fragment = document.createDocumentFragment();
  const lines = String(source ?? "").replace(/\r\n?/g, "\n").split("\n");
  let index = 0;
  while (index < lines.length) {
    if (!lines[index].trim()) {
      index += 1;
      continue;
    }
    const [element, next] = renderBlock(lines, index);
    fragment.append(element);
    index = next;
  }
  return fragment;
}

function renderBlock(lines, index) {
  const line = lines[index];
  if (FENCE.test(line)) return codeBlock(lines, index);
  if (RULE.test(line)) return [node("hr", "md-rule"), index + 1];
  const heading = HEADING.exec(line);
  if (heading) return [renderInline(heading[2], node(`h${heading[1].length}`, "md-heading")), index + 1];
  if (isTableStart(lines, index)) return table(lines, index);
  if (LIST_ITEM.test(line)) return list(lines, index);
  if (QUOTE.test(line)) return quote(lines, index);
  return paragraph(lines, index);
}

function startsBlock(lines, index) {
  const line = lines[index];
  return (
    FENCE.test(line) || RULE.test(line) || HEADING.test(line) || LIST_ITEM.test(line) ||
    QUOTE.test(line) || isTableStart(lines, index)
  );
}

function codeBlock(lines, index) {
  const [, fence, language] = FENCE.exec(lines[index]);
  const body = [];
  let next = index + 1;
  while (next < lines.length && !closesFence(lines[next], fence)) body.push(lines[next++]);
  const pre = node("pre", "md-pre");
  const code = node("code", language ? `language-${language}` : "");
  code.textContent = body.join("\n");
  pre.append(code);
  return [pre, Math.min(next + 1, lines.length)];
}

function closesFence(line, fence) {
  const trimmed = line.trim();
  const indent = line.length - line.trimStart().length;
  return indent <= 3 && trimmed.length >= fence.length && [...trimmed].every((c) => c === fence[0]);
}

function paragraph(lines, index) {
  const element = node("p", "md-paragraph");
  let next = index;
  while (next < lines.length && lines[next].trim() && (next === index || !startsBlock(lines, next))) {
    if (next > index) element.append(node("br"));
    renderInline(lines[next], element);
    next += 1;
  }
  return [element, next];
}

function quote(lines, index) {
  const inner = [];
  let next = index;
  while (next < lines.length && QUOTE.test(lines[next])) inner.push(QUOTE.exec(lines[next++])[1]);
  const element = node("blockquote", "md-quote");
  element.append(renderMarkdown(inner.join("\n")));
  return [element, next];
}

// Lists nest by indentation: a deeper item opens a list inside the previous item.
function list(lines, index) {
  const root = document.createDocumentFragment();
  const stack = [];
  let next = index;
  while (next < lines.length) {
    const item = LIST_ITEM.exec(lines[next]);
    if (item) {
      addListItem(root, stack, item);
    } else if (lines[next].trim() && /^\s/.test(lines[next]) && stack.length) {
      const last = stack[stack.length - 1].list.lastElementChild;
      last.append(node("br"));
      renderInline(lines[next].trim(), last);
    } else {
      break;
    }
    next += 1;
  }
  const wrapper = node("div", "md-list");
  wrapper.append(root);
  return [wrapper, next];
}

function addListItem(root, stack, [, spaces, marker, text]) {
  const indent = spaces.replace(/\t/g, "    ").length;
  const ordered = /\d/.test(marker);
  while (stack.length && stack[stack.length - 1].indent > indent) stack.pop();
  let top = stack[stack.length - 1];
  if (!top || indent > top.indent || top.ordered !== ordered) {
    if (top && indent <= top.indent) stack.pop();
    const list = node(ordered ? "ol" : "ul");
    if (ordered) list.start = parseInt(marker, 10);
    const parent = stack.length ? stack[stack.length - 1].list.lastElementChild : null;
    (parent ?? root).append(list);
    top = { indent, ordered, list };
    stack.push(top);
  }
  top.list.append(renderInline(text, node("li")));
}

function isTableStart(lines, index) {
  return (
    index + 1 < lines.length && lines[index].includes("|") && TABLE_DIVIDER.test(lines[index + 1]) &&
    lines[index + 1].includes("-")
  );
}

function tableCells(line) {
  let inner = line.trim();
  if (inner.startsWith("|")) inner = inner.slice(1);
  if (inner.endsWith("|") && !inner.endsWith("\\|")) inner = inner.slice(0, -1);
  return inner.split(/(?<!\\)\|/).map((cell) => cell.trim().replace(/\\\|/g, "|"));
}

function table(lines, index) {
  const element = node("table", "md-table");
  const head = node("thead");
  head.append(tableRow(tableCells(lines[index]), "th"));
  const body = node("tbody");
  let next = index + 2;
  while (next < lines.length && lines[next].includes("|") && lines[next].trim()) {
    body.append(tableRow(tableCells(lines[next]), "td"));
    next += 1;
  }
  element.append(head, body);
  const wrapper = node("div", "md-table-wrap");
  wrapper.append(element);
  return [wrapper, next];
}

function tableRow(cells, tag) {
  const row = node("tr");
  for (const cell of cells) row.append(renderInline(cell, node(tag)));
  return row;
}
