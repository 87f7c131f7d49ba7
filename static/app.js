// FindMe's search page: starts a search through the register_search web action,
// follows it through search_status (backing off, waiting out 429s), and keeps a
// link to each search and a list of this browser's searches. Once a search is
// open the form folds into a one-line summary, so its results come first.
// An attendee's link (?event=ID) sets the page to that event: it asks only for
// the person's photo. A search of a live event stays open for new photos.
// Where to look: places.js; the person's photo: photo.js; consent: consent.js;
// events: event.js; live searches: live.js; the organiser's view: organise.js.
"use strict";

const $ = (id) => document.getElementById(id);
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
// handles: those HANDLES describes; events: the bounds of an organiser's event.
const offered = { sources: {}, handles: ["x"], events: null };
const HISTORY = "findme:searches";
const HOME_TITLE = document.title;
let pageTitle = HOME_TITLE;  // a background tab adds "(2 new)" to it
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let choicesReady = Promise.resolve();  // the places to look, and how long a search is kept

// The open search: what this browser knows of it (label, who, folder) and its status;
// fresh: its photos found while this page was open (a live event's new photos).
const current = {
  jobId: "", folder: "", label: "", who: "", threshold: null, status: null, generation: 0, fresh: new Set(),
};
// The event an attendee's link (?event=ID) set the page to: its searches look only there.
const attending = { eventId: "", name: "", generation: 0 };
const rejectedKey = (jobId) => `findme:rejected:${jobId}`;

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}
function flash(message, warning = false) {
  $("flash").textContent = message;
  $("flash").hidden = !message;
  $("flash").classList.toggle("warning", warning);
}
function notice(message) {
  $("notice").textContent = message;
  $("notice").hidden = !message;
}
function jobError(message) {
  $("job-error").textContent = message;
  $("job-error").hidden = !message;
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
function remember(jobId, details) {
  saveSearches([{ job_id: jobId, api: FindMeApi.askedApi, created: Date.now(), ...details },
    ...searches().filter((s) => s.job_id !== jobId)]);
}
function forget(jobId) {
  saveSearches(searches().filter((s) => s.job_id !== jobId));
  localStorage.removeItem(rejectedKey(jobId));
}
const jobLink = (jobId, api) => FindMeApi.pageLink({ job: jobId }, api);
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
    // The visible words first: a voice user says what they see (WCAG 2.5.3).
    drop.setAttribute("aria-label", `Remove from this list: ${entry.label || "search"}`);
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
  offered.events = sources.events;
  FindMeConsent.setKeep(sources.keep_seconds);
  const choices = FindMePlaces.offer(folders, offered.sources);
  const kinds = offered.handles;
  $("handle-label").textContent = kinds.length === 1 && kinds[0] === "x" ? "or your X username" : "or your username";
  $("handle-help").textContent = kinds.length
    ? `Uses your profile picture instead of a photo: ${kinds.map((k) => HANDLES[k]).join(", ")}.`
    : "This FindMe takes no usernames: choose a photo of yourself.";
  $("handle").disabled = !kinds.length;
  $("start").disabled = choices === 0 && !attending.eventId;  // an event is the place to look
  return choices;
}

// -- the open search: the form folded into one line --------------------------------
function fold(open) {
  document.body.classList.toggle("job-open", open);
  $("search").hidden = open;
  $("summary").hidden = !open;
}
function whoOf(status) {
  const picture = status?.reference_pictures?.[0];
  if (picture) return `Profile picture of ${picture.handle}`;
  const photos = status?.reference_faces?.length || 1;
  return photos > 1 ? `${photos} photos of you` : "Your photo";
}
function drawSummary() {
  const status = current.status;
  const strong = (text) => Object.assign(document.createElement("strong"), { textContent: text });
  const who = current.who || whoOf(status);
  const where = current.label || (status ? FindMePlaces.labelOf(status) : "");
  const threshold = Number.isFinite(status?.threshold) ? status.threshold : current.threshold;
  $("summary-text").replaceChildren(strong(who), ...(where ? [" in ", strong(where)] : []),
    ...(Number.isFinite(threshold) ? [` · faces up to ${threshold.toFixed(2)}`] : []));
}

