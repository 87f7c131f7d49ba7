// The organiser's view (?organise): make an event over a place to look (the search
// form's own "where to look" fields, moved into this form), then share its link and
// a printable QR code, watch its indexing, and, with its owner key (shown once, kept
// in this browser), take a photo down, add photo links, or delete the event.
"use strict";

const FindMeOrganise = (() => {
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const EVENTS = "findme:events";  // this browser's events: id, name, owner key, API
  const QUIET_ZONE = 4;  // modules of white around a QR code, as scanners need
  const open = { eventId: "", event: null, generation: 0 };
  let page = { flash: () => {}, bounds: () => null };

  // -- this browser's events ---------------------------------------------------------
  function events() {
    try { return JSON.parse(localStorage.getItem(EVENTS) || "[]"); } catch (_) { return []; }
  }
  function saveEvents(list) {
    localStorage.setItem(EVENTS, JSON.stringify(list.slice(0, 50)));
    drawEvents();
  }
  const kept = (eventId) => events().find((e) => e.event_id === eventId);
  function keep(entry) {
    const others = events().filter((e) => e.event_id !== entry.event_id);
    saveEvents([{ ...kept(entry.event_id), ...entry }, ...others]);
  }
  const forget = (eventId) => saveEvents(events().filter((e) => e.event_id !== eventId));
  const ownerKey = () => kept(open.eventId)?.owner_key || "";

  function drawEvents() {
    const list = events();
    $("my-events").hidden = list.length === 0;
    $("my-events-list").replaceChildren(...list.map((entry) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = FindMeApi.pageLink({ organise: "", event: entry.event_id }, entry.api);
      link.textContent = entry.name || "Event";
      if (entry.event_id === open.eventId) link.setAttribute("aria-current", "page");
      item.append(link, ` made ${new Date(entry.created).toLocaleString()}`);
      return item;
    }));
  }

  // -- words -------------------------------------------------------------------------
  function error(text) {
    $("event-error").textContent = text;
    $("event-error").hidden = !text;
  }
  const say = (text) => { $("admin-message").textContent = text; };
  const daysWords = (days) => (Number(days) === 1 ? "1 day" : `${days} days`);

  // -- the QR code of the attendee link ------------------------------------------------
  // Dark modules as one SVG path: crisp at any size, on screen and on paper.
  function drawQr(link) {
    const code = qrcode(0, "M");  // the smallest version that holds the link; 15% may be smudged
    code.addData(link);
    code.make();
    const count = code.getModuleCount();
    const side = count + 2 * QUIET_ZONE;
    let path = "";
    for (let row = 0; row < count; row += 1) {
      for (let col = 0; col < count; col += 1) {
        if (code.isDark(row, col)) path += `M${col + QUIET_ZONE} ${row + QUIET_ZONE}h1v1h-1z`;
      }
    }
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", `0 0 ${side} ${side}`);
    svg.setAttribute("shape-rendering", "crispEdges");
    svg.setAttribute("aria-hidden", "true");
    const paper = document.createElementNS(SVG, "rect");
    Object.entries({ width: side, height: side, fill: "#fff" }).forEach(([k, v]) => paper.setAttribute(k, v));
    const modules = document.createElementNS(SVG, "path");
    modules.setAttribute("d", path);
    modules.setAttribute("fill", "#000");
    svg.append(paper, modules);
    $("qr").replaceChildren(svg);
  }

  // -- one event: link, QR code, progress, and what its owner may do -------------------
  function show(eventId, newKey = "") {
    open.eventId = eventId;
    open.event = null;
    $("event-form").hidden = true;
    $("event-admin").hidden = false;
    const link = FindMeEvent.attendeeLink(eventId);
    $("attendee-link").value = link;
    $("open-link").href = link;
    $("poster-link").textContent = link;
    drawQr(link);
    // The key is shown this once; later visits find it in this browser.
    $("owner-key").textContent = newKey;
    $("owner-key-box").hidden = !newKey;
    $("admin-title").textContent = kept(eventId)?.name || "Your event";
    $("admin-progress").textContent = "Looking the event up…";
    say("");
    drawManage();
    drawEvents();
    watch();
  }

  // Its progress, followed (again, after a change) until it stops changing.
  function watch() {
    open.generation += 1;
    const { eventId, generation } = open;
    FindMeEvent.follow(eventId, {
      current: () => generation === open.generation,
      onStatus: drawStatus,
      onGone: (problem) => {
        if (problem.status === 404) forget(eventId);
        close(FindMeWords.inWords(problem.message));
      },
    });
  }

  function drawStatus(event) {
    open.event = event;
    $("admin-title").textContent = event.name;
    $("poster-name").textContent = event.name;
    $("admin-progress").textContent = FindMeEvent.forOrganiser(event);
    $("admin-failed").hidden = event.failed.length === 0;
    $("admin-failed-list").replaceChildren(...event.failed.map((f) => {
      const item = document.createElement("li");
      item.textContent = `${f.photo}: ${FindMeWords.photoReason(f.reason)}`;
      return item;
    }));
    if (kept(event.event_id)) keep({ event_id: event.event_id, name: event.name });
    drawManage();
  }

  // What needs the owner key shows once this browser has it; adding links only for links.
  function drawManage() {
    const key = ownerKey();
    $("owner-key-form").hidden = Boolean(key);
    $("takedown-form").hidden = !key;
    $("delete-event").hidden = !key;
    $("add-links-form").hidden = !key || open.event?.source !== "urls";
  }

  // Back to the form: the event deleted, gone, or another one to make.
  function close(message = "") {
    open.generation += 1;
    open.eventId = "";
    open.event = null;
    $("event-admin").hidden = true;
    $("event-form").hidden = false;
    history.replaceState(null, "", FindMeApi.pageLink({ organise: "" }));
    drawEvents();
    page.flash(message, true);
  }

  // -- making an event -----------------------------------------------------------------
  function number(id, low, high, words) {
    const value = Number($(id).value);
    if ($(id).value.trim() === "" || !Number.isFinite(value) || value < low || value > high) throw new Error(words);
    return value;
  }

  async function create(submitted) {
    submitted.preventDefault();
    error("");
    const missing = FindMePlaces.check();
    if (missing) return error(missing);
    const bounds = page.bounds() || { max_live_hours: 72, retention_days: 30, min_retention_days: 1 };
    let params;
    try {
      params = {
        ...FindMePlaces.params(),
        name: $("event-title").value.trim(),
        live_hours: number("live-hours", 0, bounds.max_live_hours,
          `Keep looking for new photos for 0 to ${bounds.max_live_hours} hours.`),
        retention_days: number("retention-days", bounds.min_retention_days, bounds.retention_days,
          `Keep the faces found for ${bounds.min_retention_days} to ${bounds.retention_days} days.`),
      };
    } catch (problem) {
      return error(problem.message);
    }
    $("create-event").disabled = true;
    try {
      const made = await FindMeApi.call("create_event", params);
      keep({
        event_id: made.event_id, name: made.name, owner_key: made.owner_key, api: FindMeApi.askedApi, created: Date.now(),
      });
      history.replaceState(null, "", FindMeApi.pageLink({ organise: "", event: made.event_id }));
      page.flash("");
      show(made.event_id, made.owner_key);
      $("admin-title").focus();
    } catch (problem) {
      error(problem.kind === "unreachable" ? "FindMe cannot be reached. Check your connection and try again."
        : FindMeWords.inWords(problem.message));
    } finally {
      $("create-event").disabled = false;
    }
  }

  // -- the owner's actions ---------------------------------------------------------------
  // An owner's action, its answer in words; a refused key says so.
  async function asOwner(action, params, words) {
    say("");
    try {
      const answer = await FindMeApi.call(action, { event_id: open.eventId, owner_key: ownerKey(), ...params });
      say(words(answer));
      return answer;
    } catch (problem) {
      say(FindMeWords.inWords(problem.message));
      return null;
    }
  }

  async function takeDown(submitted) {
    submitted.preventDefault();
    const photo = $("takedown-photo").value.trim();
    if (!photo) return say("Type the name of the photo to take down, as your guests see it.");
    const done = await asOwner("takedown_photo", { photo }, (answer) => {
      if (!answer.was_indexed) return `No photo called ${photo} was indexed (check its name). FindMe will never index one by that name.`;
      const searches = answer.removed_from_searches;
      return `${photo} is taken down: ` +
        (searches ? `it is gone from the results of ${FindMeEvent.count(searches, "search", "searches")}.` : "it was in no guest's results.");
    });
    if (done) {
      $("takedown-photo").value = "";
      watch();
    }
  }

  async function addLinks(submitted) {
    submitted.preventDefault();
    const urls = $("add-links").value.trim();
    if (!urls) return say("Paste the links to add, one a line.");
    const done = await asOwner("update_event", { urls }, (answer) => (answer.urls_added
      ? `${FindMeEvent.count(answer.urls_added, "link")} added: FindMe is reading the photos.`
      : "Those links were in the event already."));
    if (done) {
      $("add-links").value = "";
      watch();
    }
  }

  async function deleteEvent() {
    const name = open.event?.name || "this event";
    const question = `Delete “${name}”? The face data of its photos is deleted at once, and your guests' ` +
      "searches of it lose their results. This cannot be undone.";
    if (!confirm(question)) return;
    const eventId = open.eventId;
    const done = await asOwner("delete_event", {}, () => "");
    if (!done) return;
    forget(eventId);
    const searches = done.searches_emptied;
    close(`“${name}” was deleted with the face data of its photos` +
      (searches ? `; ${FindMeEvent.count(searches, "guest search", "guest searches")} lost their results.` : "."));
  }

  function useKey(submitted) {
    submitted.preventDefault();
    const key = $("owner-key-input").value.trim();
    if (!key) return say("Paste the owner key FindMe gave when the event was made.");
    keep({ event_id: open.eventId, name: open.event?.name || "", owner_key: key, api: FindMeApi.askedApi, created: Date.now() });
    $("owner-key-input").value = "";
    drawManage();
    say("This browser keeps the key now. FindMe checks it when you take a photo down or delete the event.");
  }

  async function copy(text, done) {
    try {
      await navigator.clipboard.writeText(text);
      say(done);
    } catch (_) {
      say("Your browser did not let the page copy: select the text and copy it yourself.");
    }
  }

  // -- the view ------------------------------------------------------------------------
  // The bounds this FindMe sets on an event (its sources answer), in the form.
  function drawBounds(bounds) {
    if (!bounds) return;
    $("live-hours").max = String(bounds.max_live_hours);
    $("live-hours").value = String(Math.min(24, bounds.max_live_hours));
    $("retention-days").min = String(bounds.min_retention_days);
    $("retention-days").max = String(bounds.retention_days);
    $("retention-days").value = String(bounds.retention_days);
    $("retention-days-help").textContent = `At most ${daysWords(bounds.retention_days)} on this FindMe server.`;
    drawRetention();
  }
  function drawRetention() {
    const days = Number($("retention-days").value);
    document.querySelectorAll(".retention-words").forEach((element) => {
      element.textContent = Number.isFinite(days) && days > 0 ? daysWords(days) : "the days you choose";
    });
  }

  function wire() {
    $("event-form").addEventListener("submit", create);
    $("retention-days").addEventListener("input", drawRetention);
    $("takedown-form").addEventListener("submit", takeDown);
    $("add-links-form").addEventListener("submit", addLinks);
    $("owner-key-form").addEventListener("submit", useKey);
    $("delete-event").addEventListener("click", deleteEvent);
    $("copy-key").addEventListener("click", () => copy(ownerKey(), "The owner key is copied."));
    $("key-kept").addEventListener("click", () => {
      $("owner-key-box").hidden = true;
      $("admin-title").focus();
    });
    $("copy-link").addEventListener("click", () => copy($("attendee-link").value, "The link is copied."));
    $("print-qr").addEventListener("click", () => window.print());
  }

  // The view instead of the search form; eventId: an event of this browser to show.
  function begin(eventId, choicesReady, pageHooks) {
    page = pageHooks;
    document.body.classList.add("organising");
    document.title = "Make an event link for your guests — FindMe";
    ["search", "summary", "history", "to-organise"].forEach((id) => { $(id).hidden = true; });
    $("organise").hidden = false;
    $("event-place-slot").replaceWith($("place"));  // one set of "where to look" fields
    $("to-search").href = FindMeApi.pageLink({});
    $("another-event").href = FindMeApi.pageLink({ organise: "" });
    $("another-event").addEventListener("click", (clicked) => {
      clicked.preventDefault();
      close();
      $("event-title").focus();
    });
    wire();
    $("create-event").disabled = true;
    choicesReady.then((choices) => {
      drawBounds(page.bounds());
      $("create-event").disabled = !choices;
      if (!choices) error("This FindMe offers no place to look for photos.");
    });
    drawEvents();
    if (eventId) show(eventId);
  }

  return { begin };
})();
