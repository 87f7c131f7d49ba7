// The trip report, made in the browser from a job's status: a CSV list and one
// self-contained HTML page (thumbnails embedded as data: URLs). Every value is
// escaped where it lands; links are https only; CSV cells cannot run as formulas.
"use strict";

const FindMeReport = (() => {
  const escape = (text) => String(text ?? "").replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  const https = (url) => { try { return new URL(url).protocol === "https:" ? url : ""; } catch (_) { return ""; } };

  // A spreadsheet runs a cell starting with = + - @ (or a tab or CR before one) as a formula.
  const neutral = (value) => (typeof value === "string" && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value);

  function csv(status) {
    const quote = (v) => {
      const text = String(neutral(v) ?? "");
      return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    };
    const lines = [["photo", "post_url", "author", "distance", "confidence", "reviewed", "top", "right", "bottom", "left"]];
    status.matches.forEach((m) => lines.push([
      m.photo, https(m.post_url), m.author || "", m.review === "confirmed" ? "" : m.distance,
      m.confidence || "", m.review || "", ...m.box,
    ]));
    return lines.map((line) => line.map(quote).join(",")).join("\n") + "\n";
  }

  // A small JPEG of the photo, or null when the browser cannot read it.
  async function thumbnail(url) {
    try {
      const blob = await (await fetch(url)).blob();
      const bitmap = await createImageBitmap(blob, { imageOrientation: "from-image" });
      const scale = Math.min(1, 400 / Math.max(bitmap.width, bitmap.height));
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return canvas.toDataURL("image/jpeg", 0.8);
    } catch (_) {
      return null;
    }
  }

  // How many photos of the person among how many, and whether the search ended.
  function outcome(status, where) {
    const found = status.matches.length;
    const total = Number(status.photos_total) || 0;
    const done = Number(status.photos_done ?? total) || 0;
    const ofYou = `${found} photo${found === 1 ? "" : "s"} of you`;
    const state = status.state || "done";
    if (state === "done") return `${ofYou} among ${total} in ${where}`;
    const ended = { cancelled: "The search was stopped", failed: "The search failed" }[state]
      || "Still searching";
    if (!total) return `${ended} before any photo was listed in ${where}`;
    const among = `${ofYou} among the ${done} checked in ${where}`;
    if (state === "cancelled" || state === "failed") return `${ended} after ${done} of ${total} photos: ${among}`;
    return `${ended} (${done} of ${total} photos so far): ${among}`;
  }

  async function html(status, { urlOf, folder = "", label = "", onProgress = () => {} }) {
    let done = 0;
    const item = async (m) => {
      const [top, right, bottom, left] = m.box;
      const pct = (a, b) => `${((100 * a) / b).toFixed(2)}%`;
      const outline = `left:${pct(left, m.width)};top:${pct(top, m.height)};` +
        `width:${pct(right - left, m.width)};height:${pct(bottom - top, m.height)}`;
      const link = https(m.post_url) || https(m.photo);
      const name = escape(https(m.post_url) ? `post by ${m.author || "X user"}` : m.photo);
      const caption = link ? `<a href="${escape(link)}">${name}</a>` : name;
      const picture = await thumbnail(urlOf(m));
      done += 1;
      onProgress(done, status.matches.length);
      const shown = picture
        ? `<img src="${escape(picture)}" alt="${escape(m.photo)}"><div class="face" style="${escape(outline)}"></div>`
        : `<p>${escape(m.photo)} (photo not available)</p>`;
      const word = m.review === "confirmed" ? "confirmed by you" : escape(m.confidence || "possible");
      return `<li><div class="photo">${shown}</div><div class="caption">${caption}` +
        `<span>distance ${Number(m.distance).toFixed(2)}, ${word}</span></div></li>`;
    };
    const items = [];
    for (let i = 0; i < status.matches.length; i += 6) {  // a few at a time: memory stays small
      items.push(...await Promise.all(status.matches.slice(i, i + 6).map(item)));
    }
    // The server's words for the place (the CLI's reports say the same).
    const where = status.where || `the folder ${folder && folder !== "." ? folder : "of all photos"}`;
    const named = { folder: `Photos in ${status.name}`, urls: "Photos from a list of URLs" };
    const title = escape(status.query || (status.name && named[status.source]) || label || "FindMe search");
    const when = new Date((status.created || 0) * 1000).toISOString().slice(0, 16).replace("T", " ");
    const style = "body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1d2433;background:#f6f7fb}" +
      "main{max-width:60rem;margin:0 auto;padding:1.5rem 1rem}h1{color:#1f4fb8;margin:0}.meta{color:#4a5266}" +
      "ul{list-style:none;padding:0;display:grid;gap:1rem;align-items:start;" +
      "grid-template-columns:repeat(auto-fill,minmax(14rem,1fr))}li{background:#fff;border-radius:12px;" +
      "overflow:hidden;box-shadow:0 1px 3px #0002}.photo{position:relative;line-height:0}" +
      ".photo img{width:100%;display:block}.face{position:absolute;border:3px solid #ffd400;border-radius:4px}" +
      ".caption{padding:.6rem .8rem;display:flex;flex-direction:column;gap:.2rem;font-size:.9rem}" +
      "a{color:#1f4fb8;overflow-wrap:anywhere}";
    return `<!doctype html><html lang=en><head><meta charset=utf-8>` +
      `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} — FindMe</title>` +
      `<style>${style}</style></head><body><main><h1>${title}</h1>` +
      `<p class="meta">${escape(outcome(status, where))}; ` +
      `faces up to distance ${Number(status.threshold).toFixed(2)}; searched ${escape(when)} UTC.</p>` +
      `<ul>${items.join("")}</ul></main></body></html>`;
  }

  function save(content, name, type) {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(content instanceof Blob ? content : new Blob([content], { type }));
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  }

  return { csv, html, save, neutral };
})();
