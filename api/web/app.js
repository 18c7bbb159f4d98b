// guichet agents' page. No build step, no framework. The DOM is built with
// createElement / textContent only: message and passage text is never parsed as HTML
// (passages' Markdown is rendered by markdown.js, which builds the DOM the same way).
"use strict";

const VERDICT_REASONS = {
  weak_support: "Appui faible dans le passage cité",
  no_citation: "Phrase sans citation",
  invalid_citation: "Citation vers un passage qui n'existe pas",
  unsupported_number: "Chiffre absent des passages cités",
  contradicted: "Le passage cité dit le contraire",
  missing_condition: "Condition du passage cité omise",
  unsafe_content: "Lien, adresse ou numéro absent des sources",
};
const MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
  "septembre", "octobre", "novembre", "décembre"];
// The heading of the sources block the server appends to the draft text.
const SOURCES_HEADING = "Sources :";
// Who read each need ("Ce que nous avons compris").
const NEED_ORIGINS = {
  rules: "lue automatiquement",
  llm: "lue par le modèle de langue",
  agent: "corrigée par vous",
};
// The limits POST /api/drafts puts on corrected needs.
const MAX_NEEDS = 3;
const MAX_SITUATION_LINES = 6;
const MAX_NEED_CHARS = 1000;

// `request`: what the current draft was asked with (message, format, mode, audience),
// re-sent with the corrected needs. `needs`: the needs panel's blocks, in order.
const state = {
  draft: null, draftId: null, rating: null, editedReported: false, extraSources: [],
  request: null, needs: [], busy: false,
};

function say(message) {
  $("status").textContent = message;
}

function fail(message) {
  $("error").textContent = message;
}

// --- Sign in ---------------------------------------------------------------

async function checkKey() {
  fail("");
  try {
    const me = await api("/api/me");
    $("who").textContent = `Connecté : ${me.name} (${me.role})`;
    $("content-link").hidden = !["content", "admin"].includes(me.role);
    $("signin-form").hidden = true;
    $("signed-in").hidden = false;
    $("workspace").hidden = false;
    $("api-key").value = "";
    say("Connecté. Collez le message de l'usager.");
    $("message").focus();
  } catch (error) {
    sessionStorage.removeItem(KEY_STORAGE);
    fail(error.message);
  }
}

function signOut(announce = true) {
  sessionStorage.removeItem(KEY_STORAGE);
  $("signin-form").hidden = false;
  $("signed-in").hidden = true;
  $("workspace").hidden = true;
  if (announce) say("Déconnecté.");
}

// --- Drafting --------------------------------------------------------------

async function requestDraft(event) {
  event.preventDefault();
  fail("");
  const message = $("message").value;
  if (!message.trim()) {
    fail("Le message est vide.");
    return;
  }
  const body = {
    message,
    format: $("format").value,
    mode: $("mode").value,
    audience: $("audience").value || null,
  };
  setBusy(true);
  // The needs shown were read from the previous message: hidden until the new draft comes.
  $("needs-form").hidden = true;
  say("Rédaction du brouillon…");
  try {
    const draft = await fetchDraft(body);
    showDraft(draft, body);
  } catch (error) {
    fail(error.message);
    say("");
    $("needs-form").hidden = !(state.draft && state.needs.length);
  } finally {
    setBusy(false);
  }
}

function fetchDraft(body) {
  return body.mode === "llm" ? streamDraft(body) : api("/api/drafts", { method: "POST", json: body });
}

// While a draft is being written, neither form can send another.
function setBusy(busy) {
  state.busy = busy;
  $("draft-button").disabled = busy;
  $("needs-button").disabled = busy;
  $("needs-form").setAttribute("aria-busy", String(busy));
  $("needs-list").querySelectorAll("textarea").forEach((field) => { field.readOnly = busy; });
  updateRemoveButtons();
}

