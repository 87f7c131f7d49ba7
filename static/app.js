// FindMe's search page: starts a search through the register_search web action,
// follows it through search_status (backing off, waiting out 429s), and keeps a
// link to each search and a list of this browser's searches. No build step.
"use strict";

const $ = (id) => document.getElementById(id);
// Where to look: a folder's name, or one of these (a leading NUL: never a folder).
const SOURCE = "\u0000";
const SOURCES = {
  twitter: {
    choice: "Posts on X matching a search",
    query: ["What to search on X", "A hashtag or words, as you would type them in X's search."],
    missing: "Type what to search on X, like #pycon.",
  },
  mastodon: {
    choice: "Posts on Mastodon with a hashtag",
    query: ["Hashtags to look for", "One or more hashtags, like #pycon #pycon2026: a post with any of them counts."],
    missing: "Type the hashtags to look for on Mastodon, like #pycon.",
  },
  bluesky: {
    choice: "Posts on Bluesky matching a search",
    query: ["What to search on Bluesky", "A hashtag or words, as you would type them in Bluesky's search."],
    missing: "Type what to search on Bluesky, like #pycon.",
  },
  urls: { choice: "Photos at links you paste (from the organisers)" },
};
// Whose profile picture a username can be, as this FindMe offers them, and the
// shapes register_search tells them apart by (findme/sources/profiles.py).
const HANDLES = { x: "@name on X", mastodon: "@name@server on Mastodon", bluesky: "name.bsky.social on Bluesky" };
const NETWORKS = { x: "X", mastodon: "Mastodon", bluesky: "Bluesky" };
function networkOf(handle) {
  if (/^@?[A-Za-z0-9_]{1,15}$/.test(handle)) return "x";
  if (/^@?[A-Za-z0-9_]+(?:[.-]+[A-Za-z0-9_]+)*@[^@\s/]+$/.test(handle)) return "mastodon";
  if (/^@?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/.test(handle)) return "bluesky";
  return null;
}
const offered = { sources: {}, handles: ["x"] };  // handles: those HANDLES describes
const HISTORY = "findme:searches";
const MAX_SIDE = 1600;  // the selfie is shrunk in the browser: no request passes 1 MB
const MAX_UPLOAD_CHARS = 900_000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const current = { jobId: "", folder: "", label: "", status: null, generation: 0, photo: null };
const rejectedKey = (jobId) => `findme:rejected:${jobId}`;

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}
function flash(message) {
  $("flash").textContent = message;
  $("flash").hidden = !message;
}
function notice(message) {
  $("notice").textContent = message;
  $("notice").hidden = !message;
}
function announce(message) {
  $("announce").textContent = message;
}

// -- this browser's searches ---------------------------------------------------
function searches() {
  try { return JSON.parse(localStorage.getItem(HISTORY) || "[]"); } catch (_) { return []; }
}
function saveSearches(list) {
  localStorage.setItem(HISTORY, JSON.stringify(list.slice(0, 50)));
  drawHistory();
}
function remember(jobId, label) {
  saveSearches([{ job_id: jobId, api: FindMeApi.askedApi, label, created: Date.now() },
    ...searches().filter((s) => s.job_id !== jobId)]);
}
function forget(jobId) {
  saveSearches(searches().filter((s) => s.job_id !== jobId));
  localStorage.removeItem(rejectedKey(jobId));
}
function jobLink(jobId, api) {
  const query = new URLSearchParams({ job: jobId });
  if (api) query.set("api", api);
  return `${location.pathname}?${query}`;
}
function drawHistory() {
  const list = searches();
  $("history").hidden = list.length === 0;
  $("history-list").replaceChildren(...list.map((entry) => {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = jobLink(entry.job_id, entry.api);
    link.textContent = entry.label || "Search";
    if (entry.job_id === current.jobId) link.setAttribute("aria-current", "page");
    const when = document.createElement("span");
    const outcome = entry.state ? ` (${STATE_SHORT[entry.state] || entry.state}, ${entry.matches} photos of you)` : "";
    when.textContent = ` ${new Date(entry.created).toLocaleString()}${outcome} `;
    const drop = document.createElement("button");
    drop.type = "button";
    drop.className = "link";
    drop.textContent = "Remove from this list";
    drop.setAttribute("aria-label", `Remove ${entry.label || "search"} from this list`);
    drop.addEventListener("click", () => forget(entry.job_id));
    item.append(link, when, drop);
    return item;
  }));
}

