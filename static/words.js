// The API's messages name parameters and exceptions; the page says what happened
// and what to do, in a person's words. Unknown messages pass through, tidied.
"use strict";

const FindMeWords = (() => {
  const PHOTO_REASONS = [
    [/^empty file/, "the file is empty"],
    [/^file too large/, "the file is too large (over 25 MB)"],
    [/^image too large/, "the picture has too many pixels (over 50 megapixels)"],
    [/^truncated or corrupt image/, "the file is damaged or incomplete"],
    [/^not an image/, "it is not a photo"],
    [/^unreadable/, "the file could not be read"],
    [/^download failed \(HTTP (404|410)\)/, (m) => `it could not be downloaded (the site answered ${m[1]}: no such photo)`],
    [/^download failed \(HTTP 403\)/, "it could not be downloaded (the site refused: 403)"],
    [/^download failed \(HTTP (\d+)\)/, (m) => `it could not be downloaded (the site answered ${m[1]})`],
    [/^download failed \(cannot resolve (\S+)\)/, (m) => `it could not be downloaded (${m[1]} was not found)`],
    [/^download failed/, "it could not be downloaded"],
    [/stopped its worker twice/, "reading it took too long or crashed twice, so it was skipped"],
    [/outside the photo root/, "it is outside the folders FindMe may read"],
  ];

  // Why one photo could not be examined.
  function photoReason(reason) {
    const text = String(reason);
    for (const [pattern, words] of PHOTO_REASONS) {
      const found = text.match(pattern);
      if (found) return typeof words === "function" ? words(found) : words;
    }
    return text;
  }

  const MESSAGES = [
    [/no face in any reference photo/, "None of your photos shows a face FindMe can use. Choose a photo where your face is clear, large and facing the camera."],
    [/no face in reference photo/, "No face was found in your photo. Choose a photo where your face is clear, large and facing the camera."],
    [/^reference_image: (.*)/, (m) => `Your photo could not be used: ${photoReason(m[1])}. Choose a JPEG, PNG or WebP photo of yourself.`],
    [/^reference_image (is not valid base64|must be)/, "Your photo could not be used. Choose a JPEG, PNG or WebP photo of yourself."],
    [/uploaded photo is no longer available/, "Your photo is no longer kept on the server. Start a new search with it."],
    [/no X bearer token|x_bearer_token/i, "Searching X is not set up on this FindMe server (it needs an X API token). Choose another place to look, or a photo instead of an X username, or ask whoever runs FindMe to add the token."],
    [/is not an X, Mastodon or Bluesky handle/, "That username is not one FindMe can use: give @name for X, @name@server for Mastodon or name.bsky.social for Bluesky."],
    [/^handle must be/, "That is not a username FindMe can use: give @name for X, @name@server for Mastodon or name.bsky.social for Bluesky, or choose a photo of yourself."],
    [/^handle/, "Give one username, or a photo of yourself."],
    [/(Mastodon|Bluesky) account (\S+) does not exist/, (m) => `There is no ${m[1]} account ${m[2]}. Check the spelling, or choose a photo instead.`],
    [/^servers is required/, "Name the Mastodon servers to search, like mastodon.social."],
    [/X user @(\S+) does not exist/, (m) => `There is no X user @${m[1]}. Check the spelling, or choose a photo instead.`],
    [/X rate limit/, "X is limiting how fast FindMe may search. Try again in 15 minutes."],
    [/^query is required for Mastodon/, "Type the hashtags to look for on Mastodon, like #pycon."],
    [/^query is required for Bluesky/, "Type what to search on Bluesky, like #pycon."],
    [/^query is required/, "Type what to search on X, like #pycon."],
    [/^query: ["'](.*)["'] is not a hashtag/, (m) => `“${m[1]}” is not a hashtag: use letters, digits and _ after #, like #pycon.`],
    [/^query: give at most (\d+) hashtags/, (m) => `Give at most ${m[1]} hashtags.`],
    [/^servers: this FindMe searches only these Mastodon servers: (.*)/, (m) => `This FindMe searches only these Mastodon servers: ${m[1]}.`],
    [/^servers: ["'](.*)["'] is not a Mastodon server's host name/, (m) => `“${m[1]}” is not a Mastodon server's name: give its address, like mastodon.social.`],
    [/^servers: give at most (\d+)/, (m) => `Give at most ${m[1]} Mastodon servers.`],
    [/^urls: item (\d+) \(["'](.*)["']\): (.*) \(allowed: (.*)\)$/, (m) => `Link ${m[1]} (${m[2]}) cannot be used: ${m[3]}. Links must start with https:// and be on ${m[4]}.`],
    [/^urls: give at most (\d+)/, (m) => `Paste at most ${m[1]} links.`],
    [/no Bluesky account set up/, "Searching Bluesky is not set up on this FindMe server. Choose another place to look."],
    [/^folder .* is not a folder/, "That folder is no longer there. Reload the page and pick another."],
    [/^(no job|this search no longer exists)/i, () => `This search no longer exists: it was deleted, or it expired${keptFor ? ` after ${keptFor}` : ""}.`],
    [/no progress for \d+ s/, "The search stopped making progress, so FindMe stopped it. Continue it: the photos already checked are kept."],
    [/the face you chose was not found/, "The face you chose was not found in your photo again. Choose your photo once more and tap your face."],
    [/this search is still running/, "This search is still running."],
    [/nothing left to search/, "This search is done: there is nothing left to search."],
    [/reference descriptors? (of this search )?ha(s|ve) expired/, "This search's copy of your face has expired. Start a new search."],
    [/faces of .* are no longer cached/, "FindMe no longer keeps that photo's faces, so it cannot be changed. Start a new search."],
    [/is not a match of this search/, "That photo is no longer among your matches. The list has been refreshed."],
    [/search has \d+ references already/, "This search already uses 10 confirmed photos of you, the most it can."],
    [/could not fire trigger|could not start the search/, "FindMe could not start part of the search. Try again in a minute."],
    [/^the search stopped: (.*)/, (m) => `The search stopped: ${inWords(m[1])}`],
    [/organiser deleted this event/, "The organiser deleted this event and its photos, so this search's results are gone."],
    [/^no event /, "This event no longer exists: its organiser deleted it, or it expired."],
    [/^event_id is not a FindMe event id/, "This link does not name a FindMe event: check that it was copied whole."],
    [/^that is not this event's owner key/, "That owner key is not this event's: check it, and paste it again."],
    [/^only the owner of this event/, "Only the event's organiser can do that, with the owner key FindMe gave when the event was made."],
    [/^live_hours must be between \S+ and (\S+)/, (m) => `Keep looking for new photos for 0 to ${Number(m[1])} hours.`],
    [/^retention_days must be between (\S+) and (\S+)/, (m) => `Keep the faces found for ${Number(m[1])} to ${Number(m[2])} days.`],
    [/^internal error/, "Something went wrong inside FindMe. Try again; if it happens again, tell whoever runs FindMe."],
    [/too large|over the limit|413/i, "What you send is too large for FindMe (1 MB a request): choose a smaller photo, or shorten the list of links."],
  ];

  // How long this FindMe keeps a search, in words ("7 days"), once it has said.
  let keptFor = "";

  function inWords(message) {
    const text = String(message || "").trim();
    for (const [pattern, words] of MESSAGES) {
      const found = text.match(pattern);
      if (found) return typeof words === "function" ? words(found) : words;
    }
    const tidy = text.replace(/\b[a-z]+_[a-z_]+\b/g, (name) => name.replace(/_/g, " "));
    // A sentence starts with a capital, unless it starts with a name written as it
    // is: a server (mastodon.social), a handle (@ada) or a link.
    if (!tidy) return "";
    const name = /[.@/]./.test(tidy.split(/\s/, 1)[0]);
    return `${name ? tidy[0] : tidy[0].toUpperCase()}${tidy.slice(1)}${/[.!?]$/.test(tidy) ? "" : "."}`;
  }

  return {
    inWords, photoReason,
    set keptFor(words) { keptFor = words; },
  };
})();