async function streamDraft(body) {
  const response = await api("/api/drafts", {
    method: "POST", json: body, raw: true, headers: { Accept: "text/event-stream" },
  });
  if (!response.ok) {
    let data = null;
    try { data = await response.json(); } catch (_) { /* not JSON */ }
    throw new ApiError(explainError(response.status, data));
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let preview = "";
  $("draft-section").hidden = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const { event, data } = parseEvent(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
      if (event === "delta") {
        preview += data.text;
        $("draft-view").textContent = preview;
      } else if (event === "notice") {
        if (data.reset) preview = "";
        say(data.text || "");
      } else if (event === "draft") {
        return data;
      } else if (event === "error") {
        throw new ApiError(explainError(STREAM_ERROR_STATUS[data.error] || 502, data));
      }
    }
  }
  throw new ApiError("La rédaction s'est interrompue avant la fin.");
}

function parseEvent(block) {
  let event = "message";
  const lines = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) lines.push(line.slice(5).trimStart());
  }
  return { event, data: lines.length ? JSON.parse(lines.join("\n")) : {} };
}

function showDraft(draft, request) {
  state.draft = draft;
  state.request = request;
  state.draftId = draft.id;
  state.rating = null;
  state.editedReported = false;
  state.extraSources = [];
  $("draft-section").hidden = false;
  setEditing(false);
  $("draft-text").value = draft.text;
  renderNotices(draft);
  renderDraftText(draft);
  renderSourceList();
  resetFeedback();
  renderSummary(draft);
  renderNeeds(draft);
  clear($("source-detail"));
  $("source-detail").append(el("p", { className: "help", text: "Sélectionnez une citation [n] dans le brouillon." }));
  say(draftStatus(draft));
}

function draftStatus(draft) {
  return draft.abstained
    ? "Les fiches ne couvrent pas cette question : le brouillon le signale."
    : `Brouillon prêt : ${draft.citations.length} passage${draft.citations.length > 1 ? "s" : ""} cité${draft.citations.length > 1 ? "s" : ""}.`;
}

// --- What was understood: the needs, corrected and drafted again ------------------

function renderNeeds(draft) {
  state.needs = (draft.needs || []).map((need) => ({
    question: String(need.question || ""),
    situation: (need.situation || []).join("\n"),
    source: need.source || "",
    asked: need.asked !== false,
  }));
  const note = $("needs-note");
  note.textContent = draft.abstained
    ? "Aucune fiche ne répond avec certitude à ces questions telles que nous les avons comprises. "
      + "Si l'une d'elles a été mal lue, corrigez-la et rédigez à nouveau."
    : "";
  note.hidden = !draft.abstained;
  renderNeedList();
  $("needs-form").hidden = state.needs.length === 0;
}

function renderNeedList() {
  const list = $("needs-list");
  clear(list);
  state.needs.forEach((need, index) => list.append(needItem(need, index)));
  updateRemoveButtons();
}

function needItem(need, index) {
  const n = index + 1;
  const ids = { question: `need-question-${n}`, situation: `need-situation-${n}`, help: `need-situation-help-${n}`,
    unasked: `need-unasked-${n}` };
  const question = el("textarea", {
    id: ids.question, className: "need-question", rows: String(rowsFor(need.question, 2)),
    maxlength: String(MAX_NEED_CHARS), dataset: { field: "question" },
  });
  question.value = need.question;
  const situation = el("textarea", {
    id: ids.situation, className: "need-situation", rows: String(rowsFor(need.situation, 2)),
    "aria-describedby": ids.help, dataset: { field: "situation" },
  });
  situation.value = need.situation;
  for (const field of [question, situation]) {
    field.readOnly = state.busy;
    field.addEventListener("input", () => field.removeAttribute("aria-invalid"));
  }
  const head = el("div", { className: "need-head" }, [
    el("label", { for: ids.question, className: "need-title", text: `Question ${n}` }),
  ]);
  if (NEED_ORIGINS[need.source]) head.append(el("span", { className: "need-origin", text: NEED_ORIGINS[need.source] }));
  head.append(el("button", {
    type: "button", className: "need-remove", text: "Retirer", "aria-label": `Retirer la question ${n}`,
    onclick: () => removeNeed(index),
  }));
  const item = el("li", { className: "need", dataset: { index: String(index) } }, [head]);
  if (!need.asked) {
    item.append(el("p", { id: ids.unasked, className: "help", text:
      "Le message ne pose pas de question explicite : il a été pris en entier comme question." }));
    question.setAttribute("aria-describedby", ids.unasked);
  }
  item.append(
    question,
    el("label", { for: ids.situation, className: "need-situation-label" }, [
      "Situation prise en compte",
      el("span", { className: "visually-hidden", text: ` (question ${n})` }),
    ]),
    el("p", { id: ids.help, className: "help need-help", text: "Une phrase par ligne ; laissez vide si rien ne compte." }),
    situation,
  );
  return item;
}