// -- the form --------------------------------------------------------------------
async function loadFolders() {
  try {
    // With a web secret the folders want it too; their answer sets the photos' cookie.
    const response = await fetch(`${FindMeApi.localBase}/folders`, { headers: FindMeApi.secretHeaders() });
    if (!response.ok) throw new Error("no folders");
    return (await response.json()).folders;
  } catch (_) {
    return [];  // not the local engine: no folders
  }
}
// What the deployment offers changes only with its settings: this tab keeps the
// answer for 10 minutes, so reloading the page spends none of OpenWhisk's 60
// invocations a minute on it.
const SOURCES_KEPT_MS = 10 * 60_000;
async function loadSources() {
  const key = `findme:sources:${FindMeApi.base}`;
  let kept = null;
  try { kept = JSON.parse(sessionStorage.getItem(key) || "null"); } catch (_) { /* none kept */ }
  if (kept && Date.now() - kept.at < SOURCES_KEPT_MS) return kept.answer;
  for (let attempt = 0; ; attempt += 1) {
    try {
      const answer = await FindMeApi.call("sources", {}, "GET", { waitOut: false });
      try { sessionStorage.setItem(key, JSON.stringify({ at: Date.now(), answer })); } catch (_) { /* full */ }
      return answer;
    } catch (error) {
      // A FindMe from before the `sources` action searched X only.
      if (error.status === 404) return { sources: [{ source: "twitter" }], handles: ["x"] };
      if (kept) return kept.answer;  // an older answer beats none
      if (attempt >= 2) {
        showError("FindMe could not say where it can look right now. Reload the page in a minute.");
        return { sources: [], handles: [] };
      }
      await sleep(2000);
    }
  }
}
async function loadChoices() {
  $("start").disabled = true;  // until the places to look are known
  const [folders, sources] = await Promise.all([loadFolders(), loadSources()]);
  offered.sources = Object.fromEntries(sources.sources.map((s) => [s.source, s]));
  offered.handles = sources.handles.filter((kind) => HANDLES[kind]);
  const options = folders.map((f) => new Option(f === "." ? "All photos" : `Folder: ${f}`, f));
  for (const [name, { choice }] of Object.entries(SOURCES)) {
    if (offered.sources[name]) options.push(new Option(choice, SOURCE + name));
  }
  $("folder").replaceChildren(...options);
  $("folder-field").hidden = options.length < 2;  // nothing to choose from
  const servers = offered.sources.mastodon?.servers || [];
  $("known-servers").replaceChildren(...servers.map((name) => new Option(name)));
  if (servers.length === 1) $("servers").value = servers[0];
  const hosts = offered.sources.urls?.hosts || [];
  if (hosts.length) {
    $("urls-help").textContent = `Links starting with https:// on ${hosts.join(", ")}, up to ${offered.sources.urls.max_urls}.`;
  }
  const kinds = offered.handles;
  $("handle-label").textContent = kinds.length === 1 && kinds[0] === "x" ? "or your X username" : "or your username";
  $("handle-help").textContent = kinds.length
    ? `Uses your profile picture instead of a photo: ${kinds.map((k) => HANDLES[k]).join(", ")}.`
    : "This FindMe takes no usernames: choose a photo of yourself.";
  $("handle").disabled = !kinds.length;
  $("start").disabled = options.length === 0 || Boolean(current.jobId && !FINAL.has(current.status?.state));
  showQueryField();
}
// A folder, or the name of a source; with nothing offered, X as before.
function chosenSource() {
  const chosen = $("folder").value;
  if (!chosen) return { source: "twitter", folder: "" };
  return chosen.startsWith(SOURCE) ? { source: chosen.slice(1), folder: "" } : { source: "folder", folder: chosen };
}
function showQueryField() {
  const { source } = chosenSource();
  const labels = SOURCES[source]?.query;
  $("query-field").hidden = !labels;
  if (labels) [$("query-label").textContent, $("query-help").textContent] = labels;
  $("servers-field").hidden = source !== "mastodon";
  $("urls-field").hidden = source !== "urls";
}