// -- following a search ------------------------------------------------------------
const STATE_WORDS = {
  queued: "Waiting to start…", searching: "Looking for photos and reading your face…",
  comparing: "Comparing faces…", done: "Done.", failed: "The search failed.", cancelled: "Stopped.",
};
const FINAL = new Set(["done", "failed", "cancelled"]);
const STATE_SHORT = { done: "done", failed: "failed", cancelled: "stopped" };

// Every photo was examined, and none could be read (downloads refused, say).
const noneRead = (status) => FINAL.has(status.state) && status.photos_total > 0 &&
  status.photos_failed === status.photos_total;

function counts(status) {
  const found = `${status.matches.length} with you`;
  const unread = status.photos_failed ? `, ${status.photos_failed} could not be read` : "";
  if (noneRead(status)) {
    return status.photos_total === 1 ? "The one photo could not be read." : `None of the ${status.photos_total} photos could be read.`;
  }
  if (status.state === "failed") {
    return status.photos_total ? `It had checked ${status.photos_done} of ${status.photos_total} photos, ${found}.` : "";
  }
  if (status.state === "cancelled") {
    return `${status.photos_done} of ${status.photos_total} photos checked before it stopped, ${found}${unread}.`;
  }
  if (!status.search_done && !FINAL.has(status.state)) {
    return `${status.photos_done} photos checked so far, ${found}${unread}. Still finding photos…`;
  }
  return `${status.photos_done} of ${status.photos_total} photos checked, ${found}${unread}.`;
}

// Why photos could not be read, the commonest reasons first: "12 photos: ...".
function unreadReasons(status) {
  const reasons = new Map();
  status.failed.forEach((f) => {
    const reason = FindMeWords.photoReason(f.reason);
    reasons.set(reason, (reasons.get(reason) || 0) + 1);
  });
  return [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 3)
    .map(([reason, n]) => `${n === 1 ? "1 photo" : `${n} photos`}: ${reason}`).join("; ");
}

// A failed search's heading and its reason, once ("the search stopped: X" is a heading and X).
function failure(status) {
  const error = String(status.error || "");
  const stopped = error.match(/^the search stopped: ([\s\S]*)/);
  if (stopped) return { title: "The search stopped before it finished.", reason: FindMeWords.inWords(stopped[1]) };
  return { title: "The search failed.", reason: FindMeWords.inWords(error) || "FindMe did not say why." };
}

// A stopped search goes on; so does a failed one whose face was read (its source
// failed part-way, say). One that failed on the photo of you needs a new photo.
const canContinue = (status) => status.state === "cancelled" ||
  (status.state === "failed" && (status.reference_faces || []).length > 0);

function drawFailed(status) {
  $("failed-photos").hidden = status.failed.length === 0;
  $("failed-list").replaceChildren(...status.failed.slice(0, 500).map((f) => {
    const item = document.createElement("li");
    item.textContent = `${f.photo}: ${FindMeWords.photoReason(f.reason)}`;
    return item;
  }));
}