function rowsFor(text, least) {
  const lines = String(text).split("\n").reduce((sum, line) => sum + Math.max(1, Math.ceil(line.length / 60)), 0);
  return Math.min(8, Math.max(least, lines));
}

function updateRemoveButtons() {
  const buttons = $("needs-list").querySelectorAll(".need-remove");
  buttons.forEach((button) => {
    button.disabled = state.busy || buttons.length <= 1;
    button.title = buttons.length <= 1 ? "Il faut garder au moins une question." : "";
  });
}

// The panel's blocks as edited (their source and `asked` kept for the labels).
function editedNeeds() {
  return [...$("needs-list").querySelectorAll(".need")].map((item, index) => ({
    ...state.needs[index],
    question: item.querySelector('[data-field="question"]').value,
    situation: item.querySelector('[data-field="situation"]').value,
  }));
}

function removeNeed(index) {
  const needs = editedNeeds();
  if (state.busy || needs.length <= 1) return;
  needs.splice(index, 1);
  state.needs = needs;
  renderNeedList();
  $(`need-question-${Math.min(index, needs.length - 1) + 1}`).focus();
  say(`Question ${index + 1} retirée : il reste ${needs.length} question${needs.length > 1 ? "s" : ""}.`);
}

function situationLines(text) {
  return text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
}

// The needs to send, or null after showing (in French) what to fix first.
function needsToSend() {
  const needs = [];
  const edited = editedNeeds();
  if (edited.length > MAX_NEEDS) {
    fail(`${MAX_NEEDS} questions au plus : retirez-en ${edited.length - MAX_NEEDS}.`);
    return null;
  }
  for (const [index, need] of edited.entries()) {
    const n = index + 1;
    const question = need.question.trim();
    const situation = situationLines(need.situation);
    let problem = null;
    let field = "question";
    if (!question) problem = `La question ${n} est vide : complétez-la ou retirez-la.`;
    else if (question.length > MAX_NEED_CHARS) problem = `La question ${n} dépasse ${MAX_NEED_CHARS} caractères.`;
    else if (situation.length > MAX_SITUATION_LINES) {
      problem = `La situation de la question ${n} compte ${situation.length} lignes : gardez-en ${MAX_SITUATION_LINES} au plus.`;
      field = "situation";
    } else if (situation.some((line) => line.length > MAX_NEED_CHARS)) {
      problem = `Une ligne de la situation de la question ${n} dépasse ${MAX_NEED_CHARS} caractères.`;
      field = "situation";
    }
    if (problem) {
      const target = $(`need-${field}-${n}`);
      target.setAttribute("aria-invalid", "true");
      target.focus();
      fail(problem);
      return null;
    }
    needs.push({ question, situation });
  }
  return needs;
}

