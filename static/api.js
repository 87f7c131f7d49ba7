// Talking to FindMe's web actions: which API (and whether the person trusts it),
// its web secret, OpenWhisk's 429s waited out, and search_status read page by page.
"use strict";

const FindMeApi = (() => {
  const query = new URLSearchParams(location.search);
  const metaApi = document.querySelector('meta[name="findme-api"]').content;
  const homeBase = (metaApi ? new URL(metaApi, location.href).href : `${location.origin}/api/v1/web/guest/findme`)
    .replace(/\/$/, "");
  let linkProblem = "";
  let base = homeBase;
  const askedApi = query.get("api");
  if (askedApi) {
    try {
      const url = new URL(askedApi);
      if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error("not http");
      base = url.href.replace(/\/$/, "");
    } catch (_) {
      linkProblem = "The link names a FindMe server that is not a web address, so this page uses its own server.";
    }
  }
  const origin = new URL(base).origin;
  const homeOrigin = new URL(homeBase).origin;

  // Another API origin gets the person's photo and secret only once they said yes.
  const TRUSTED = "findme:trusted-api-origins";
  const trustedOrigins = () => {
    try { return JSON.parse(localStorage.getItem(TRUSTED) || "[]"); } catch (_) { return []; }
  };
  const isTrusted = () => origin === homeOrigin || trustedOrigins().includes(origin);
  function trust() {
    localStorage.setItem(TRUSTED, JSON.stringify([...new Set([...trustedOrigins(), origin])]));
  }

  // A web secret belongs to one API origin: given once as ?secret=..., sent only there.
  const secretKey = `findme:web-secret:${origin}`;
  if (localStorage.getItem("findmeWebSecret") && !localStorage.getItem(`findme:web-secret:${homeOrigin}`)) {
    localStorage.setItem(`findme:web-secret:${homeOrigin}`, localStorage.getItem("findmeWebSecret"));
  }
  localStorage.removeItem("findmeWebSecret");  // the old, any-origin secret
  if (query.get("secret")) {
    localStorage.setItem(secretKey, query.get("secret"));
    query.delete("secret");  // a link copied from the address bar must not carry it
    history.replaceState(null, "", `${location.pathname}${query.toString() ? `?${query}` : ""}${location.hash}`);
  }
  const secret = () => localStorage.getItem(secretKey) || "";
  const secretHeaders = () => (secret() ? { "X-Require-Whisk-Auth": secret() } : {});

  class ApiError extends Error {
    constructor(message, status, kind) {
      super(message);
      this.status = status;
      this.kind = kind;  // "unreachable", "busy", "answer", "untrusted"
    }
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  let onBusy = () => {};

  // OpenWhisk throttles per wall-clock minute and sends no Retry-After: wait for
  // the next minute, a few times, before telling the person.
  async function send(url, options, waitOut) {
    for (let attempt = 0; ; attempt += 1) {
      let response;
      try {
        response = await fetch(url, options);
      } catch (_) {
        throw new ApiError("FindMe cannot be reached right now.", 0, "unreachable");
      }
      if (response.status !== 429) return response;
      if (!waitOut || attempt >= 4) throw new ApiError("FindMe is busy. Try again in a minute.", 429, "busy");
      const wait = Math.min(61_000, 60_000 - (Date.now() % 60_000) + 500);
      onBusy(wait);
      await sleep(wait);
    }
  }

  // The owner key of each search this browser started: sent with every call about it
  // (review, stop, continue, delete, sharing). A link opened elsewhere has none:
  // that browser may look, not change.
  const ownerKey = (jobId) => localStorage.getItem(`findme:owner:${origin}:${jobId}`) || "";
  const isOwner = (jobId) => Boolean(ownerKey(jobId));

  // waitOut: a 429 is waited out here; otherwise the caller (a poll) comes back later.
  async function call(name, params, method = "POST", { waitOut = true } = {}) {
    if (!isTrusted()) throw new ApiError("Confirm the FindMe server first.", 0, "untrusted");
    if (params.job_id && ownerKey(params.job_id)) {
      // In a body, never in an address (logs, history): a read becomes a POST.
      params = { ...params, owner_key: ownerKey(params.job_id) };
      method = "POST";
    }
    // .http: OpenWhisk passes the action's status code and JSON body through (its
    // .json turns every failed activation into a bare 400 or a 200).
    const url = new URL(`${base}/${name}.http`);
    const options = { method, headers: secretHeaders() };
    if (method === "GET") {
      Object.entries(params).forEach(([key, value]) => url.searchParams.set(key, value));
    } else {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(params);
    }
    const response = await send(url, options, waitOut);
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new ApiError(body.error || `The server answered ${response.status}.`, response.status, "answer");
    }
    if (name === "register_search" && body.owner_key && body.job_id) {
      localStorage.setItem(`findme:owner:${origin}:${body.job_id}`, body.owner_key);
    }
    if (name === "delete_search" && params.job_id) {
      localStorage.removeItem(`findme:owner:${origin}:${params.job_id}`);
    }
    return body;
  }

  // Every page of a job's status: counts from the first, matches and failed
  // photos from all (a status without next_cursor is all in one page).
  async function status(jobId) {
    let cursor = "0";
    let whole = null;
    for (let pages = 0; cursor !== null && cursor !== undefined && pages < 10_000; pages += 1) {
      const page = await call("search_status", { job_id: jobId, cursor, limit: 1000 }, "GET", { waitOut: false });
      if (whole === null) whole = { ...page, matches: [], failed: [] };
      whole.matches.push(...(page.matches || []));
      whole.failed.push(...(page.failed || []));
      cursor = page.next_cursor;
    }
    delete whole.next_cursor;
    return whole;
  }

  // The local engine's own routes (folders, photos, previews, zip), next to its web actions.
  const localBase = new URL("/findme", base).href;
  const askedBase = askedApi && !linkProblem ? base : "";

  // The page's own address with these parameters (and the API it was told to use);
  // a parameter without a value is written bare: ?organise.
  function pageLink(params, api = askedBase) {
    const query = new URLSearchParams(params);
    if (api) query.set("api", api);
    const text = query.toString();
    return text ? `${location.pathname}?${text}`.replace(/=(?=&|$)/g, "") : location.pathname;
  }

  return {
    base, origin, isTrusted, trust, call, status, ApiError, localBase, linkProblem, secretHeaders, pageLink,
    isOwner,
    isHome: origin === homeOrigin,
    askedApi: askedBase,
    set onBusy(callback) { onBusy = callback; },
  };
})();
