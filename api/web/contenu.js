// guichet content team's page: the needs the fiches left unanswered, grouped by topic,
// the agents' feedback over time, the index and its runs, a reindex button.
// Roles content and admin; an agent key sees why each part is refused.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const WEEKS = 8;
// One colour per feedback reason (negative ones warm, positive ones green-blue).
const REASON_COLOURS = {
  "faits_erronés": "#ce0500", "sources_manquantes": "#b34000", "trop_long": "#e4794a",
  "incohérent": "#a558a0", "imprécis": "#c3992a", "fautes_de_langue": "#7d4e5b",
  "clair": "#18753c", "complet": "#00a95f", "sources_fiables": "#0063cb",
};
const RUN_STATES = { running: "en cours", succeeded: "réussi", failed: "échoué" };
const RUN_ORIGINS = { api: "la page ou l'API", cli: "la ligne de commande" };

function svg(tag, attributes = {}, children = []) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  for (const child of children) node.append(child);
  return node;
}

function say(message) { $("status").textContent = message; }
function fail(message) { $("error").textContent = message; }

function shortDate(iso) {
  return new Date(iso).toLocaleDateString("fr-FR", { day: "numeric", month: "short" });
}

function dateTime(iso) {
  return iso ? new Date(iso).toLocaleString("fr-FR", { dateStyle: "short", timeStyle: "short" }) : "";
}

// --- Sign in -----------------------------------------------------------------

async function checkKey() {
  fail("");
  try {
    const me = await api("/api/me");
    $("who").textContent = `Connecté : ${me.name} (${me.role})`;
    $("signin-form").hidden = true;
    $("signed-in").hidden = false;
    $("content-workspace").hidden = false;
    $("api-key").value = "";
    if (!["content", "admin"].includes(me.role)) {
      say("Cette page est celle des équipes contenu (rôles « content » et « admin ») : cette clé n'en voit qu'une partie.");
    } else {
      say("Connecté.");
    }
    await loadAll();
  } catch (error) {
    sessionStorage.removeItem(KEY_STORAGE);
    fail(error.message);
  }
}

function signOut() {
  sessionStorage.removeItem(KEY_STORAGE);
  $("signin-form").hidden = false;
  $("signed-in").hidden = true;
  $("content-workspace").hidden = true;
}

async function loadAll() {
  await Promise.all([loadGaps(), loadFeedback(), loadIndex()]);
}

// Each part says its own error: one refused part leaves the others shown.
async function loadPart(errorId, load) {
  $(errorId).textContent = "";
  try {
    await load();
  } catch (error) {
    $(errorId).textContent = error.message;
  }
}

// --- Needs without an answer -------------------------------------------------

function loadGaps() {
  return loadPart("gaps-error", async () => {
    const data = await api(`/api/gaps/groups?weeks=${WEEKS}`);
    $("gaps-weeks").textContent = String(data.weeks.length);
    renderGroups(data);
  });
}

function renderGroups(data) {
  const list = $("gap-groups");
  clear(list);
  if (!data.groups.length) {
    list.append(el("p", { className: "help", text: "Aucun besoin sans réponse sur la période." }));
    return;
  }
  data.groups.forEach((group, index) => list.append(renderGroup(group, data.weeks, index)));
}

function renderGroup(group, weeks, index) {
  const titleId = `group-${index}`;
  const questions = group.questions.map((q) => el("li", {
    text: q.count > 1 ? `${q.question} (${q.count} fois)` : q.question,
  }));
  const drafts = group.drafts.map((draft) => el("li", {}, [
    el("span", { className: "source-meta", text: `${dateTime(draft.created_at)} — ` }),
    el("span", { className: "masked-message", text: draft.message || "(texte supprimé à l'échéance de conservation)" }),
  ]));
  const nearest = group.nearest.map((fiche) => el("li", {}, [
    el("a", { href: fiche.url, text: fiche.title, target: "_blank", rel: "noopener" }),
    el("span", { className: "source-meta", text: ` (${fiche.fiche_id}, proche de ${fiche.count} besoin${fiche.count > 1 ? "s" : ""})` }),
  ]));
  return el("article", { className: "gap-group", "aria-labelledby": titleId, dataset: { topic: group.topic, count: String(group.count) } }, [
    el("h3", { id: titleId }, [
      document.createTextNode(group.topic),
      el("span", { className: "count", text: ` — ${group.count} besoin${group.count > 1 ? "s" : ""}` }),
    ]),
    weeklyBars(group.per_week, weeks, `${group.topic} : besoins par semaine`),
    el("h4", { text: "Fiches les plus proches" }),
    nearest.length ? el("ul", { className: "nearest" }, nearest) : el("p", { className: "help", text: "Aucune fiche proche." }),
    el("details", {}, [el("summary", { text: `Questions (${group.questions.length})` }), el("ul", {}, questions)]),
    el("details", {}, [el("summary", { text: `Brouillons à l'origine (${group.drafts.length})` }), el("ul", {}, drafts)]),
  ]);
}

function weeklyBars(counts, weeks, label) {
  const width = 16 * counts.length;
  const height = 32;
  const top = Math.max(1, ...counts);
  const chart = svg("svg", { class: "weekly", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `${label} : ${counts.join(", ")}` });
  counts.forEach((count, i) => {
    const barHeight = Math.round((height - 2) * count / top);
    const bar = svg("rect", { x: i * 16 + 2, y: height - barHeight, width: 12, height: Math.max(barHeight, 1),
      fill: count ? "#000091" : "#d0d0d8" });
    bar.append(svg("title", {}, [document.createTextNode(`semaine du ${shortDate(weeks[i])} : ${count}`)]));
    chart.append(bar);
  });
  return chart;
}

