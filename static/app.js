// FindMe's search page: starts a search through the register_search web action
// and polls search_status, showing matches as they are found. No build step.
"use strict";

const apiBase = (() => {
  const fromQuery = new URLSearchParams(location.search).get("api");
  const fromMeta = document.querySelector('meta[name="findme-api"]').content;
  return (fromQuery || fromMeta || `${location.origin}/api/v1/web/guest/findme`).replace(/\/$/, "");
})();
// A web-action secret (OpenWhisk's require-whisk-auth), given once as ?secret=...
const webSecret = (() => {
  const given = new URLSearchParams(location.search).get("secret");
  if (given) localStorage.setItem("findmeWebSecret", given);
  return localStorage.getItem("findmeWebSecret") || "";
})();
// The local engine also offers the folders under its photo root and their photos.
const localBase = new URL("/findme", apiBase).href;

const $ = (id) => document.getElementById(id);
const X_SOURCE = "\u0000x";  // never a folder name
let pollTimer = null;
let lastStatus = null;
let lastFolder = "";

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

// OpenWhisk answers 429 past its per-minute limits, with no Retry-After: wait
// for the next minute and ask again, never show it as a failure.
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function callAction(name, params, method = "POST") {
  for (let attempt = 0; attempt < 4; attempt += 1) {
    const answer = await callActionOnce(name, params, method);
    if (answer !== RATE_LIMITED) return answer;
    await sleep(60000 - (Date.now() % 60000) + 500);
  }
  throw new Error("FindMe is busy right now. Please try again in a minute.");
}

const RATE_LIMITED = Symbol("rate limited");

async function callActionOnce(name, params, method) {
  // .http: OpenWhisk passes the action's status code and JSON body through.
  const url = new URL(`${apiBase}/${name}.http`);
  const options = { method, headers: webSecret ? { "X-Require-Whisk-Auth": webSecret } : {} };
  if (method === "GET") {
    Object.entries(params).forEach(([k, v]) => url.searchParams.set(k, v));
  } else {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(params);
  }
  let response;
  try {
    response = await fetch(url, options);
  } catch (error) {
    throw new Error(`FindMe cannot be reached at ${apiBase} (${error.message}).`);
  }
  if (response.status === 429) return RATE_LIMITED;
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `The server answered ${response.status}.`);
  return body;
}

async function loadFolders() {
  try {
    // With a web secret the folders want it too; their answer sets the photos' cookie.
    const headers = webSecret ? { "X-Require-Whisk-Auth": webSecret } : {};
    const response = await fetch(`${localBase}/folders`, { headers });
    if (!response.ok) return;
    const { folders } = await response.json();
    const options = folders.map((f) => new Option(`Folder: ${f === "." ? "all photos" : f}`, f));
    options.push(new Option("Posts on X matching the search", X_SOURCE));
    $("folder").replaceChildren(...options);
    $("folder-field").hidden = folders.length === 0;
  } catch (_) { /* not the local engine: no folders to offer */ }
}

// OpenWhisk takes at most 1 MB a request: a phone photo (3-8 MB) is shrunk in
// the browser to 1600 px on its longest side, as JPEG, before it is sent.
const UPLOAD_SIDE = 1600;

async function shrunkForUpload(file) {
  if (file.size <= 600 * 1024) return readAsBase64(file);
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch (error) {
    return readAsBase64(file); // not a picture the browser can read: the server will say so
  }
  const scale = Math.min(1, UPLOAD_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.88));
  return readAsBase64(blob);
}

function readAsBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1]);
    reader.onerror = () => reject(new Error("Your photo could not be read."));
    reader.readAsDataURL(file);
  });
}