// The search's name in this browser's list.
const distinct = (text, tidy = (v) => v) => [...new Set(text.split(/[\s,]+/).filter(Boolean).map(tidy))];
function labelOf(source, folder, params) {
  if (source === "folder") return folder === "." ? "All photos" : `Folder ${folder}`;
  if (source === "mastodon") {
    const servers = distinct(params.servers, (v) => v.toLowerCase().replace(/^https:\/\//, "").replace(/\/$/, ""));
    return `${params.query} on ${servers.join(", ")}`;
  }
  if (source === "bluesky") return `${params.query} on Bluesky`;
  if (source === "urls") {
    const links = distinct(params.urls).length;
    return links === 1 ? "1 photo link" : `${links} photo links`;
  }
  return params.query;
}

// A phone photo is 3-8 MB: shrink it to a JPEG of 1600 px at most, upright.
async function shrinkPhoto(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch (_) {
    if (file.size * 1.37 < MAX_UPLOAD_CHARS) return { blob: file, width: 0, height: 0 };
    throw new Error("Your browser cannot open this photo, and it is too large to send as it is. Choose a JPEG, PNG or WebP photo.");
  }
  for (const [side, quality] of [[MAX_SIDE, 0.9], [MAX_SIDE, 0.75], [1200, 0.75], [800, 0.7]]) {
    const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
    if (blob && blob.size * 1.37 < MAX_UPLOAD_CHARS) return { blob, width: canvas.width, height: canvas.height };
  }
  throw new Error("Your photo is too large to send. Choose a smaller photo.");
}

function asBase64(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1]);
    reader.onerror = () => reject(new Error("Your photo could not be read. Choose it again."));
    reader.readAsDataURL(blob);
  });
}

async function photoChosen() {
  showError("");
  current.photo = null;
  const file = $("reference").files[0];
  $("reference-preview").hidden = !file;
  if (!file) return;
  try {
    current.photo = await shrinkPhoto(file);
    $("reference-image").src = URL.createObjectURL(current.photo.blob);
    $("reference-caption").textContent = current.photo.width
      ? `This copy (${current.photo.width} × ${current.photo.height} px) is what is sent. FindMe uses the largest face in it.`
      : "Your browser cannot show this photo; it is sent as it is.";
  } catch (error) {
    $("reference-preview").hidden = true;
    showError(error.message);
  }
}

// -- following a search ------------------------------------------------------------
const STATE_WORDS = {
  queued: "Waiting to start…", searching: "Looking for photos and reading your face…",
  comparing: "Comparing faces…", done: "Done.", failed: "The search failed.",
  cancelled: "Stopped. The photos found so far are below.",
};
const FINAL = new Set(["done", "failed", "cancelled"]);
const STATE_SHORT = { done: "done", failed: "failed", cancelled: "stopped" };

function counts(status) {
  const found = `${status.matches.length} with you`;
  const unread = status.photos_failed ? `, ${status.photos_failed} could not be read` : "";
  if (!status.search_done && !FINAL.has(status.state)) {
    return `${status.photos_done} photos checked so far, ${found}${unread}. Still finding photos…`;
  }
  return `${status.photos_done} of ${status.photos_total} photos checked, ${found}${unread}.`;
}

function drawFailed(status) {
  $("failed-photos").hidden = status.failed.length === 0;
  $("failed-list").replaceChildren(...status.failed.slice(0, 500).map((f) => {
    const item = document.createElement("li");
    item.textContent = `${f.photo}: ${FindMeWords.photoReason(f.reason)}`;
    return item;
  }));
}