// --- Feedback over time ------------------------------------------------------

function loadFeedback() {
  return loadPart("feedback-error", async () => {
    const data = await api(`/api/feedback/summary?weeks=${WEEKS}`);
    renderFeedbackPlot(data);
  });
}

// Stacked bars: one per week, a segment per reason given that week.
function renderFeedbackPlot(data) {
  const holder = $("feedback-plot");
  clear(holder);
  const reasons = [...NEGATIVE, ...POSITIVE];
  const totals = data.weeks.map((_, week) => reasons.reduce((sum, r) => sum + data.reasons[r][week], 0));
  const top = Math.max(1, ...totals);
  const [width, height, left, bottom, top_margin] = [640, 220, 32, 28, 8];
  const step = (width - left) / data.weeks.length;
  const scale = (height - bottom - top_margin) / top;
  const plot = svg("svg", { id: "feedback-svg", viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "Raisons données par les agents, par semaine" });
  plot.append(svg("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, stroke: "#555" }));
  plot.append(svg("text", { x: left - 6, y: top_margin + 10, "text-anchor": "end", "font-size": 11 }, [document.createTextNode(String(top))]));
  plot.append(svg("text", { x: left - 6, y: height - bottom, "text-anchor": "end", "font-size": 11 }, [document.createTextNode("0")]));
  data.weeks.forEach((week, i) => {
    let y = height - bottom;
    for (const reason of reasons) {
      const count = data.reasons[reason][i];
      if (!count) continue;
      const h = count * scale;
      y -= h;
      const segment = svg("rect", { class: "bar", x: left + i * step + step * 0.15, y, width: step * 0.7, height: h,
        fill: REASON_COLOURS[reason], "data-reason": reason, "data-week": week });
      segment.append(svg("title", {}, [document.createTextNode(
        `${REASON_LABELS[reason]} : ${count} (semaine du ${shortDate(week)})`)]));
      plot.append(segment);
    }
    plot.append(svg("text", { x: left + i * step + step / 2, y: height - 8, "text-anchor": "middle", "font-size": 11 },
      [document.createTextNode(shortDate(week))]));
  });
  holder.append(plot);
  const up = data.ratings.up.reduce((a, b) => a + b, 0);
  const down = data.ratings.down.reduce((a, b) => a + b, 0);
  $("feedback-caption").textContent =
    `${up} avis « utile » et ${down} « à revoir » sur ${data.weeks.length} semaines ; ` +
    `${totals.reduce((a, b) => a + b, 0)} raisons données.`;
  const legend = $("feedback-legend");
  clear(legend);
  for (const reason of reasons) {
    const swatch = svg("svg", { width: 12, height: 12, "aria-hidden": "true" }, [svg("rect", { width: 12, height: 12, fill: REASON_COLOURS[reason] })]);
    legend.append(el("li", {}, [swatch, document.createTextNode(` ${REASON_LABELS[reason]}`)]));
  }
}

// --- Index, runs, reindex ------------------------------------------------------

function loadIndex() {
  return loadPart("index-error", async () => {
    const status = await api("/api/index/status");
    renderIndex(status);
  });
}

function renderIndex(status) {
  const facts = $("index-status");
  clear(facts);
  const index = status.index || {};
  const rows = [
    ["Version publiée", index.version ?? "aucune"],
    ["Fiches", index.fiches ?? "—"],
    ["Passages", index.chunks ?? "—"],
    ["Date des fiches", index.snapshot_date || "—"],
    ["Modèle d'embeddings", index.embedder || "—"],
    ["Réindexage en cours", status.running ? "oui" : "non"],
  ];
  if (status.index_error) rows.push(["Erreur de l'index", status.index_error]);
  for (const [name, value] of rows) facts.append(el("dt", { text: name }), el("dd", { text: String(value) }));
  const body = $("runs").querySelector("tbody");
  clear(body);
  for (const run of status.runs) {
    body.append(el("tr", { dataset: { origin: run.origin, status: run.status } }, [
      el("td", { text: dateTime(run.started_at) }),
      el("td", { text: RUN_ORIGINS[run.origin] || run.origin }),
      el("td", { text: RUN_STATES[run.status] || run.status }),
      el("td", { text: runResult(run) }),
    ]));
  }
}

function runResult(run) {
  if (run.status === "failed") return run.error ? "échec (voir le journal du serveur)" : "échec";
  const s = run.summary || {};
  if (run.status === "running" || s.added === undefined) return "";
  if (!s.published) return `aucun changement (${s.unchanged ?? 0} fiches inchangées)`;
  return `version ${s.version} : ${s.added} ajoutées, ${s.updated} modifiées, ${s.deleted} supprimées, ` +
    `${s.chunks_embedded ?? 0} passages calculés`;
}

async function reindex() {
  const button = $("reindex-button");
  button.disabled = true;
  $("reindex-status").textContent = "";
  $("index-error").textContent = "";
  try {
    const run = await api("/api/reindex", { method: "POST", json: {} });
    $("reindex-status").textContent = `Réindexage n° ${run.id} lancé : la liste ci-dessous le suivra.`;
    await loadIndex();
  } catch (error) {
    $("index-error").textContent = error.message;
  } finally {
    button.disabled = false;
  }
}

function start() {
  $("signin-form").addEventListener("submit", signIn);
  $("signout").addEventListener("click", signOut);
  $("reindex-button").addEventListener("click", reindex);
  document.addEventListener("guichet:unauthorized", signOut);
  if (sessionStorage.getItem(KEY_STORAGE)) checkKey();
}

document.addEventListener("DOMContentLoaded", start);
