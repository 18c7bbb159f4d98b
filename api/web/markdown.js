// A small Markdown renderer for the fiches' passages, safe by construction: the source
// is never parsed as HTML. Blocks and inline spans are parsed from the text, then built
// with createElement / createTextNode, so any "<script>" or "<img onerror>" in a passage
// stays text. Only http(s) links become <a href>, opened in a new tab without opener.
//
// Every text node keeps the offset of its first character in the source, so a span of
// source offsets (the verifier's support span) can be marked exactly: the characters of
// the span that are shown are wrapped in <mark>; Markdown syntax (#, **, >, -, |) is
// not shown, so it is not marked either.
//
// Supported, as the fiches are written (ingest/render.py): ATX headings, paragraphs,
// bullet and numbered lists (nested by indentation, loose or tight), pipe tables,
// "> " callouts (with blocks inside), **bold**, _emphasis_ / *emphasis*, [label](url),
// bare http(s) URLs and backslash escapes.
"use strict";

(function (global) {
  const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+|$)/;
  const QUOTE = /^ {0,3}> ?/;
  const LIST_ITEM = /^( *)([-*+]|\d{1,9}[.)])(?:[ \t]+|$)/;
  const TABLE_SEPARATOR = /^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$/;
  const ESCAPABLE = /[\\`*_{}[\]()#+\-.!|>~"'<]/;
  const WORD_CHAR = /[\p{L}\p{N}]/u;
  const URL_START = /^https?:\/\/[^\s<>"]+/i;

  // --- blocks ----------------------------------------------------------------------

  // Lines of the source with the offset of their first character.
  function splitLines(text, base) {
    const lines = [];
    let position = 0;
    for (const raw of text.split("\n")) {
      lines.push({ text: raw.endsWith("\r") ? raw.slice(0, -1) : raw, start: base + position });
      position += raw.length + 1;
    }
    return lines;
  }

  function isBlank(line) {
    return !line.text.trim();
  }

  function indentOf(line) {
    return line.text.length - line.text.trimStart().length;
  }

  // A line cut at `cut` characters, its offset following.
  function cutLine(line, cut) {
    return { text: line.text.slice(cut), start: line.start + cut };
  }

  function trimmed(line) {
    const lead = indentOf(line);
    return { text: line.text.trim(), start: line.start + lead };
  }

  function isTableStart(lines, i) {
    return lines[i].text.trimStart().startsWith("|") && i + 1 < lines.length
      && TABLE_SEPARATOR.test(lines[i + 1].text) && lines[i + 1].text.includes("-");
  }

  function startsBlock(lines, i) {
    const text = lines[i].text;
    return HEADING.test(text) || QUOTE.test(text) || LIST_ITEM.test(text) || isTableStart(lines, i);
  }

  function parseBlocks(lines) {
    const blocks = [];
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      if (isBlank(line)) {
        i += 1;
        continue;
      }
      const heading = HEADING.exec(line.text);
      if (heading) {
        const content = trimmed(cutLine(line, heading[0].length));
        content.text = content.text.replace(/\s+#+$/, "");
        blocks.push({ type: "heading", level: heading[1].length, content });
        i += 1;
        continue;
      }
      if (QUOTE.test(line.text)) {
        const inner = [];
        while (i < lines.length && QUOTE.test(lines[i].text)) {
          inner.push(cutLine(lines[i], QUOTE.exec(lines[i].text)[0].length));
          i += 1;
        }
        blocks.push({ type: "quote", children: parseBlocks(inner) });
        continue;
      }
      if (isTableStart(lines, i)) {
        const head = tableCells(lines[i]);
        const rows = [];
        i += 2;
        while (i < lines.length && lines[i].text.trimStart().startsWith("|")) {
          rows.push(tableCells(lines[i]));
          i += 1;
        }
        blocks.push({ type: "table", head, rows });
        continue;
      }
      if (LIST_ITEM.test(line.text)) {
        const [list, next] = parseList(lines, i);
        blocks.push(list);
        i = next;
        continue;
      }
      const paragraph = [];
      while (i < lines.length && !isBlank(lines[i]) && !(paragraph.length && startsBlock(lines, i))) {
        paragraph.push(trimmed(lines[i]));
        i += 1;
      }
      blocks.push({ type: "paragraph", lines: paragraph });
    }
    return blocks;
  }

  function listKind(match) {
    return /\d/.test(match[2]) ? "ol" : "ul";
  }

  function parseList(lines, i) {
    const first = LIST_ITEM.exec(lines[i].text);
    const indent = first[1].length;
    const kind = listKind(first);
    const list = { type: "list", ordered: kind === "ol", start: kind === "ol" ? parseInt(first[2], 10) : 1, items: [] };
    const sameList = (line) => {
      const match = line && LIST_ITEM.exec(line.text);
      return Boolean(match) && match[1].length === indent && listKind(match) === kind;
    };
    while (i < lines.length && sameList(lines[i])) {
      const match = LIST_ITEM.exec(lines[i].text);
      const column = match[0].length;
      const itemLines = [cutLine(lines[i], column)];
      i += 1;
      // The item goes on over lines indented deeper than its marker (blank lines between).
      while (i < lines.length) {
        let j = i;
        while (j < lines.length && isBlank(lines[j])) j += 1;
        if (j >= lines.length || indentOf(lines[j]) <= indent) break;
        for (; i < j; i += 1) itemLines.push({ text: "", start: lines[i].start });
        itemLines.push(cutLine(lines[i], Math.min(indentOf(lines[i]), column)));
        i += 1;
      }
      list.items.push(parseBlocks(itemLines));
      // Blank lines between two items of the same list keep the list going.
      let j = i;
      while (j < lines.length && isBlank(lines[j])) j += 1;
      if (j < lines.length && sameList(lines[j])) i = j;
      else break;
    }
    return [list, i];
  }

  // The cells of a table row, split on the pipes that are not escaped.
  function tableCells(line) {
    const text = line.text;
    const cells = [];
    let cellStart = 0;
    let k = 0;
    const lead = text.length - text.trimStart().length;
    if (text[lead] === "|") cellStart = lead + 1;
    for (k = cellStart; k < text.length; k += 1) {
      if (text[k] === "\\") {
        k += 1;
      } else if (text[k] === "|") {
        cells.push(trimmed({ text: text.slice(cellStart, k), start: line.start + cellStart }));
        cellStart = k + 1;
      }
    }
    const rest = { text: text.slice(cellStart), start: line.start + cellStart };
    if (rest.text.trim()) cells.push(trimmed(rest));
    return cells;
  }

  // --- inline ----------------------------------------------------------------------

  // Inline nodes of a source segment: text (with its offset), strong, em, link.
  function parseInline(text, start) {
    const nodes = [];
    let buffer = "";
    let bufferStart = start;
    const flush = () => {
      if (buffer) nodes.push({ type: "text", text: buffer, start: bufferStart });
      buffer = "";
    };
    const pushText = (chars, at) => {
      if (buffer && bufferStart + buffer.length !== at) flush();
      if (!buffer) bufferStart = at;
      buffer += chars;
    };
    let i = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === "\\" && i + 1 < text.length && ESCAPABLE.test(text[i + 1])) {
        pushText(text[i + 1], start + i + 1);
        i += 2;
        continue;
      }
      if (c === "*" && text[i + 1] === "*") {
        const close = findCloser(text, "**", i + 2);
        if (close > 0) {
          flush();
          nodes.push({ type: "strong", children: parseInline(text.slice(i + 2, close), start + i + 2) });
          i = close + 2;
          continue;
        }
      }
      if ((c === "_" || c === "*") && text[i + 1] !== c && canOpenEmphasis(text, i)) {
        const close = findEmphasisCloser(text, c, i + 1);
        if (close > 0) {
          flush();
          nodes.push({ type: "em", children: parseInline(text.slice(i + 1, close), start + i + 1) });
          i = close + 1;
          continue;
        }
      }
      if (c === "[") {
        const link = parseLink(text, i);
        if (link) {
          flush();
          const children = parseInline(link.label, start + i + 1);
          if (link.href) nodes.push({ type: "link", href: link.href, children });
          else nodes.push(...children);
          i = link.end;
          continue;
        }
      }
      if ((c === "h" || c === "H") && (i === 0 || !WORD_CHAR.test(text[i - 1]))) {
        const url = bareUrl(text.slice(i));
        if (url) {
          flush();
          nodes.push({ type: "link", href: url, children: [{ type: "text", text: url, start: start + i }] });
          i += url.length;
          continue;
        }
      }
      pushText(c, start + i);
      i += 1;
    }
    flush();
    return nodes;
  }

  // The index of the closing `marker` (not escaped, after a non-space), or -1.
  function findCloser(text, marker, from) {
    if (from >= text.length || /\s/.test(text[from])) return -1;
    for (let k = from; k < text.length; k += 1) {
      if (text[k] === "\\") {
        k += 1;
      } else if (text.startsWith(marker, k) && k > from && !/\s/.test(text[k - 1])) {
        return k;
      }
    }
    return -1;
  }

  function canOpenEmphasis(text, i) {
    const before = i > 0 ? text[i - 1] : " ";
    const after = text[i + 1];
    return after !== undefined && !/\s/.test(after) && !WORD_CHAR.test(before);
  }

  function findEmphasisCloser(text, marker, from) {
    for (let k = from + 1; k < text.length; k += 1) {
      if (text[k] === "\\") {
        k += 1;
      } else if (text[k] === marker && text[k + 1] !== marker && !/\s/.test(text[k - 1])
        && (k + 1 >= text.length || !WORD_CHAR.test(text[k + 1]))) {
        return k;
      }
    }
    return -1;
  }

  // [label](url): the label, the URL when it is http(s) (else null), the end index.
  function parseLink(text, i) {
    let k = i + 1;
    for (; k < text.length && text[k] !== "]"; k += 1) {
      if (text[k] === "\\") k += 1;
      else if (text[k] === "[") return null;
    }
    if (k >= text.length || text[k + 1] !== "(") return null;
    let close = k + 2;
    for (let depth = 0; close < text.length; close += 1) {  // parentheses nest in URLs
      if (text[close] === "(") depth += 1;
      else if (text[close] === ")" && depth-- === 0) break;
    }
    if (close >= text.length) return null;
    // (url) or (url "title"); anything else is not a link.
    const inner = /^\s*(\S+)(?:\s+"[^"]*")?\s*$/.exec(text.slice(k + 2, close));
    if (!inner) return null;
    return { label: text.slice(i + 1, k), href: httpUrl(inner[1]), end: close + 1 };
  }

  // A bare URL at the start of the text, without the punctuation that ends a sentence.
  function bareUrl(text) {
    const match = URL_START.exec(text);
    if (!match) return null;
    let url = match[0];
    for (;;) {
      const last = url[url.length - 1];
      const unbalanced = last === ")" && (url.match(/\(/g) || []).length < (url.match(/\)/g) || []).length;
      if (/[.,;:!?»"'\]]/.test(last) || unbalanced) url = url.slice(0, -1);
      else break;
    }
    return httpUrl(url) ? url : null;
  }

  // The URL, normalised, when it is absolute http(s); null otherwise.
  function httpUrl(url) {
    try {
      const parsed = new URL(url);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (_) {
      return null;
    }
  }

  // --- DOM -------------------------------------------------------------------------

  function element(tag, className) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    return node;
  }

  function linkElement(href) {
    const a = element("a");
    a.setAttribute("href", href);
    a.setAttribute("target", "_blank");
    a.setAttribute("rel", "noopener noreferrer");
    return a;
  }

  class Builder {
    // marks: [{start, end}] source offsets to wrap in <mark>.
    constructor(marks) {
      this.marks = (marks || []).filter((m) => m.end > m.start).sort((a, b) => a.start - b.start);
    }

    blocks(blocks, parent) {
      for (const block of blocks) parent.append(this.block(block));
    }

    block(block) {
      switch (block.type) {
        case "heading": {
          const node = element(`h${Math.min(6, block.level + 3)}`, `md-h md-h${block.level}`);
          this.inline(parseInline(block.content.text, block.content.start), node);
          return node;
        }
        case "quote": {
          const node = element("blockquote", "md-callout");
          this.blocks(block.children, node);
          return node;
        }
        case "list": {
          const node = element(block.ordered ? "ol" : "ul", "md-list");
          if (block.ordered && block.start !== 1) node.setAttribute("start", String(block.start));
          for (const item of block.items) {
            const li = element("li");
            if (item.length === 1 && item[0].type === "paragraph") this.lines(item[0].lines, li);
            else this.blocks(item, li);
            node.append(li);
          }
          return node;
        }
        case "table": {
          const wrap = element("div", "md-table");
          const table = element("table");
          const width = Math.max(block.head.length, ...block.rows.map((row) => row.length));
          const thead = element("thead");
          thead.append(this.row(block.head, "th", width));
          const tbody = element("tbody");
          for (const row of block.rows) tbody.append(this.row(row, "td", width));
          table.append(thead, tbody);
          wrap.append(table);
          return wrap;
        }
        default: {
          const node = element("p");
          this.lines(block.lines, node);
          return node;
        }
      }
    }

    row(cells, tag, width) {
      const tr = element("tr");
      for (let k = 0; k < width; k += 1) {
        const cell = element(tag);
        if (tag === "th") cell.setAttribute("scope", "col");
        if (cells[k]) this.inline(parseInline(cells[k].text, cells[k].start), cell);
        tr.append(cell);
      }
      return tr;
    }

    // The lines of a paragraph, one <br> between two.
    lines(lines, parent) {
      lines.forEach((line, index) => {
        if (index) parent.append(element("br"));
        this.inline(parseInline(line.text, line.start), parent);
      });
    }

    inline(nodes, parent) {
      for (const node of nodes) {
        if (node.type === "text") {
          this.text(node.text, node.start, parent);
        } else {
          const child = node.type === "link" ? linkElement(node.href) : element(node.type);
          this.inline(node.children, child);
          parent.append(child);
        }
      }
    }

    // Text whose first character is at `start` in the source, marked where the marks say.
    text(text, start, parent) {
      const end = start + text.length;
      let position = start;
      for (const mark of this.marks) {
        const from = Math.max(mark.start, position);
        const to = Math.min(mark.end, end);
        if (to <= from) continue;
        if (from > position) parent.append(document.createTextNode(text.slice(position - start, from - start)));
        const marked = text.slice(from - start, to - start);
        const previous = parent.lastChild;
        if (from === position && previous && previous.nodeName === "MARK") {
          previous.textContent += marked;  // one <mark> across an escape ("2 \| 3")
        } else {
          const node = element("mark");
          node.textContent = marked;
          parent.append(node);
        }
        position = to;
      }
      if (position < end) parent.append(document.createTextNode(text.slice(position - start)));
    }
  }

  // The Markdown `text` as a DocumentFragment; options.marks: [{start, end}] source
  // offsets to highlight; options.offset: the offset in the full source of text[0].
  function render(text, options = {}) {
    const fragment = document.createDocumentFragment();
    const builder = new Builder(options.marks);
    builder.blocks(parseBlocks(splitLines(String(text || ""), options.offset || 0)), fragment);
    return fragment;
  }

  // Inline Markdown only (a title, a table cell): no blocks.
  function renderInline(text, options = {}) {
    const fragment = document.createDocumentFragment();
    new Builder(options.marks).inline(parseInline(String(text || ""), options.offset || 0), fragment);
    return fragment;
  }

  // The text a reader sees, without the Markdown syntax (for one-line excerpts).
  function plainText(text) {
    const parts = [];
    const inline = (nodes) => nodes.map((n) => (n.type === "text" ? n.text : inline(n.children))).join("");
    const segment = (seg) => parts.push(inline(parseInline(seg.text, seg.start)));
    const walk = (blocks) => {
      for (const block of blocks) {
        if (block.type === "heading") segment(block.content);
        else if (block.type === "paragraph") block.lines.forEach(segment);
        else if (block.type === "quote") walk(block.children);
        else if (block.type === "list") block.items.forEach(walk);
        else if (block.type === "table") [block.head, ...block.rows].forEach((row) => row.forEach(segment));
      }
    };
    walk(parseBlocks(splitLines(String(text || ""), 0)));
    return parts.join(" ").replace(/\s+/g, " ").trim();
  }

  global.GuichetMarkdown = { render, renderInline, plainText, parseBlocks, splitLines, httpUrl, bareUrl };
})(window);
