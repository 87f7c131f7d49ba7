// An event (a place an organiser had FindMe index once): its link for guests, how far
// its indexing has come in a person's words, and event_status followed while it
// changes, a few invocations a minute at most (slower and slower; longer after a 429).
// The attendee's card (app.js) and the organiser's view (organise.js) both use it.
"use strict";

const FindMeEvent = (() => {
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const FIRST_MS = 3000;
  const INDEXING_SLOWEST_MS = 15_000;  // while its photos are read
  const LIVE_MS = 60_000;  // a live event gains photos slowly
  const SLOWEST_MS = 5 * 60_000;  // FindMe busy (429) or out of reach

  const count = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  const when = (seconds) => new Date(seconds * 1000).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  const isLive = (event) => Boolean(event?.live_until) && event.live_until * 1000 > Date.now();
  const indexing = (event) => !["done", "failed"].includes(event.state);

  // The link an organiser gives their guests: absolute, so it prints and scans.
  const attendeeLink = (eventId) => new URL(FindMeApi.pageLink({ event: eventId }), location.href).href;

  // For a guest: can they search yet, and is the event still gaining photos.
  function forGuests(event) {
    if (event.state === "failed") {
      return `FindMe could not read this event's photos: ${FindMeWords.inWords(event.error)}`;
    }
    const unread = event.photos_failed ? ` (${count(event.photos_failed, "photo")} could not be read)` : "";
    const live = isLive(event) ? ` New photos are added until ${when(event.live_until)}.` : "";
    if (indexing(event)) {
      return `FindMe is still reading the event's photos: ${event.photos_indexed} of ${event.photos_listed} so far${unread}. ` +
        `You can search now: photos read later are added to your results.${live}`;
    }
    return `${count(event.photos_indexed, "photo")} ready to search${unread}.${live}`;
  }

  // For its organiser: the same, with faces, searches and when the place was read.
  function forOrganiser(event) {
    if (event.state === "failed") return `FindMe could not read the photos: ${FindMeWords.inWords(event.error)}`;
    const parts = [
      indexing(event) ? `Reading the photos: ${event.photos_indexed + event.photos_failed} of ${event.photos_listed} so far`
        : `${count(event.photos_listed, "photo")} found, ${event.photos_indexed} indexed`,
      event.photos_failed && `${event.photos_failed} could not be read`,
      `${count(event.faces, "face")} in ${count(event.photos_with_faces, "photo")}`,
      event.photos_taken_down && `${event.photos_taken_down} taken down`,
    ].filter(Boolean);
    const searched = `${count(event.searches, "search", "searches")} by guests so far.`;
    const read = event.last_read ? ` Last read ${when(event.last_read)}.` : "";
    const live = isLive(event) ? ` FindMe looks for new photos until ${when(event.live_until)}.`
      : " FindMe no longer looks for new photos.";
    const kept = ` The faces found are kept for ${count(event.retention_days, "day")}, then deleted.`;
    return `${parts.join(", ")}. ${searched}${read}${live}${kept}${event.warning ? ` ${event.warning}` : ""}`;
  }

  const status = (eventId) => FindMeApi.call("event_status", { event_id: eventId }, "GET", { waitOut: false });

  // Calls onStatus with each answer while the event changes and current() holds;
  // onGone(error) once when the event no longer exists (or the link is wrong).
  async function follow(eventId, { current, onStatus, onGone }) {
    let delay = FIRST_MS;
    while (current()) {
      let event = null;
      try {
        event = await status(eventId);
      } catch (error) {
        if (!current()) return;
        if (error.kind === "answer" && [400, 404].includes(error.status)) return onGone(error);
        if (error.kind === "untrusted") return;
        delay = Math.min(SLOWEST_MS, Math.max(delay, FIRST_MS) * 2);
      }
      if (event) {
        if (!current()) return;
        onStatus(event);
        if (indexing(event)) delay = Math.min(INDEXING_SLOWEST_MS, delay * 1.5);
        else if (isLive(event)) delay = LIVE_MS;
        else return;  // read once, indexed: nothing changes any more
      }
      await sleep(delay);
    }
  }

  return { attendeeLink, forGuests, forOrganiser, follow, status, isLive, when, count };
})();
