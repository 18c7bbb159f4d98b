// What the agents' page (app.js) and the content team's page (contenu.js) share: the
// DOM helpers, the API client and the API's errors worded in French. No framework: the
// DOM is built with createElement / textContent only.
"use strict";

const KEY_STORAGE = "guichet.key";
const REASON_LABELS = {
  "faits_erronés": "Faits erronés",
  "sources_manquantes": "Sources manquantes",
  "trop_long": "Trop long",
  "incohérent": "Incohérent",
  "imprécis": "Imprécis",
  "fautes_de_langue": "Fautes de langue",
  "clair": "Clair",
  "complet": "Complet",
  "sources_fiables": "Sources fiables",
};
const NEGATIVE = ["faits_erronés", "sources_manquantes", "trop_long", "incohérent", "imprécis", "fautes_de_langue"];
const POSITIVE = ["clair", "complet", "sources_fiables"];
const $ = (id) => document.getElementById(id);

function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "text") node.textContent = value;
    else if (name === "className") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

// --- API -------------------------------------------------------------------

class ApiError extends Error {}

// The sign-in form of both pages: the key kept for the tab, then the page's own checkKey().
async function signIn(event) {
  event.preventDefault();
  const key = $("api-key").value.trim();
  if (!key) return;
  sessionStorage.setItem(KEY_STORAGE, key);
  await checkKey();
}

async function api(path, options = {}) {
  const headers = { Accept: "application/json", ...(options.headers || {}) };
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key) headers.Authorization = `Bearer ${key}`;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(options.json);
  }
  const response = await fetch(path, { method: options.method || "GET", headers, body: options.body });
  if (options.raw) return response;
  let data = null;
  try {
    data = await response.json();
  } catch (_) {
    data = null;
  }
  if (!response.ok) {
    if (response.status === 401) document.dispatchEvent(new Event("guichet:unauthorized"));
    throw new ApiError(explainError(response.status, data));
  }
  return data;
}

// The API's errors in French: its stable codes (`error`, `reason`, `errors[].type`) and
// values (limits, roles) are worded here; its English `detail` is never shown.
const FIELD_NAMES = {
  message: "le message", final_text: "le texte envoyé", audience: "le public", format: "le format",
  mode: "le mode", needs: "les questions comprises", question: "la question", situation: "la situation",
  rating: "l'avis", reasons: "les raisons", type: "le type d'action", details: "les détails", k: "le nombre de résultats",
  theme: "le thème", confirm: "la confirmation", limit: "la limite",
};

function fieldName(field) {
  const parts = String(field || "").split(".").filter((part) => !/^\d+$/.test(part));
  const name = parts.length ? parts[parts.length - 1] : "";
  return FIELD_NAMES[name] || (name ? `le champ « ${name} »` : "la demande");
}

function frenchNumber(value) {
  return Number(value).toLocaleString("fr-FR");
}

function fieldMessage(error) {
  const field = fieldName(error.field);
  switch (error.type) {
    case "too_long":
      return `${field} compte ${frenchNumber(error.length)} caractères, au-delà de la limite de ${frenchNumber(error.limit)}`;
    case "string_too_long":
      return `${field} est trop long (${frenchNumber(error.max_length)} caractères au plus)`;
    case "too_long_list":
    case "list_too_long":
      return `${field} : trop d'éléments (${frenchNumber(error.max_length)} au plus)`;
    case "string_too_short":
    case "too_short":
      return `${field} est vide`;
    case "missing":
      return `${field} manque`;
    case "extra_forbidden":
      return `${field} n'est pas un champ attendu`;
    case "literal_error":
    case "enum":
      return `${field} n'accepte pas cette valeur (valeurs possibles : ${error.expected || "voir la documentation"})`;
    case "json_invalid":
      return "la demande n'est pas du JSON valide";
    case "json_object_expected":
      return "la demande doit être un objet JSON";
    default:
      return `${field} n'est pas valide`;
  }
}

// The `error` of a streamed draft's error event, as the HTTP status it stands for.
const STREAM_ERROR_STATUS = { invalid_request: 422, unavailable: 503, internal_error: 500, upstream_error: 502 };

function explainError(status, data) {
  const body = data || {};
  const reason = body.reason;
  if (status === 401) {
    return reason === "missing_key" ? "Clé refusée : aucune clé n'a été envoyée."
      : "Clé refusée : cette clé est inconnue ou a été révoquée.";
  }
  if (status === 403) {
    const roles = (body.required_roles || []).map((role) => `« ${role} »`).join(" ou ");
    return roles ? `Action non autorisée : elle demande le rôle ${roles} ; cette clé a le rôle « ${body.role} ».`
      : "Action non autorisée pour cette clé.";
  }
  if (status === 413) {
    const limit = body.limit_bytes ? ` (${frenchNumber(Math.round(body.limit_bytes / 1024))} Kio au plus)` : "";
    return `Message trop long : la demande dépasse la taille acceptée par le serveur${limit}.`;
  }
  if (status === 422 || status === 400) {
    if ((body.errors || []).length) return `Demande invalide : ${body.errors.map(fieldMessage).join(" ; ")}.`;
    if (reason === "invalid_message") return "Demande invalide : le message est vide ou ne contient aucun mot.";
    if (reason === "invalid_query") return "Demande invalide : la question est vide ou ne peut pas être cherchée ainsi.";
    if (reason === "invalid_json") return "Demande invalide : elle n'est pas du JSON valide.";
    return "Demande invalide.";
  }
  if (status === 429) {
    const wait = body.retry_after_s ? ` dans ${body.retry_after_s} s` : " dans un instant";
    return `Trop de demandes avec cette clé : réessayez${wait}.`;
  }
  return {
    404: "Introuvable : ce brouillon ou cette fiche n'existe pas (ou plus).",
    405: "Action impossible sur cette adresse.",
    409: "Un réindexage est déjà en cours : attendez qu'il se termine.",
    500: "Erreur interne du serveur ; elle a été consignée.",
    502: "Le service de rédaction a échoué.",
    503: "Service indisponible : l'index ne répond pas pour le moment.",
  }[status] || `Erreur ${status}.`;
}
