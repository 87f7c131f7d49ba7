// The results of one search: cards with thumbnails, live filtering, paging,
// selection for bulk review, the list of rejected photos, and the lightbox.
"use strict";

const FindMeResults = (() => {
  const $ = (id) => document.getElementById(id);
  const PAGE = 60;  // cards added at a time: 300+ matches stay quick
  // fresh: photos found while the page was open (a live event's new photos), marked "new".
  const state = {
    status: null, folder: "", shown: PAGE, selected: new Set(), visible: [], lightboxAt: -1, fresh: new Set(),
    onReview: async () => {},
  };

  const joinPath = (...parts) => parts.filter((p) => p && p !== ".").map((p) => p.split("/").map(encodeURIComponent).join("/")).join("/");
  const isHttps = (url) => { try { return new URL(url).protocol === "https:"; } catch (_) { return false; } };

  // The original photo: its https URL, or the local engine's photo route.
  function originalUrl(match) {
    if (isHttps(match.photo)) return match.photo;
    return `${FindMeApi.localBase}/photos/${joinPath(state.folder, match.photo)}`;
  }
  // A JPEG any browser shows (TIFF, BMP, 16-bit PNG included), at most `side` px.
  function previewUrl(match, side) {
    if (isHttps(match.photo)) {
      const url = new URL(match.photo);
      // X serves each photo in several sizes: a card needs its small one.
      if (url.hostname === "pbs.twimg.com") url.searchParams.set("name", side <= 400 ? "small" : "large");
      return url.href;
    }
    return `${FindMeApi.localBase}/previews/${joinPath(state.folder, match.photo)}?side=${side}`;
  }
  const postLink = (match) => (isHttps(match.post_url) ? match.post_url : "");
  const label = (match) => (match.review === "confirmed" ? "confirmed" : match.confidence || "possible");
  const displayName = (match) => (isHttps(match.photo) ? new URL(match.photo).pathname.split("/").pop() : match.photo);
  // A file name may break after / _ - . (IMG_2024_0512.jpg), not inside a word.
  function breakable(name) {
    return name.split(/(?<=[/_\-.])/).flatMap((part, i) => (i ? [document.createElement("wbr"), part] : [part]));
  }

  function outline(element, match) {
    const [top, right, bottom, left] = match.box;
    Object.assign(element.style, {
      left: `${(100 * left) / match.width}%`, top: `${(100 * top) / match.height}%`,
      width: `${(100 * (right - left)) / match.width}%`, height: `${(100 * (bottom - top)) / match.height}%`,
    });
  }

  function button(text, className, accessibleName, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = className;
    b.textContent = text;
    if (accessibleName) b.setAttribute("aria-label", accessibleName);
    b.addEventListener("click", onClick);
    return b;
  }

  function card(match) {
    const item = document.createElement("li");
    item.dataset.photo = match.photo;
    const name = displayName(match);
    const open = button("", "photo", `View ${name} larger`, () => openLightbox(match.photo));
    const img = document.createElement("img");
    img.src = previewUrl(match, 400);
    img.alt = "";
    img.loading = "lazy";
    img.decoding = "async";
    const face = document.createElement("span");
    face.className = "face";
    open.append(img, face);
    const caption = document.createElement("div");
    caption.className = "caption";
    const pick = document.createElement("input");
    pick.type = "checkbox";
    pick.className = "pick";
    pick.setAttribute("aria-label", `Select ${name}`);
    pick.addEventListener("change", () => {
      if (pick.checked) state.selected.add(match.photo); else state.selected.delete(match.photo);
      updateSelection();
    });
    const title = document.createElement(postLink(match) ? "a" : "span");
    title.className = "name";
    title.replaceChildren(...(postLink(match) ? [`post by ${match.author || "X user"}`] : breakable(name)));
    if (postLink(match)) {
      title.href = postLink(match);
      title.target = "_blank";
      title.rel = "noopener";
    }
    const distance = document.createElement("span");
    distance.className = "distance";
    caption.append(pick, title, distance);
    const review = document.createElement("div");
    review.className = "review";
    item.append(open, caption, review);
    update(item, match);
    return item;
  }

  // Box, distance and review change when a confirmed face re-ranks the photos.
  function update(item, match) {
    outline(item.querySelector(".face"), match);
    const name = displayName(match);
    const distance = item.querySelector(".distance");
    const badge = document.createElement("b");
    badge.className = `badge ${label(match)}`;
    badge.textContent = label(match);
    if (match.review === "confirmed") badge.textContent = "confirmed by you";
    const fresh = document.createElement("b");
    fresh.className = "badge new";
    fresh.textContent = "new";
    // A confirmed face becomes a reference, so its distance (0) says nothing.
    distance.replaceChildren(...(match.review === "confirmed" ? [] : [`distance ${match.distance.toFixed(2)} `]), badge,
      ...(state.fresh.has(match.photo) ? [" ", fresh] : []));
    item.querySelector(".pick").checked = state.selected.has(match.photo);
    const review = item.querySelector(".review");
    if (match.review === "confirmed") {
      const note = document.createElement("span");
      note.className = "note";
      note.textContent = "You confirmed this photo; its face now helps find more photos of you.";
      review.replaceChildren(note);
    } else if (!review.querySelector("button")) {
      review.replaceChildren(
        button("That's me", "confirm", `That's me: ${name}`, () => state.onReview([match.photo], "confirm")),
        button("Not me", "reject", `Not me: ${name}`, () => state.onReview([match.photo], "reject")),
      );
    }
  }

  function visibleMatches() {
    if (!state.status) return [];
    const limit = Number($("filter").value);
    const strongOnly = $("strong-only").checked;
    const order = $("order").value;
    return state.status.matches
      .filter((m) => m.review === "confirmed" || m.distance <= limit + 1e-9)
      .filter((m) => !strongOnly || m.review === "confirmed" || m.confidence === "strong")
      .sort((a, b) => (order === "photo" ? a.photo.localeCompare(b.photo) : a.distance - b.distance));
  }

  function groups(matches) {
    const counts = new Map();
    matches.forEach((m) => {
      const folder = isHttps(m.photo) ? "" : m.photo.split("/").slice(0, -1).join("/");
      counts.set(folder || "this folder", (counts.get(folder || "this folder") || 0) + 1);
    });
    if (counts.size < 2) return "";
    return `By folder: ${[...counts].map(([name, n]) => `${name} ${n}`).join(", ")}`;
  }

  function draw() {
    const all = visibleMatches();
    state.visible = all;
    const list = $("matches");
    const cards = new Map([...list.children].map((li) => [li.dataset.photo, li]));
    const ordered = all.slice(0, state.shown).map((m) => {
      const existing = cards.get(m.photo);
      if (existing) update(existing, m);
      return existing || card(m);
    });
    list.replaceChildren(...ordered);  // keeps existing cards and their loaded images
    const hidden = all.length - ordered.length;
    $("more").hidden = hidden <= 0;
    $("more").textContent = `Show ${Math.min(PAGE, hidden)} more of ${hidden} photos`;
    const total = state.status.matches.length;
    $("results-title").textContent = all.length === total
      ? `Your photos (${total})` : `Your photos (${all.length} shown of ${total})`;
    $("groups").textContent = groups(all);
    [...state.selected].forEach((p) => { if (!state.status.matches.some((m) => m.photo === p)) state.selected.delete(p); });
    updateSelection();
  }

  // What to do with the selected photos shows once there are some: a phone's bar stays short.
  function updateSelection() {
    const count = state.selected.size;
    $("selected-count").textContent = `${count} selected`;
    $("selection").hidden = count === 0;
    const shown = state.visible.slice(0, state.shown);
    $("select-all").checked = shown.length > 0 && shown.every((m) => state.selected.has(m.photo));
  }

  function show(status, folder) {
    state.status = status;
    state.folder = folder;
    $("results").hidden = status.matches.length === 0;
    draw();
  }

  function reset() {
    openMenu(false);
    state.status = null;
    state.shown = PAGE;
    state.selected.clear();
    state.fresh = new Set();
    $("matches").replaceChildren();
    $("results").hidden = true;
  }

  // -- the lightbox: a large view with the face outlined; arrows, swipes, Escape.
  function openLightbox(photo) {
    state.lightboxAt = state.visible.findIndex((m) => m.photo === photo);
    showLightbox();
    if (!$("lightbox").open) $("lightbox").showModal();
  }
  function showLightbox() {
    const match = state.visible[state.lightboxAt];
    if (!match) return;
    const name = displayName(match);
    $("lightbox-title").textContent = `${name}, photo ${state.lightboxAt + 1} of ${state.visible.length}`;
    $("lightbox-image").src = previewUrl(match, 1600);
    $("lightbox-image").alt = `${name}, with your face outlined`;
    outline($("lightbox-face"), match);
    $("lightbox-caption").textContent =
      `${name}: distance ${match.distance.toFixed(2)} (${label(match)}), ${match.faces || 1} face${match.faces > 1 ? "s" : ""} in the photo. Photo ${state.lightboxAt + 1} of ${state.visible.length}.`;
    $("lightbox-original").href = postLink(match) || originalUrl(match);
    $("lightbox-original").textContent = postLink(match) ? "Open the post" : "Open the original";
    $("lightbox-prev").disabled = state.lightboxAt <= 0;
    $("lightbox-next").disabled = state.lightboxAt >= state.visible.length - 1;
  }
  function step(delta) {
    const next = state.lightboxAt + delta;
    if (next < 0 || next >= state.visible.length) return;
    state.lightboxAt = next;
    showLightbox();
  }

  // "More": the bar's secondary actions, in a menu that closes on a choice,
  // on Escape (focus back on its button) and on a click elsewhere.
  function openMenu(open) {
    $("more-actions").setAttribute("aria-expanded", String(open));
    $("more-actions-list").hidden = !open;
  }
  function wireMenu() {
    $("more-actions").addEventListener("click", () => {
      const open = $("more-actions-list").hidden;
      openMenu(open);
      if (open) $("more-actions-list").querySelector("button").focus();
    });
    $("more-actions-list").addEventListener("click", (event) => {
      if (event.target.closest("button")) openMenu(false);
    });
    $("more-actions-list").addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      openMenu(false);
      $("more-actions").focus();
    });
    document.addEventListener("click", (event) => {
      if (!event.target.closest(".menu")) openMenu(false);
    });
  }

  function wire() {
    wireMenu();
    $("filter").addEventListener("input", () => {
      $("filter-value").textContent = Number($("filter").value).toFixed(2);
      draw();
    });
    $("strong-only").addEventListener("change", draw);
    $("order").addEventListener("change", draw);
    $("more").addEventListener("click", () => {
      const first = state.shown;
      state.shown += PAGE;
      draw();
      $("matches").children[first]?.querySelector("button")?.focus();
    });
    $("select-all").addEventListener("change", () => {
      state.visible.slice(0, state.shown).forEach((m) => {
        if ($("select-all").checked) state.selected.add(m.photo); else state.selected.delete(m.photo);
      });
      draw();
    });
    $("lightbox-prev").addEventListener("click", () => step(-1));
    $("lightbox-next").addEventListener("click", () => step(1));
    $("lightbox-close").addEventListener("click", () => $("lightbox").close());
    $("lightbox").addEventListener("keydown", (event) => {
      if (event.key === "ArrowLeft") step(-1);
      if (event.key === "ArrowRight") step(1);
    });
    let startX = null;
    $("lightbox").addEventListener("pointerdown", (event) => { startX = event.clientX; });
    $("lightbox").addEventListener("pointerup", (event) => {
      if (startX === null) return;
      const moved = event.clientX - startX;
      startX = null;
      if (Math.abs(moved) > 50) step(moved < 0 ? 1 : -1);
    });
    $("lightbox").addEventListener("close", () => {
      const match = state.visible[state.lightboxAt];
      const item = match && [...$("matches").children].find((li) => li.dataset.photo === match.photo);
      item?.querySelector("button.photo")?.focus();
    });
  }

  return {
    wire, show, reset, draw, originalUrl, previewUrl, visibleMatches, displayName, isHttps,
    markNew(photos) { state.fresh = new Set(photos); },
    get selected() { return state.selected; },
    set onReview(callback) { state.onReview = callback; },
    filterTo(value) {
      $("filter").value = String(value);
      $("filter-value").textContent = Number(value).toFixed(2);
      draw();
    },
    setFilterMax(threshold) {
      $("filter").max = String(threshold);
      $("filter").value = String(threshold);
      $("filter-value").textContent = Number(threshold).toFixed(2);
    },
  };
})();