function render(status) {
  const before = current.status;
  current.status = status;
  if (status.source === "folder" && status.folder) current.folder = status.folder;
  if (!before && Number.isFinite(status.threshold)) FindMeResults.setFilterMax(status.threshold);
  if (!current.label) current.label = status.query || (status.folder === "." ? "All photos" : status.folder);
  $("progress").hidden = false;
  $("state").textContent = STATE_WORDS[status.state] || status.state;
  if (status.search_done || FINAL.has(status.state)) {
    $("bar").max = Math.max(status.photos_total, 1);
    $("bar").value = FINAL.has(status.state) && status.photos_total === 0 ? 1 : status.photos_done;
  } else {
    $("bar").removeAttribute("value");  // indeterminate while photos are still being listed
  }
  $("counts").textContent = counts(status);
  const small = status.photos_with_small_faces || 0;
  const notes = [
    status.warning,
    ...(status.reference_notes || []).map((n) => `Not used: ${n}.`),
    small && `${small === 1 ? "1 photo holds" : `${small} photos hold`} faces too small to compare reliably: a photo of you there can be missed.`,
  ].filter(Boolean);
  if (notes.length) notice(notes.join(" "));
  drawFailed(status);
  const ended = FINAL.has(status.state);
  $("cancel").hidden = ended;
  $("new-search").hidden = !ended;
  $("start").disabled = !ended;
  document.querySelectorAll(".final-only").forEach((b) => { b.hidden = !(ended && status.matches.length); });
  FindMeResults.show(status, current.folder);
  drawRejected();
  const found = status.matches.length;
  if (!before || before.matches.length !== found || before.state !== status.state) {
    announce(ended ? `${STATE_WORDS[status.state]} ${found} photos of you found. ${counts(status)}` : `${found} photos of you found so far.`);
  }
  if (ended && (!before || before.state !== status.state || before.matches.length !== found)) {
    saveSearches(searches().map((s) => (s.job_id === current.jobId ? { ...s, state: status.state, matches: found } : s)));
  }
  if (ended && (!before || !FINAL.has(before.state)) && found) {
    $("results").scrollIntoView({ behavior: "smooth", block: "start" });
  }
  if (ended && status.photos_total === 0 && status.state === "done") {
    notice(status.source === "folder" || !status.source
      ? "No photos were found to compare: the folder holds no JPEG, PNG, GIF, BMP, WebP or TIFF files."
      : "No photos were found to compare: no public post with a photo matched this search.");
  }
}

function ended(message) {
  $("state").textContent = "This search has ended.";
  $("cancel").hidden = true;
  $("new-search").hidden = false;
  $("start").disabled = false;
  showError(message);
  announce(message);
}

// Polls search_status: after about 1 s, rising to every 5 s.
async function follow(jobId, generation) {
  let delay = 1000;
  while (generation === current.generation) {
    try {
      const status = await FindMeApi.status(jobId);
      if (generation !== current.generation) return;
      notice("");
      render(status);
      if (status.state === "failed") {
        return ended(`The search failed: ${FindMeWords.inWords(status.error || "")}`);
      }
      if (FINAL.has(status.state)) return;
      // Every poll is an invocation, and OpenWhisk allows the namespace 60 a minute.
      delay = Math.min(5000, delay * 1.3);
    } catch (error) {
      if (generation !== current.generation) return;
      if (error.kind === "answer" && (error.status === 404 || error.status === 400)) {
        // An unknown job answers 404; a bad request 400.
        if (error.status === 404) forget(jobId);
        const words = FindMeWords.inWords(error.message);
        return ended(error.status === 404 ? words : `The search failed: ${words}`);
      }
      if (error.kind === "untrusted") return;
      // Unreachable or busy (OpenWhisk's 429) is not a failure: ask again, slower.
      notice(error.kind === "unreachable" ? "FindMe cannot be reached right now. Trying again…"
        : error.kind === "busy" ? "FindMe is busy. Checking again in a few seconds…" : FindMeWords.inWords(error.message));
      delay = error.kind === "busy" ? 5000 : Math.min(5000, delay * 1.5);
    }
    await sleep(delay);
  }
}

function openJob(jobId, folder, label) {
  current.generation += 1;
  current.jobId = jobId;
  current.folder = folder || "";
  current.label = label || "";
  current.status = null;
  FindMeResults.reset();
  showError("");
  notice("");
  flash("");
  $("progress").hidden = false;
  $("state").textContent = STATE_WORDS.queued;
  $("counts").textContent = "";
  $("bar").removeAttribute("value");
  $("job-link").href = jobLink(jobId, FindMeApi.askedApi);
  $("job-link").hidden = false;
  $("cancel").hidden = false;
  $("new-search").hidden = true;
  $("start").disabled = true;
  history.replaceState(null, "", jobLink(jobId, FindMeApi.askedApi));
  drawHistory();
  follow(jobId, current.generation);
}

// A reopened link finds its folder in this browser's list; the status says the rest.
async function reopen(jobId) {
  const known = searches().find((s) => s.job_id === jobId);
  openJob(jobId, known?.folder, known?.label);
}