async function redraftWithNeeds(event) {
  event.preventDefault();
  fail("");
  if (state.busy || !state.request) return;
  const needs = needsToSend();
  if (!needs) return;
  // The same message, format, audience and mode as the current draft; only the needs change.
  const request = { ...state.request };
  delete request.needs;
  const previous = state.draft;
  setBusy(true);
  say("Nouvelle rédaction avec vos questions…");
  try {
    const draft = await fetchDraft({ ...request, needs });
    showDraft(draft, request);
    const count = (draft.needs || needs).length;
    say(`Rédigé à nouveau avec ${count === 1 ? "votre question" : `vos ${count} questions`}. ${draftStatus(draft)}`);
    $("draft-title").focus();
  } catch (error) {
    fail(error.message);
    say("");
    // A stream cut short leaves its preview: the draft it was to replace is shown again.
    if (previous) renderDraftText(previous);
  } finally {
    setBusy(false);
  }
}

function isFlagged(sentence) {
  return sentence.verdict !== "supported" && sentence.verdict !== "not_a_claim";
}

// The status line above the draft: what happened, in one sentence.
function draftSummary(draft) {
  const flagged = draft.sentences.filter(isFlagged).length;
  const claims = draft.sentences.filter((s) => s.verdict !== "not_a_claim").length;
  const toCheck = `${flagged} phrase${flagged > 1 ? "s" : ""} à vérifier (surlignée${flagged > 1 ? "s" : ""}).`;
  if (draft.abstained) {
    const text = "Aucune fiche ne répond avec certitude : le brouillon le dit à l'usager.";
    return { kind: "abstained", text: flagged ? `${text} ${toCheck}` : text };
  }
  if (flagged) return { kind: "flagged", text: toCheck };
  if (claims) return { kind: "supported", text: "Toutes les phrases sont appuyées par un passage cité." };
  return { kind: "empty", text: "Le brouillon ne contient aucune affirmation à sourcer." };
}

function renderSummary(draft) {
  const summary = draftSummary(draft);
  const node = $("flag-summary");
  node.textContent = summary.text;
  node.className = `flag-summary ${summary.kind}`;
  node.dataset.kind = summary.kind;
}

function renderNotices(draft) {
  const list = $("notices");
  clear(list);
  for (const notice of draft.notices || []) list.append(el("li", { text: notice }));
}

function renderDraftText(draft) {
  const view = $("draft-view");
  clear(view);
  const sentences = [...draft.sentences].sort((a, b) => a.start - b.start);
  // The sources block the text ends with (e-mail format) is shown compact, from
  // draft.sources; the text copied keeps it as the server wrote it.
  const cut = sourcesBlockStart(draft.text, sentences);
  const text = cut >= 0 ? draft.text.slice(0, cut).trimEnd() : draft.text;
  let position = 0;
  sentences.forEach((sentence, index) => {
    if (sentence.start >= text.length) return;
    if (sentence.start > position) view.append(withChips(text.slice(position, sentence.start), null));
    view.append(sentenceNode(sentence, index, text.slice(sentence.start, sentence.end)));
    position = Math.max(position, sentence.end);
  });
  if (position < text.length) view.append(withChips(text.slice(position), null));
  if (cut >= 0) {
    const block = el("div", { className: "draft-sources", "aria-label": "Sources du brouillon" }, [
      el("p", { className: "draft-sources-title", text: SOURCES_HEADING }),
    ]);
    const sources = draft.sources || [];
    if (sources.length) {
      const list = el("ul", { className: "compact-sources" });
      for (const source of sources) list.append(sourceItem(source));
      block.append(list);
    } else {
      block.append(withChips(draft.text.slice(cut + SOURCES_HEADING.length).trim(), null));
    }
    view.append(block);
  }
}

// Where the trailing "Sources :" block starts in the draft text (after every sentence), or -1.
function sourcesBlockStart(text, sentences) {
  const lastEnd = Math.max(0, ...sentences.map((s) => s.end));
  const at = text.lastIndexOf(`\n${SOURCES_HEADING}\n`);
  if (at >= 0 && at + 1 >= lastEnd) return at + 1;
  if (text.startsWith(`${SOURCES_HEADING}\n`) && lastEnd === 0) return 0;
  return -1;
}

