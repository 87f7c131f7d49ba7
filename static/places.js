// Where to look: each kind of place a search can look in, in one table. A kind
// says how the form offers it, which of the form's fields it shows, what it
// checks and sends to register_search, and how a search of it is named (in this
// browser's list, and from a search's status after a reload). A new kind of
// place is a new entry here.
"use strict";

const FindMePlaces = (() => {
  const $ = (id) => document.getElementById(id);
  // The <select>'s value: a folder's name, or a kind's name after a NUL (never a folder).
  const KIND = "\u0000";
  const FIELDS = ["query-field", "servers-field", "urls-field"];

  // "a b, c" -> ["a", "b", "c"], each once.
  const distinct = (text, tidy = (v) => v) => [...new Set(String(text || "").split(/[\s,]+/).filter(Boolean).map(tidy))];
  const serverName = (v) => v.toLowerCase().replace(/^https:\/\//, "").replace(/\/$/, "");
  const query = () => $("query").value.trim();

  // A query typed in the form: the kind's words for its field, and when it is missing.
  const withQuery = (what, help, missing) => ({
    fields: { "query-field": [what, help] },
    check: () => (query() ? "" : missing),
    params: () => ({ query: query() }),
  });

  const KINDS = {
    folder: {
      fields: {},
      check: () => "",
      params: (folder) => ({ folder }),
      label: (params) => (params.folder === "." ? "All photos" : `Folder ${params.folder}`),
    },
    twitter: {
      choice: "Posts on X matching a search",
      ...withQuery("What to search on X", "A hashtag or words, as you would type them in X's search.",
        "Type what to search on X, like #pycon."),
      label: (params) => `${params.query} on X`,
    },
    mastodon: {
      choice: "Posts on Mastodon with a hashtag",
      fields: {
        "query-field": ["Hashtags to look for", "One or more hashtags, like #pycon #pycon2026: a post with any of them counts."],
        "servers-field": null,
      },
      check: () => (!query() ? "Type the hashtags to look for on Mastodon, like #pycon."
        : !distinct($("servers").value).length ? "Name the Mastodon servers to search, like mastodon.social." : ""),
      params: () => ({ query: query(), servers: $("servers").value }),
      label: (params) => (params.servers
        ? `${params.query} on ${distinct(params.servers, serverName).join(", ")}` : `${params.query} on Mastodon`),
    },
    bluesky: {
      choice: "Posts on Bluesky matching a search",
      ...withQuery("What to search on Bluesky", "A hashtag or words, as you would type them in Bluesky's search.",
        "Type what to search on Bluesky, like #pycon."),
      label: (params) => `${params.query} on Bluesky`,
    },
    urls: {
      choice: "Photos at links you paste (from the organisers)",
      fields: { "urls-field": null },
      check: () => ($("urls").value.trim() ? "" : "Paste the links to the photos, one a line."),
      params: () => ({ urls: $("urls").value }),
      label: (params) => {
        const links = params.urls ? distinct(params.urls).length : 0;
        return links === 1 ? "1 photo link" : links ? `${links} photo links` : "Photo links";
      },
    },
  };

  // The form's choices: the photo root's folders, then what the deployment offers.
  function offer(folders, offered) {
    const options = folders.map((f) => new Option(f === "." ? "All photos" : `Folder: ${f}`, f));
    for (const [name, kind] of Object.entries(KINDS)) {
      if (kind.choice && offered[name]) options.push(new Option(kind.choice, KIND + name));
    }
    $("folder").replaceChildren(...options);
    $("folder-field").hidden = options.length < 2;  // nothing to choose from
    const servers = offered.mastodon?.servers || [];
    $("known-servers").replaceChildren(...servers.map((name) => new Option(name)));
    if (servers.length === 1) $("servers").value = servers[0];
    const hosts = offered.urls?.hosts || [];
    if (hosts.length) {
      $("urls-help").textContent = `Links starting with https:// on ${hosts.join(", ")}, up to ${offered.urls.max_urls}.`;
    }
    show();
    return options.length;
  }

  // The kind chosen, and the folder when it is one; with nothing offered, X as before.
  function chosen() {
    const value = $("folder").value;
    if (!value) return { source: "twitter", folder: "" };
    return value.startsWith(KIND) ? { source: value.slice(1), folder: "" } : { source: "folder", folder: value };
  }

  // Only the chosen kind's fields, with its words.
  function show() {
    const shown = KINDS[chosen().source]?.fields || {};
    for (const id of FIELDS) {
      $(id).hidden = !(id in shown);
      const words = shown[id];
      if (id === "query-field" && words) [$("query-label").textContent, $("query-help").textContent] = words;
    }
  }

  // What is missing, in words ("" when nothing is).
  const check = () => KINDS[chosen().source]?.check() || "";

  // register_search's parameters for the place.
  function params() {
    const { source, folder } = chosen();
    return { source, ...KINDS[source].params(folder) };
  }

  // A search's name in this browser's list, from what was sent.
  const label = (params) => KINDS[params.source]?.label(params) || params.query || "Search";

  // The same name from a search's status, when this browser did not start it: a
  // search of an organiser's event goes by the event's name.
  function labelOf(status) {
    if (status.event?.name) return status.event.name;
    const params = { source: status.source || "twitter", query: status.query, folder: status.folder };
    return label(params);
  }

  return { offer, chosen, show, check, params, label, labelOf, distinct };
})();