function render(status) {
  if (typeof status.shared === "boolean" && current.jobId) showSharing(current.jobId, status.shared);
  const before = current.status;
  current.status = status;
  if (status.source === "folder" && status.folder) current.folder = status.folder;
  if (!before && Number.isFinite(status.threshold)) FindMeResults.setFilterMax(status.threshold);
  drawSummary();
  const ended = FINAL.has(status.state);
  const failed = status.state === "failed" ? failure(status) : null;
  $("progress").hidden = false;
  $("state").textContent = failed?.title ||
    (noneRead(status) ? "Done, but none of the photos could be read." : STATE_WORDS[status.state] || status.state);
  jobError(failed?.reason || "");
  // The bar is for a running search: an ended one says what happened in words.
  $("bar").hidden = ended;
  if (status.search_done) {
    $("bar").max = Math.max(status.photos_total, 1);
    $("bar").value = status.photos_done;
  } else {
    $("bar").removeAttribute("value");  // indeterminate while photos are still being listed
  }
  $("counts").textContent = counts(status);
  $("counts").hidden = !$("counts").textContent;
  const small = status.photos_with_small_faces || 0;
  const notes = [
    noneRead(status) && `Why: ${unreadReasons(status)}.`,
    status.warning,
    ...(status.reference_notes || []).map((n) => `Not used: ${n}.`),
    small && `${small === 1 ? "1 photo holds" : `${small} photos hold`} faces too small to compare reliably: a photo of you there can be missed.`,
    status.state === "done" && status.photos_total === 0 && (status.source === "folder" || !status.source
      ? "No photos were found to compare: the folder holds no JPEG, PNG, GIF, BMP, WebP or TIFF files."
      : "No photos were found to compare: no public post with a photo matched this search."),
  ].filter(Boolean);
  notice(notes.join(" "));
  drawFailed(status);
  if (noneRead(status) && !(before && noneRead(before))) $("failed-photos").open = true;
  $("cancel").hidden = ended;
  $("resume").hidden = !canContinue(status);
  document.querySelectorAll(".final-only").forEach((b) => { b.hidden = !(ended && status.matches.length); });
  FindMeResults.show(status, current.folder);
  drawRejected();
  drawLive(status);
  const found = status.matches.length;
  if (!before || before.matches.length !== found || before.state !== status.state) {
    announce(ended ? `${$("state").textContent} ${found} photos of you found. ${counts(status)} ${failed?.reason || ""}`
      : `${found} photos of you found so far.`);
  }
  if (ended && (!before || before.state !== status.state || before.matches.length !== found)) {
    saveSearches(searches().map((s) => (s.job_id === current.jobId ? { ...s, state: status.state, matches: found } : s)));
  }
}

