// A search of a live event stays open: once it is done, the page asks every 30 s
// for what is new since it last looked (search_status since=), so an open page
// costs at most two invocations a minute however many photos the search holds.
// FindMe busy (429) or out of reach: each wait doubles, up to 5 minutes.
"use strict";

const FindMeLive = (() => {
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const POLL_MS = 30_000;
  const SLOWEST_MS = 5 * 60_000;

  // Done, of an event still live, from a FindMe that says its clock (`now`, the next since).
  const isLive = (status) => status?.state === "done" && FindMeEvent.isLive(status.event) &&
    Number.isFinite(status.now);

  // Calls hooks.update(answer) with each answer (counts, and only the matches found
  // since the last one) until the event ends (hooks.ended) or the search is gone
  // (hooks.gone(error)); hooks.waiting(error, ms) when it asks again later than usual;
  // hooks.current() false stops it.
  async function watch(jobId, since, hooks) {
    let delay = POLL_MS;
    for (;;) {
      await sleep(delay);
      if (!hooks.current()) return;
      let answer;
      try {
        answer = await FindMeApi.call("search_status", { job_id: jobId, since, limit: 1000 }, "GET", { waitOut: false });
      } catch (error) {
        if (!hooks.current()) return;
        if (error.kind === "answer" && [400, 404].includes(error.status)) return hooks.gone(error);
        delay = Math.min(SLOWEST_MS, delay * 2);
        hooks.waiting(error, delay);
        continue;
      }
      if (!hooks.current()) return;
      since = answer.now;
      delay = POLL_MS;
      await hooks.update(answer);
      if (!isLive(answer)) return hooks.ended(answer);
    }
  }

  // The search's matches as an Atom feed, for a feed reader: no tab kept open.
  const feedUrl = (jobId) => `${FindMeApi.base}/search_feed.http?job_id=${encodeURIComponent(jobId)}`;

  return { watch, isLive, feedUrl, POLL_MS };
})();