async function startSearch(event) {
  event.preventDefault();
  showError("");
  flash("");
  const file = $("reference").files[0];
  const handle = $("handle").value.trim();
  const who = $("handle-label").textContent.replace(/^or /, "");
  if (!file && !handle) return showError(`Choose a photo of yourself, or give ${who}.`);
  if (file && handle) return showError(`Give either a photo or ${who}, not both: clear one of them.`);
  if (handle) {
    const network = networkOf(handle);
    if (!network || !offered.handles.includes(network)) {
      const takes = offered.handles.map((k) => HANDLES[k]).join(", ");
      return showError(network
        ? `This FindMe cannot use ${NETWORKS[network]} profile pictures: give ${takes}, or choose a photo of yourself.`
        : `That is not a username FindMe can use: give ${takes}, or choose a photo of yourself.`);
    }
  }
  const { source, folder } = chosenSource();
  const query = $("query").value.trim();
  if (SOURCES[source]?.missing && !query) return showError(SOURCES[source].missing);
  if (source === "mastodon" && !distinct($("servers").value).length) {
    return showError("Name the Mastodon servers to search, like mastodon.social.");
  }
  if (source === "urls" && !$("urls").value.trim()) return showError("Paste the links to the photos, one a line.");
  $("start").disabled = true;
  try {
    const params = { source, threshold: Number($("threshold").value) };
    if (source === "folder") params.folder = folder;
    if (SOURCES[source]?.query) params.query = query;
    if (source === "mastodon") params.servers = $("servers").value;
    if (source === "urls") params.urls = $("urls").value;
    if (file) {
      if (!current.photo) await photoChosen();
      if (!current.photo) throw new Error($("error").textContent || "Choose your photo again.");
      params.reference_image = await asBase64(current.photo.blob);
    } else {
      params.handle = handle;
    }
    const { job_id: jobId } = await FindMeApi.call("register_search", params);
    const label = labelOf(source, folder, params);
    remember(jobId, label);
    saveSearches(searches().map((s) => (s.job_id === jobId ? { ...s, folder } : s)));
    FindMeResults.setFilterMax(params.threshold);
    openJob(jobId, folder, label);
  } catch (error) {
    showError(error instanceof FindMeApi.ApiError && error.kind === "unreachable"
      ? "FindMe cannot be reached. Check your connection and try again." : FindMeWords.inWords(error.message));
    $("start").disabled = false;
  }
}

// -- review: confirm, reject, undo -------------------------------------------------
function rejectedPhotos() {
  try { return JSON.parse(localStorage.getItem(rejectedKey(current.jobId)) || "{}"); } catch (_) { return {}; }
}
function drawRejected() {
  const rejected = Object.values(rejectedPhotos());
  $("rejected").hidden = rejected.length === 0;
  $("rejected-title").textContent = `Photos you said are not you (${rejected.length})`;
  $("rejected-list").replaceChildren(...rejected.map((match) => {
    const item = document.createElement("li");
    const name = FindMeResults.displayName(match);
    const back = document.createElement("button");
    back.type = "button";
    back.className = "secondary";
    back.textContent = "Put back";
    back.setAttribute("aria-label", `Put back ${name}`);
    back.addEventListener("click", () => undoReject([match.photo]));
    item.append(`${name} `, back);
    return item;
  }));
}

async function refresh() {
  render(await FindMeApi.status(current.jobId));
}

async function review(photos, verdict) {
  showError("");
  const names = photos.map((p) => FindMeResults.displayName({ photo: p }));
  const cards = [...$("matches").children];
  const after = cards.findIndex((li) => photos.includes(li.dataset.photo));
  const rejected = rejectedPhotos();
  let addReference = verdict === "confirm";
  try {
    for (const photo of photos) {
      const match = current.status.matches.find((m) => m.photo === photo);
      try {
        await FindMeApi.call("review_match", { job_id: current.jobId, photo, verdict, add_reference: addReference });
      } catch (error) {
        if (!/references already/.test(error.message)) throw error;
        addReference = false;  // ten references: confirm the rest without adding them
        await FindMeApi.call("review_match", { job_id: current.jobId, photo, verdict, add_reference: false });
      }
      if (verdict === "reject" && match) rejected[photo] = match;
      FindMeResults.selected.delete(photo);
    }
  } catch (error) {
    showError(FindMeWords.inWords(error.message));
  }
  localStorage.setItem(rejectedKey(current.jobId), JSON.stringify(rejected));
  await refresh().catch((error) => showError(FindMeWords.inWords(error.message)));
  if (verdict === "reject") {
    const what = photos.length === 1 ? names[0] : `${photos.length} photos`;
    $("undo-text").textContent = `Removed ${what}.`;
    $("undo-bar").hidden = false;
    $("undo").onclick = () => undoReject(photos);
    announce(`Removed ${what}. Undo is available.`);
    // Focus stays where the person was: the next card, else the undo button.
    const next = $("matches").children[Math.max(0, after)];
    (next?.querySelector("button.reject") || $("undo")).focus();
  } else {
    announce(photos.length === 1 ? `${names[0]} confirmed.` : `${photos.length} photos confirmed.`);
  }
}