function sentenceNode(sentence, index, text) {
  const span = el("span", { className: "sentence", dataset: { index: String(index), verdict: sentence.verdict } });
  span.append(withChips(text, sentence));
  if (isFlagged(sentence)) {
    const reason = sentence.reason || VERDICT_REASONS[sentence.verdict] || "À vérifier";
    span.classList.add("flagged");
    span.title = `À vérifier : ${reason}`;
    const note = el("span", { className: "flag-note", text: ` ⚠ À vérifier : ${reason}` });
    if (sentence.suggested_citation && findCitation(sentence.suggested_citation)) {
      note.append(" Voir ", chip(sentence.suggested_citation, sentence));
    }
    span.append(note);
  }
  return span;
}

// Text with its [n] markers turned into buttons (chips) and its http(s) URLs into links.
function withChips(text, sentence) {
  const fragment = document.createDocumentFragment();
  const pattern = /\[(\d+)\]|\bhttps?:\/\/[^\s<>"]+/gi;
  let last = 0;
  let match;
  while ((match = pattern.exec(text)) !== null) {
    let node = null;
    let length = match[0].length;
    if (match[1] !== undefined) {
      node = chip(Number(match[1]), sentence);
    } else {
      const url = GuichetMarkdown.bareUrl(match[0]);
      if (url) {
        node = externalLink(url, url);
        length = url.length;
      }
    }
    if (!node) continue;
    if (match.index > last) fragment.append(document.createTextNode(text.slice(last, match.index)));
    fragment.append(node);
    last = match.index + length;
    pattern.lastIndex = last;
  }
  if (last < text.length) fragment.append(document.createTextNode(text.slice(last)));
  return fragment;
}

function externalLink(url, text) {
  return el("a", { href: safeUrl(url), target: "_blank", rel: "noopener noreferrer", text });
}

function chip(number, sentence) {
  const citation = findCitation(number);
  const label = citation ? `Citation ${number} : ${citation.title}` : `Citation ${number} (passage introuvable)`;
  return el("button", {
    type: "button",
    className: citation ? "chip" : "chip invalid",
    "aria-label": label,
    title: label,
    dataset: { n: String(number) },
    text: `[${number}]`,
    onclick: () => showCitation(number, sentence),
  });
}

function findCitation(number) {
  const all = [...(state.draft ? state.draft.citations : []), ...state.extraSources.map((s) => s.citation)];
  return all.find((c) => c.number === number) || null;
}

function sourceFor(citation) {
  const sources = [...(state.draft ? state.draft.sources : []), ...state.extraSources.map((s) => s.source)];
  return sources.find((s) => s.fiche_id === citation.fiche_id) || null;
}

// --- Sources panel -----------------------------------------------------------

function showCitation(number, sentence) {
  const panel = $("source-detail");
  clear(panel);
  document.querySelectorAll(".chip.selected").forEach((node) => node.classList.remove("selected"));
  document.querySelectorAll(`.chip[data-n="${number}"]`).forEach((node) => node.classList.add("selected"));
  const citation = findCitation(number);
  if (!citation) {
    panel.append(el("p", { className: "error", text: `La citation [${number}] ne renvoie à aucun passage.` }));
    panel.focus();
    return;
  }
  const source = sourceFor(citation);
  panel.append(el("h3", { text: `[${number}] ${citation.title}` }));
  const crumbs = (citation.breadcrumb || []).slice(1);
  if (crumbs.length) panel.append(el("p", { className: "breadcrumb", text: crumbs.join(" › ") }));
  panel.append(el("p", { className: "date", text: publisherLine(citation) }));
  if (citation.url) {
    const site = (SOURCE_SITES[citation.source] || SOURCE_SITES["service-public"]);
    panel.append(el("p", {}, [externalLink(citation.url, `Voir la fiche sur ${site}`)]));
  }
  for (const notice of citation.law_changes || []) {
    panel.append(el("p", { className: "law-changed", role: "note", text: `Attention : ${notice}.` }));
  }
  const spans = sentence ? (sentence.support || []).filter((s) => s.citation === number) : [];
  const passage = passageNode(citation, spans);
  panel.append(passage);
  if ((citation.articles || []).length) panel.append(articlesNode(citation.articles));
  const references = source ? source.legal_references || [] : [];
  if (references.length) panel.append(legalReferences(references));
  panel.focus({ preventScroll: true });
  const mark = passage.querySelector("mark");
  if (mark) mark.scrollIntoView({ block: "nearest" });
}

// The cited passage, its Markdown rendered, the support spans (offsets in
// citation.text) marked. Its first line repeats the breadcrumb shown above: left out
// unless a span covers part of it.
function passageNode(citation, spans) {
  const text = String(citation.text || "");
  const marks = spans.map((s) => ({ start: s.start, end: s.end }));
  const block = el("blockquote", { className: "passage" });
  let offset = 0;
  const newline = text.indexOf("\n");
  const crumbs = citation.breadcrumb || [];
  if (newline > 0 && crumbs.length && text.slice(0, newline) === crumbs.join(" > ")) {
    if (marks.some((m) => m.start < newline && m.end > 0)) {
      const path = GuichetMarkdown.renderInline(text.slice(0, newline), { marks });
      block.append(el("p", { className: "passage-path" }, [path]));
    }
    offset = newline + 1;
  }
  block.append(GuichetMarkdown.render(text.slice(offset), { marks, offset }));
  return block;
}

const SOURCE_NAMES = {
  "service-public": "service-public.fr",
  "travail-emploi": "Ministère du Travail",
  cdtn: "Code du travail numérique",
};
const SOURCE_SITES = {
  "service-public": "service-public.fr",
  "travail-emploi": "travail-emploi.gouv.fr",
  cdtn: "code.travail.gouv.fr",
};

// "Ministère du Travail, fiche mise à jour le 13/11/2025".
function publisherLine(citation) {
  const source = citation.source || "service-public";
  const name = SOURCE_NAMES[source] || source;
  const kind = source === "cdtn" ? "réponse" : "fiche";
  return citation.date ? `${name}, ${kind} mise à jour le ${formatDate(citation.date)}` : name;
}

// The articles of the codes the passage's fiche cites, folded, each expandable:
// number, version in force and its start date, text.
function articlesNode(articles) {
  const list = el("ul", { className: "articles" });
  for (const article of articles) {
    const status = article.status === "VIGUEUR" ? "en vigueur" : article.status.toLowerCase();
    const head = `${article.code}, article ${article.number} — version ${status} depuis le ${formatDate(article.start)}`;
    const summary = el("summary", { text: article.changed_after_fiche ? `${head} (modifié après la fiche)` : head });
    const body = el("p", { className: "article-text", text: article.text });
    list.append(el("li", {}, [el("details", { className: "article" }, [summary, body, el("p", {}, [externalLink(article.url, "Sur Légifrance")])])]));
  }
  return el("details", { className: "law-articles" }, [
    el("summary", { text: `Articles de loi cités (${articles.length})` }),
    list,
  ]);
}

// Légifrance references, folded: "Références juridiques (3)".
function legalReferences(references) {
  const list = el("ul", { className: "legal" });
  for (const ref of references) list.append(el("li", {}, [externalLink(ref.url, ref.label || ref.url)]));
  return el("details", { className: "legal-references" }, [
    el("summary", { text: `Références juridiques (${references.length})` }),
    list,
  ]);
}

function safeUrl(url) {
  try {
    const parsed = new URL(url, window.location.href);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : "#";
  } catch (_) {
    return "#";
  }
}

function formatDate(iso) {
  const [year, month, day] = String(iso).split("-");
  return day && month && year ? `${day}/${month}/${year}` : String(iso);
}

// "2020-08-01" → "1er août 2020", as in the draft's sources block.
function frenchDate(iso) {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(iso || ""));
  if (!match) return String(iso || "");
  const day = Number(match[3]);
  const month = MONTHS[Number(match[2]) - 1];
  return month ? `${day === 1 ? "1er" : day} ${month} ${match[1]}` : String(iso);
}