function photoUrl(match, folder) {
  if (/^https:\/\//.test(match.photo)) return match.photo;
  return `${localBase}/photos/${[folder, match.photo].filter((p) => p && p !== ".").map(encodeURI).join("/")}`;
}

function matchCard(match, folder) {
  const item = document.createElement("li");
  item.dataset.photo = match.photo;
  const frame = document.createElement("div");
  frame.className = "photo";
  const img = document.createElement("img");
  img.src = photoUrl(match, folder);
  img.alt = `Photo ${match.photo}`;
  img.loading = "lazy";
  const outline = document.createElement("div");
  outline.className = "face";
  frame.append(img, outline);
  const caption = document.createElement("div");
  caption.className = "caption";
  const link = document.createElement("a");
  link.href = match.post_url || img.src;
  link.target = "_blank";
  link.rel = "noopener";
  link.textContent = match.post_url ? "open the post" : match.photo;
  const distance = document.createElement("span");
  caption.append(link, distance);
  const review = document.createElement("div");
  review.className = "review";
  const yes = document.createElement("button");
  yes.type = "button";
  yes.className = "confirm";
  yes.textContent = "That's me";
  yes.title = "Confirm, and use this face to find more photos of you";
  yes.addEventListener("click", () => reviewMatch(match.photo, "confirm"));
  const no = document.createElement("button");
  no.type = "button";
  no.className = "reject";
  no.textContent = "Not me";
  no.addEventListener("click", () => reviewMatch(match.photo, "reject"));
  review.append(yes, no);
  item.append(frame, caption, review);
  updateCard(item, match);
  return item;
}

// Box, distance and confidence can change when a confirmed face re-ranks the photos.
function updateCard(item, match) {
  const [top, right, bottom, left] = match.box;
  Object.assign(item.querySelector(".face").style, {
    left: `${(100 * left) / match.width}%`, top: `${(100 * top) / match.height}%`,
    width: `${(100 * (right - left)) / match.width}%`, height: `${(100 * (bottom - top)) / match.height}%`,
  });
  const label = match.review === "confirmed" ? "confirmed" : match.confidence || "possible";
  item.querySelector(".caption span").innerHTML = "";
  item.querySelector(".caption span").append(`distance ${match.distance.toFixed(2)}`);
  const badge = document.createElement("b");
  badge.className = `badge ${label}`;
  badge.textContent = label;
  item.querySelector(".caption span").append(badge);
  item.querySelector(".review").hidden = match.review === "confirmed";
}

async function reviewMatch(photo, verdict) {
  try {
    await callAction("review_match", {
      job_id: lastStatus.job_id, photo, verdict, add_reference: verdict === "confirm",
    });
    const status = await callAction("search_status", { job_id: lastStatus.job_id }, "GET");
    render(status, lastFolder);
  } catch (error) {
    showError(error.message);
  }
}

function sortedMatches(matches) {
  const order = $("order").value;
  return [...matches].sort((a, b) =>
    order === "photo" ? a.photo.localeCompare(b.photo) : a.distance - b.distance);
}

const STATE_WORDS = {
  queued: "Waiting to start…", searching: "Looking for photos and your face…",
  comparing: "Comparing faces…", done: "Done.", failed: "The search failed.",
};

function render(status, folder) {
  $("progress").hidden = false;
  $("state").textContent = STATE_WORDS[status.state] || status.state;
  $("bar").max = Math.max(status.photos_total, 1);
  $("bar").value = status.photos_done;
  $("counts").textContent =
    `${status.photos_done} of ${status.photos_total} photos checked, ` +
    `${status.matches.length} with you, ${status.photos_failed} could not be read`;
  const list = $("matches");
  const cards = new Map([...list.children].map((li) => [li.dataset.photo, li]));
  const ordered = sortedMatches(status.matches).map((m) => {
    const card = cards.get(m.photo);
    if (card) updateCard(card, m);
    return card || matchCard(m, folder);
  });
  list.replaceChildren(...ordered);  // keeps existing cards (and their loaded images)
  $("results").hidden = status.matches.length === 0;
  lastStatus = status;
  lastFolder = folder;
  $("downloads").hidden = !(status.state === "done" && status.matches.length > 0);
  if (status.state === "failed") showError(`The search failed: ${status.error}.`);
}

// Polls after a second at first, slowing to every 5 s: each poll is an
// invocation, and OpenWhisk allows a namespace 60 a minute, pipeline included.
let pollDelay = 1000;

async function poll(jobId, folder) {
  try {
    const status = await callAction("search_status", { job_id: jobId }, "GET");
    render(status, folder);
    if (status.state === "done" || status.state === "failed") {
      $("start").disabled = false;
      return;
    }
    pollDelay = Math.min(pollDelay * 1.3, 5000);
  } catch (error) {
    showError(error.message);
    pollDelay = Math.min(pollDelay * 2, 5000);
  }
  pollTimer = setTimeout(() => poll(jobId, folder), pollDelay);
}

$("order").addEventListener("change", () => lastStatus && render(lastStatus, lastFolder));

$("threshold").addEventListener("input", () => {
  $("threshold-value").textContent = Number($("threshold").value).toFixed(2);
});

$("search").addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("");
  clearTimeout(pollTimer);
  const file = $("reference").files[0];
  const handle = $("handle").value.trim();
  if (!file && !handle) return showError("Choose a photo of yourself, or give your X username.");
  if (file && handle) return showError("Give either a photo or an X username, not both.");
  const chosen = $("folder-field").hidden ? X_SOURCE : $("folder").value;
  const folder = chosen === X_SOURCE ? "" : chosen;
  if (!folder && !$("query").value.trim()) return showError("Type what to search on X, like #pycon.");
  $("start").disabled = true;
  $("matches").replaceChildren();
  $("results").hidden = true;
  try {
    const params = {
      query: $("query").value.trim(),
      threshold: Number($("threshold").value),
    };
    if (file) params.reference_image = await shrunkForUpload(file);
    else params.handle = handle;
    Object.assign(params, folder ? { source: "folder", folder } : { source: "twitter" });
    const { job_id: jobId } = await callAction("register_search", params);
    poll(jobId, folder);
  } catch (error) {
    showError(error.message);
    $("start").disabled = false;
  }
});

$("delete-search").addEventListener("click", async () => {
  try {
    await callAction("delete_search", { job_id: lastStatus.job_id });
    $("matches").replaceChildren();
    $("results").hidden = true;
    $("progress").hidden = true;
  } catch (error) {
    showError(error.message);
  }
});
$("download-csv").addEventListener("click", () => {
  FindMeReport.save(FindMeReport.csv(lastStatus), "findme-matches.csv", "text/csv");
});
$("download-html").addEventListener("click", async () => {
  $("download-html").disabled = true;
  try {
    const page = await FindMeReport.html(lastStatus, (m) => photoUrl(m, lastFolder));
    FindMeReport.save(page, "findme-report.html", "text/html");
  } finally {
    $("download-html").disabled = false;
  }
});

loadFolders();