async function undoReject(photos) {
  const rejected = rejectedPhotos();
  try {
    for (const photo of photos) {
      try {
        await FindMeApi.call("review_match", { job_id: current.jobId, photo, verdict: "unreject" });
      } catch (error) {
        if (!/was not rejected/.test(error.message)) throw error;
      }
      delete rejected[photo];
    }
    localStorage.setItem(rejectedKey(current.jobId), JSON.stringify(rejected));
    $("undo-bar").hidden = true;
    await refresh();
    announce(photos.length === 1 ? "The photo is back." : `${photos.length} photos are back.`);
  } catch (error) {
    showError(FindMeWords.inWords(error.message));
  }
}

// -- downloads ------------------------------------------------------------------
function fileName(extension) {
  const folder = current.folder === "." ? "all-photos" : current.folder;
  const base = (current.status?.query || folder || "search")
    .replace(/[^\p{L}\p{N}]+/gu, "-").replace(/^-|-$/g, "").slice(0, 40) || "search";
  const day = new Date((current.status?.created || Date.now() / 1000) * 1000).toISOString().slice(0, 10);
  return `findme-${base}-${day}.${extension}`;
}

async function downloadPhotos(matches) {
  if (!matches.length) return;
  const status = $("download-status");
  const fromUrls = matches.some((m) => FindMeResults.isHttps(m.photo));
  if (!fromUrls) {
    // The local engine zips the originals; its length is known, so the
    // browser's own download shows an honest progress bar.
    const form = $("zip-form");
    form.action = `${FindMeApi.localBase}/zip`;
    form.elements.request.value = JSON.stringify({
      folder: current.folder || ".", photos: matches.map((m) => m.photo), name: fileName("zip"),
    });
    form.submit();
    status.textContent = `Your browser is downloading ${matches.length} photos as ${fileName("zip")}; its downloads list shows the progress.`;
    return;
  }
  // Photos from URLs: fetched here one by one, then zipped in the browser.
  const buttons = ["download-zip", "bulk-download"].map($);
  buttons.forEach((b) => { b.disabled = true; });
  let done = 0;
  let bytes = 0;
  const failed = [];
  async function* files() {
    for (const match of matches) {
      status.textContent = `Fetching photo ${done + 1} of ${matches.length} (${(bytes / 1e6).toFixed(1)} MB so far)…`;
      try {
        const response = await fetch(FindMeResults.originalUrl(match));
        if (!response.ok) throw new Error(String(response.status));
        const blob = await response.blob();
        bytes += blob.size;
        done += 1;
        yield { name: `${String(done).padStart(4, "0")}-${FindMeResults.displayName(match)}`, input: blob };
      } catch (_) {
        failed.push(match.photo);
        done += 1;
      }
    }
  }
  try {
    const blob = await window.FindMeClientZip(files()).blob();
    FindMeReport.save(blob, fileName("zip"), "application/zip");
    status.textContent = `Saved ${matches.length - failed.length} photos (${(bytes / 1e6).toFixed(1)} MB)` +
      (failed.length ? `; ${failed.length} could not be fetched.` : ".");
  } catch (error) {
    status.textContent = `The zip could not be made: ${error.message}`;
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

async function deleteSearch() {
  if (!confirm("Delete this search, its matches and your face data from FindMe? This cannot be undone.")) return;
  try {
    await FindMeApi.call("delete_search", { job_id: current.jobId });
  } catch (error) {
    if (error.status !== 404) return showError(FindMeWords.inWords(error.message));
  }
  current.generation += 1;
  forget(current.jobId);
  current.jobId = "";
  current.status = null;
  FindMeResults.reset();
  $("progress").hidden = true;
  $("start").disabled = false;
  history.replaceState(null, "", location.pathname + (FindMeApi.askedApi ? `?api=${encodeURIComponent(FindMeApi.askedApi)}` : ""));
  flash("The search was deleted, with its matches and your face data.");
  $("flash").focus();
}

function newSearch() {
  current.generation += 1;
  current.jobId = "";
  FindMeResults.reset();
  $("progress").hidden = true;
  $("start").disabled = false;
  history.replaceState(null, "", location.pathname + (FindMeApi.askedApi ? `?api=${encodeURIComponent(FindMeApi.askedApi)}` : ""));
  $("reference").focus();
}

// -- start -----------------------------------------------------------------------
function wire() {
  FindMeResults.wire();
  FindMeResults.onReview = review;
  FindMeApi.onBusy = (ms) => notice(`FindMe is busy; trying again in ${Math.ceil(ms / 1000)} s.`);
  $("search").addEventListener("submit", startSearch);
  $("reference").addEventListener("change", photoChosen);
  for (const field of ["handle", "query", "servers", "urls"]) $(field).addEventListener("input", () => showError(""));
  $("folder").addEventListener("change", showQueryField);
  $("threshold").addEventListener("input", () => {
    $("threshold-value").textContent = Number($("threshold").value).toFixed(2);
    // After a search, the form's slider filters what was found (up to the search's own).
    if (current.status) FindMeResults.filterTo(Math.min(Number($("threshold").value), current.status.threshold));
  });
  $("cancel").addEventListener("click", async () => {
    $("cancel").disabled = true;
    notice("Stopping the search…");
    try {
      // Stopping twice is harmless: a second try covers a slow or lost first answer.
      await FindMeApi.call("cancel_search", { job_id: current.jobId })
        .catch(() => sleep(1000).then(() => FindMeApi.call("cancel_search", { job_id: current.jobId })));
      await refresh();
    } catch (error) {
      showError(`The search could not be stopped: ${FindMeWords.inWords(error.message)}`);
    } finally {
      $("cancel").disabled = false;
    }
  });
  $("new-search").addEventListener("click", newSearch);
  $("delete-search").addEventListener("click", deleteSearch);
  $("bulk-confirm").addEventListener("click", () => review([...FindMeResults.selected], "confirm"));
  $("bulk-reject").addEventListener("click", () => review([...FindMeResults.selected], "reject"));
  $("bulk-download").addEventListener("click", () =>
    downloadPhotos(current.status.matches.filter((m) => FindMeResults.selected.has(m.photo))));
  $("download-zip").addEventListener("click", () => downloadPhotos(FindMeResults.visibleMatches()));
  $("download-csv").addEventListener("click", () => {
    FindMeReport.save(FindMeReport.csv(current.status), fileName("csv"), "text/csv");
  });
  $("download-html").addEventListener("click", async () => {
    $("download-html").disabled = true;
    $("download-status").textContent = "Making the report…";
    try {
      const page = await FindMeReport.html(current.status, {
        urlOf: (m) => FindMeResults.previewUrl(m, 400), folder: current.folder, label: current.label,
        onProgress: (done, total) => { $("download-status").textContent = `Making the report: photo ${done} of ${total}…`; },
      });
      FindMeReport.save(page, fileName("html"), "text/html");
      $("download-status").textContent = "The report is saved.";
    } finally {
      $("download-html").disabled = false;
    }
  });
}

function begin() {
  $("search").hidden = false;
  loadChoices();
  drawHistory();
  const jobId = new URLSearchParams(location.search).get("job");
  if (jobId) reopen(jobId);
}

wire();
if (FindMeApi.linkProblem) flash(FindMeApi.linkProblem);
if (FindMeApi.isTrusted()) {
  begin();
} else {
  $("search").hidden = true;
  $("api-origin").textContent = FindMeApi.origin;
  $("api-confirm").hidden = false;
  $("api-trust").addEventListener("click", () => {
    FindMeApi.trust();
    $("api-confirm").hidden = true;
    begin();
  });
}