// The sources panel, from draft.sources (both formats) and the sources added.
function renderSourceList() {
  const list = $("source-list");
  clear(list);
  const sources = [...(state.draft ? state.draft.sources || [] : []), ...state.extraSources.map((s) => s.source)];
  for (const source of sources) list.append(sourceItem(source));
  $("source-none").hidden = !state.draft || sources.length > 0;
}

// One line per fiche: [n] title — section, mis à jour le …; legal references folded.
function sourceItem(source) {
  const numbers = el("span", { className: "numbers" });
  for (const number of source.numbers || []) numbers.append(chip(number, null));
  const line = el("span", { className: "source-line" }, [
    numbers,
    " ",
    source.url ? externalLink(source.url, source.title) : el("span", { text: source.title }),
  ]);
  const details = [];
  if ((source.sections || []).length) details.push(source.sections.join(" ; "));
  if (source.date) details.push(`mis à jour le ${frenchDate(source.date)}`);
  if (details.length) line.append(el("span", { className: "source-meta", text: ` — ${details.join(", ")}` }));
  const item = el("li", { className: "source", dataset: { fiche: source.fiche_id || "" } }, [line]);
  const references = source.legal_references || [];
  if (references.length) item.append(legalReferences(references));
  return item;
}

// --- Edit, copy, feedback ------------------------------------------------------