// Polls search_status: after about 1 s, rising to every 5 s.
async function follow(jobId, generation) {
  let delay = 1000;
  while (generation === current.generation) {
    try {
      const status = await FindMeApi.status(jobId);
      if (generation !== current.generation) return;
      render(status);
      if (FindMeLive.isLive(status)) return goLive(jobId, generation, status.now);
      if (FINAL.has(status.state)) return;
      // Every poll is an invocation, and OpenWhisk allows the namespace 60 a minute.
      delay = Math.min(5000, delay * 1.3);
    } catch (error) {
      if (generation !== current.generation) return;
      if (error.kind === "answer" && (error.status === 404 || error.status === 400)) {
        // An unknown job answers 404 (deleted, or expired); a bad link 400.
        if (error.status === 404) forget(jobId);
        await choicesReady;  // its words say how long this FindMe keeps a search
        if (generation !== current.generation) return;
        return closeJob(FindMeWords.inWords(error.message), true);
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

// -- a live event: new photos of the person as they come ----------------------------
const photosOfYou = (n) => (n === 1 ? "1 new photo of you" : `${n} new photos of you`);

function drawLive(status) {
  const live = FindMeLive.isLive(status);
  $("live").hidden = !live && !current.fresh.size;
  $("live-text").textContent = live
    ? `This event is live until ${FindMeEvent.when(status.event.live_until)}: FindMe adds new photos of you as they are posted.`
    : "The event has ended: no new photos will be added.";
  $("live-new").textContent = current.fresh.size ? `${photosOfYou(current.fresh.size)}.` : "";
  $("feed-link").hidden = !live;
  $("feed-link").href = FindMeLive.feedUrl(current.jobId);
}

// Every 30 s, what is new since the last answer; a tab in the background says it in its title.
function goLive(jobId, generation, since) {
  FindMeLive.watch(jobId, since, {
    current: () => generation === current.generation,
    update: (answer) => addNew(jobId, generation, answer),
    ended: () => drawLive(current.status),
    gone: (error) => closeJob(FindMeWords.inWords(error.message), true),
    waiting: (error, ms) => {
      const later = ms < 60_000 ? `${Math.round(ms / 1000)} s` : ms < 120_000 ? "1 minute" : `${Math.round(ms / 60_000)} minutes`;
      notice(`${error.kind === "busy" ? "FindMe is busy" : "FindMe cannot be reached right now"}: ` +
        `it looks for new photos of you again in ${later}.`);
    },
  });
}

async function addNew(jobId, generation, answer) {
  const before = current.status;
  const known = new Set(before.matches.map((m) => m.photo));
  const again = new Set(answer.matches.map((m) => m.photo));
  const fresh = answer.matches.filter((m) => !known.has(m.photo));
  let status = {
    ...answer, matches: [...before.matches.filter((m) => !again.has(m.photo)), ...answer.matches], failed: before.failed,
  };
  // A photo taken down or gone from its source left the results: read them whole, once.
  if (status.matches.length !== answer.matches_total) {
    try { status = await FindMeApi.status(jobId); } catch (_) { return; }  // the next poll tries again
    if (generation !== current.generation) return;
  }
  fresh.forEach((m) => current.fresh.add(m.photo));
  FindMeResults.markNew(current.fresh);
  render(status);
  if (fresh.length) {
    announce(`${photosOfYou(fresh.length)}.`);
    if (document.hidden) document.title = `(${current.fresh.size} new) ${pageTitle}`;
  }
}

// Opens a search: the form folds into its summary, its progress and results below.
function openJob(jobId, known = {}) {
  current.generation += 1;
  Object.assign(current, {
    jobId, folder: known.folder || "", label: known.label || "", who: known.who || "",
    threshold: known.threshold ?? null, status: null, fresh: new Set(),
  });
  FindMeResults.reset();
  attending.generation += 1;  // the search says how the event goes now
  $("event-card").hidden = true;
  $("live").hidden = true;
  showError("");
  notice("");
  jobError("");
  flash("");
  fold(true);
  drawSummary();
  $("progress").hidden = false;
  $("state").textContent = STATE_WORDS.queued;
  $("counts").textContent = "";
  $("bar").hidden = false;
  $("bar").removeAttribute("value");
  $("job-link").href = jobLink(jobId, FindMeApi.askedApi);
  $("job-link").hidden = false;
  showSharing(jobId, true);
  $("cancel").hidden = false;
  $("resume").hidden = true;
  history.replaceState(null, "", jobLink(jobId, FindMeApi.askedApi));
  drawHistory();
  follow(jobId, current.generation);
}

// Who may do what: the browser that started a search holds its owner key and may
// review, stop, continue, delete and stop sharing it; a link opened elsewhere only
// looks. The server refuses the rest anyway; the page says so instead of failing.
function showSharing(jobId, shared) {
  const owner = FindMeApi.isOwner(jobId);
  document.body.classList.toggle("view-only", !owner);
  $("share").hidden = !owner;
  $("share").textContent = shared ? "Stop sharing the link" : "Share the link again";
  $("share").dataset.shared = shared ? "1" : "0";
  $("share").title = shared
    ? "Anyone you give the link to can see these photos (not change them). Stop sharing: the link " +
      "then works only in this browser."
    : "Share the link again: anyone you give it to can see these photos (not change them).";
  // Said in a line of its own only when it is not the usual case (results stay first).
  $("sharing").hidden = owner && shared;
  $("sharing").textContent = !owner
    ? "View only: someone shared this search with you. You can look at its photos; only the " +
      "browser that started it can review, stop or delete it."
    : "Only this browser can see this search now: the link no longer works for anyone else.";
}

async function toggleSharing() {
  const jobId = current.jobId;
  const shared = $("share").dataset.shared !== "1";
  $("share").disabled = true;
  try {
    await FindMeApi.call("share_search", { job_id: jobId, shared });
    showSharing(jobId, shared);
  } catch (error) {
    notice(error.message);
  } finally {
    $("share").disabled = false;
  }
}

// OpenWhisk refuses a request over 1 MB (413) before any action reads it: a long list
// of links beside a photo is said in words before it is sent.
const REQUEST_LIMIT = 1_000_000;
function requestTooLarge(params) {
  const size = new Blob([JSON.stringify(params)]).size;
  if (size <= REQUEST_LIMIT) return "";
  const urls = String(params.urls || "").split(/\s+/).filter(Boolean);
  if (!urls.length) return "Your photo is too large to send. Choose a smaller photo.";
  const listSize = JSON.stringify(params.urls).length;
  const fit = Math.max(0, Math.floor((REQUEST_LIMIT - (size - listSize)) / (listSize / urls.length)));
  return `That list of links is too long to send with your photo (FindMe takes 1 MB a request): ` +
    `shorten the list to about ${fit.toLocaleString("en")} links, or search it in parts.`;
}

// Back to the form: after "New search", a deletion, or a link to a search that is gone.
function closeJob(message = "", warning = false) {
  document.body.classList.remove("view-only");
  $("sharing").hidden = true;
  $("share").hidden = true;
  // A search of an organiser's event (named; a place's own event is not) goes back
  // to that event's form, as the attendee's link opened it.
  const event = current.status?.event;
  const eventId = attending.eventId || (event?.name && event.state !== "deleted" ? event.event_id : "");
  current.generation += 1;
  current.jobId = "";
  current.status = null;
  FindMeResults.reset();
  $("progress").hidden = true;
  fold(false);
  $("start").disabled = false;
  history.replaceState(null, "", FindMeApi.pageLink(eventId ? { event: eventId } : {}));
  if (eventId) attend(eventId);
  drawHistory();
  flash(message, warning);
  announce(message);
}

// A reopened link finds its name in this browser's list; the status says the rest.
function reopen(jobId) {
  openJob(jobId, searches().find((s) => s.job_id === jobId));
}

// Continue: resume_search queues the search again where it stopped.
async function resumeSearch() {
  $("resume").hidden = true;
  jobError("");
  $("state").textContent = "Continuing where it stopped…";
  announce("Continuing the search where it stopped.");
  try {
    await FindMeApi.call("resume_search", { job_id: current.jobId });
    current.generation += 1;
    $("cancel").hidden = false;
    $("bar").hidden = false;
    $("bar").removeAttribute("value");
    follow(current.jobId, current.generation);
  } catch (error) {
    render(current.status);
    jobError(`The search could not go on: ${FindMeWords.inWords(error.message)}`);
  }
}

async function startSearch(event) {
  event.preventDefault();
  showError("");
  flash("");
  if (!FindMeConsent.given()) return showError("Read what FindMe keeps, and agree to it, before you choose your photo.");
  const hasPhoto = FindMePhoto.chosen();
  const handle = $("handle").value.trim();
  const who = $("handle-label").textContent.replace(/^or /, "");
  if (!hasPhoto && !handle) return showError(`Choose a photo of yourself, or give ${who}.`);
  if (hasPhoto && handle) return showError(`Give either a photo or ${who}, not both: clear one of them.`);
  if (handle) {
    const network = networkOf(handle);
    if (!network || !offered.handles.includes(network)) {
      const takes = offered.handles.map((k) => HANDLES[k]).join(", ");
      return showError(network
        ? `This FindMe cannot use ${NETWORKS[network]} profile pictures: give ${takes}, or choose a photo of yourself.`
        : `That is not a username FindMe can use: give ${takes}, or choose a photo of yourself.`);
    }
  }
  const missing = attending.eventId ? "" : FindMePlaces.check();
  if (missing) return showError(missing);
  $("start").disabled = true;
  try {
    const place = attending.eventId ? { event_id: attending.eventId } : FindMePlaces.params();
    const params = { ...place, threshold: Number($("threshold").value) };
    Object.assign(params, hasPhoto ? await FindMePhoto.reference() : { handle });
    const tooLong = requestTooLarge(params);
    if (tooLong) return showError(tooLong);
    const { job_id: jobId } = await FindMeApi.call("register_search", params);
    const known = {
      label: attending.eventId ? attending.name : FindMePlaces.label(params),
      who: hasPhoto ? "Your photo" : `Profile picture of ${handle}`,
      folder: params.folder || "", threshold: params.threshold,
    };
    remember(jobId, known);
    FindMeResults.setFilterMax(params.threshold);
    openJob(jobId, known);
  } catch (error) {
    showError(error instanceof FindMeApi.ApiError && error.kind === "unreachable"
      ? "FindMe cannot be reached. Check your connection and try again." : FindMeWords.inWords(error.message));
  } finally {
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
    jobError(FindMeWords.inWords(error.message));
  }
  localStorage.setItem(rejectedKey(current.jobId), JSON.stringify(rejected));
  await refresh().catch((error) => jobError(FindMeWords.inWords(error.message)));
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
    jobError(FindMeWords.inWords(error.message));
  }
}

// -- downloads ------------------------------------------------------------------
function fileName(extension) {
  // Named as the CLI names its reports (the server's name for the search).
  const base = (current.status?.name || current.status?.query || current.folder || "search")
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

async function saveReport() {
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
}

async function deleteSearch() {
  if (!confirm("Delete this search, its matches and your face data from FindMe? This cannot be undone.")) return;
  try {
    await FindMeApi.call("delete_search", { job_id: current.jobId });
  } catch (error) {
    if (error.status !== 404) return jobError(FindMeWords.inWords(error.message));
  }
  forget(current.jobId);
  closeJob("The search was deleted, with its matches and your face data.");
  $("flash").focus();
}

function newSearch() {
  closeJob();
  $("search").querySelector("select:not([disabled]), input:not([disabled])")?.focus();
}

// -- an attendee's link: the page set to one event -------------------------------------
// The event's name and progress above a form that asks only for the person's photo.
function attend(eventId) {
  attending.eventId = eventId;
  attending.generation += 1;
  document.body.classList.add("attending");
  $("form-title").textContent = "Your photo";
  $("start").textContent = "Find my photos";
  $("event-card").hidden = false;
  $("event-name").textContent = attending.name || "this event";
  $("event-progress").textContent = "Looking the event up…";
  const generation = attending.generation;
  FindMeEvent.follow(eventId, {
    current: () => generation === attending.generation,
    onStatus: (event) => {
      attending.name = event.name;
      $("event-name").textContent = event.name;
      pageTitle = `${event.name}: find your photos — FindMe`;
      document.title = pageTitle;
      $("event-progress").textContent = FindMeEvent.forGuests(event);
    },
    onGone: (error) => leaveEvent(FindMeWords.inWords(error.message)),
  });
}

// An event that is gone (deleted, expired, a wrong link): the ordinary form.
function leaveEvent(message) {
  attending.eventId = "";
  attending.generation += 1;
  document.body.classList.remove("attending");
  $("form-title").textContent = "New search";
  $("start").textContent = "Find me";
  $("event-card").hidden = true;
  pageTitle = HOME_TITLE;
  document.title = pageTitle;
  history.replaceState(null, "", FindMeApi.pageLink({}));
  choicesReady.then((choices) => { $("start").disabled = !choices; });
  flash(message, true);
}

// -- start -----------------------------------------------------------------------
function wire() {
  FindMeResults.wire();
  FindMeResults.onReview = review;
  FindMeConsent.wire();
  FindMePhoto.wire(showError);
  FindMeApi.onBusy = (ms) => notice(`FindMe is busy; trying again in ${Math.ceil(ms / 1000)} s.`);
  $("search").addEventListener("submit", startSearch);
  for (const field of ["handle", "query", "servers", "urls"]) $(field).addEventListener("input", () => showError(""));
  $("folder").addEventListener("change", FindMePlaces.show);
  $("threshold").addEventListener("input", () => {
    $("threshold-value").textContent = Number($("threshold").value).toFixed(2);
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
      jobError(`The search could not be stopped: ${FindMeWords.inWords(error.message)}`);
    } finally {
      $("cancel").disabled = false;
    }
  });
  $("resume").addEventListener("click", resumeSearch);
  $("share").addEventListener("click", toggleSharing);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) document.title = pageTitle;  // the new photos are seen
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
  $("download-html").addEventListener("click", saveReport);
}

function begin() {
  const query = new URLSearchParams(location.search);
  if (query.has("organise")) {
    choicesReady = loadChoices();
    return FindMeOrganise.begin(query.get("event"), choicesReady, { flash, bounds: () => offered.events });
  }
  const eventId = query.get("event");
  if (eventId && !query.get("job")) attend(eventId);
  choicesReady = loadChoices();
  drawHistory();
  $("to-organise-link").href = FindMeApi.pageLink({ organise: "" });
  if (query.get("job")) reopen(query.get("job"));
  else fold(false);
}

wire();
if (FindMeApi.linkProblem) flash(FindMeApi.linkProblem, true);
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