function currentText() {
  return $("draft-text").value;
}

function setEditing(editing) {
  $("draft-text").hidden = !editing;
  $("draft-view").hidden = editing;
  $("edit-button").setAttribute("aria-pressed", String(editing));
  $("edit-button").textContent = editing ? "Voir les citations" : "Modifier le texte";
}

function toggleEdit() {
  const editing = $("draft-text").hidden;
  setEditing(editing);
  if (editing) $("draft-text").focus();
}

async function reportEdit() {
  if (!state.draftId || state.editedReported || currentText() === state.draft.text) return;
  state.editedReported = true;
  await sendEvent("edited", { chars_before: state.draft.text.length, chars_after: currentText().length });
}

async function sendEvent(type, details = {}) {
  try {
    await api(`/api/drafts/${encodeURIComponent(state.draftId)}/events`, { method: "POST", json: { type, details } });
  } catch (error) {
    fail(error.message);
  }
}

async function copyDraft() {
  const text = currentText();
  try {
    await navigator.clipboard.writeText(text);
    say("Brouillon copié dans le presse-papiers.");
  } catch (_) {
    $("draft-text").hidden = false;
    $("draft-text").select();
    document.execCommand("copy");
    say("Brouillon sélectionné : copiez-le avec Ctrl+C.");
  }
  await reportEdit();
  await sendEvent("copied", { chars: text.length });
}

function resetFeedback() {
  state.rating = null;
  $("thumb-up").setAttribute("aria-pressed", "false");
  $("thumb-down").setAttribute("aria-pressed", "false");
  $("reasons").hidden = true;
  $("feedback-send").hidden = true;
  $("feedback-send").disabled = false;
  clear($("reasons"));
}

function chooseRating(rating) {
  state.rating = rating;
  $("thumb-up").setAttribute("aria-pressed", String(rating === "up"));
  $("thumb-down").setAttribute("aria-pressed", String(rating === "down"));
  const box = $("reasons");
  clear(box);
  box.append(el("p", { className: "help", text: rating === "up" ? "Qu'est-ce qui était bien ? (facultatif)" : "Qu'est-ce qui n'allait pas ? (facultatif)" }));
  for (const reason of rating === "up" ? POSITIVE : NEGATIVE) {
    const id = `reason-${reason}`;
    box.append(el("span", { className: "reason" }, [
      el("input", { type: "checkbox", id, value: reason }),
      el("label", { for: id, text: REASON_LABELS[reason] }),
    ]));
  }
  box.hidden = false;
  $("feedback-send").hidden = false;
}

async function sendFeedback() {
  const reasons = [...$("reasons").querySelectorAll("input:checked")].map((input) => input.value);
  $("feedback-send").disabled = true;
  try {
    await reportEdit();
    await api(`/api/drafts/${encodeURIComponent(state.draftId)}/feedback`, {
      method: "POST", json: { rating: state.rating, reasons, final_text: currentText() },
    });
    say("Merci, votre avis est enregistré.");
    $("reasons").hidden = true;
    $("feedback-send").hidden = true;
  } catch (error) {
    fail(error.message);
    $("feedback-send").disabled = false;
  }
}

// --- Search and add a source -------------------------------------------------

async function searchFiches(event) {
  event.preventDefault();
  fail("");
  const question = $("search-q").value.trim();
  if (!question) return;
  const params = new URLSearchParams({ question, k: "5" });
  if ($("audience").value) params.set("audience", $("audience").value);
  const list = $("search-results");
  clear(list);
  try {
    const result = await api(`/api/search?${params}`);
    for (const hit of result.fiches) list.append(searchHit(hit));
    const found = result.fiches.length ? `${result.fiches.length} fiche(s) trouvée(s).` : "Aucune fiche trouvée.";
    say([found, ...(result.notices || [])].join(" "));
  } catch (error) {
    fail(error.message);
  }
}

function searchHit(hit) {
  const passage = hit.passages[0];
  const item = el("li", { className: "hit" }, [
    el("a", { href: safeUrl(hit.url), target: "_blank", rel: "noopener noreferrer", text: hit.title }),
    el("span", { className: "date", text: hit.date ? ` — mise à jour ${formatDate(hit.date)}` : "" }),
  ]);
  if (passage) item.append(el("p", { className: "excerpt", text: excerpt(passage.text) }));
  if (passage) {
    item.append(el("button", {
      type: "button", text: "Ajouter comme source", "aria-label": `Ajouter « ${hit.title} » comme source`,
      onclick: () => addSource(hit, passage),
    }));
  }
  return item;
}

function excerpt(text) {
  // The first line is the breadcrumb; the rest is Markdown, shown as plain text here.
  const body = GuichetMarkdown.plainText(text.split("\n").slice(1).join("\n")) || text;
  return body.length > 280 ? `${body.slice(0, 280)}…` : body;
}

function addSource(hit, passage) {
  if (!state.draft) {
    fail("Rédigez d'abord un brouillon pour y ajouter une source.");
    return;
  }
  const numbers = [...state.draft.citations, ...state.extraSources.map((s) => s.citation)].map((c) => c.number);
  const number = Math.max(0, ...numbers) + 1;
  const citation = { ...passage, number };
  const source = { numbers: [number], fiche_id: hit.fiche_id, title: hit.title, sections: [], date: hit.date, url: hit.url, legal_references: [] };
  state.extraSources.push({ citation, source });
  $("draft-text").value = `${currentText().trimEnd()}\n\n[${number}] ${hit.title} : ${hit.url}`;
  renderSourceList();
  setEditing(true);
  showCitation(number, null);
  say(`Source [${number}] ajoutée : ${hit.title}.`);
  sendEvent("source_added", { number });
}

// --- Start -------------------------------------------------------------------

function start() {
  $("signin-form").addEventListener("submit", signIn);
  $("signout").addEventListener("click", () => signOut(true));
  $("draft-form").addEventListener("submit", requestDraft);
  $("needs-form").addEventListener("submit", redraftWithNeeds);
  $("edit-button").addEventListener("click", toggleEdit);
  $("draft-text").addEventListener("blur", reportEdit);
  $("copy-button").addEventListener("click", copyDraft);
  $("thumb-up").addEventListener("click", () => chooseRating("up"));
  $("thumb-down").addEventListener("click", () => chooseRating("down"));
  $("feedback-send").addEventListener("click", sendFeedback);
  $("search-form").addEventListener("submit", searchFiches);
  document.addEventListener("guichet:unauthorized", () => signOut(false));
  if (sessionStorage.getItem(KEY_STORAGE)) checkKey();
}

document.addEventListener("DOMContentLoaded", start);
