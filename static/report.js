// The trip report, made in the browser from a finished job's status: a CSV list
// and one self-contained HTML page (thumbnails embedded as data: URLs).
"use strict";

const FindMeReport = (() => {
  const escape = (text) => String(text).replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

  function csv(status) {
    const quote = (v) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
    const lines = [["photo", "post_url", "author", "distance", "confidence", "top", "right", "bottom", "left"]];
    status.matches.forEach((m) =>
      lines.push([m.photo, m.post_url || "", m.author || "", m.distance, m.confidence || "", ...m.box]));
    return lines.map((line) => line.map(quote).join(",")).join("\n") + "\n";
  }

  // A small JPEG of the photo; the photo's own URL when the browser may not read it.
  async function thumbnail(url) {
    try {
      const blob = await (await fetch(url)).blob();
      const bitmap = await createImageBitmap(blob, { imageOrientation: "from-image" });
      const scale = Math.min(1, 800 / Math.max(bitmap.width, bitmap.height));
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return canvas.toDataURL("image/jpeg", 0.82);
    } catch (_) {
      return url;
    }
  }

  async function html(status, urlOf) {
    const items = await Promise.all(status.matches.map(async (m) => {
      const [top, right, bottom, left] = m.box;
      const pct = (a, b) => `${((100 * a) / b).toFixed(2)}%`;
      const outline = `left:${pct(left, m.width)};top:${pct(top, m.height)};` +
        `width:${pct(right - left, m.width)};height:${pct(bottom - top, m.height)}`;
      const link = m.post_url || (m.photo.startsWith("https://") ? m.photo : "");
      const label = escape(m.post_url ? "open the post" : m.photo);
      const caption = link ? `<a href="${escape(link)}">${label}</a>` : label;
      return `<li><div class="photo"><img src="${await thumbnail(urlOf(m))}" alt="${escape(m.photo)}">` +
        `<div class="face" style="${outline}"></div></div><div class="caption">${caption}` +
        `<span>distance ${m.distance.toFixed(2)}</span></div></li>`;
    }));
    const title = escape(status.query || "FindMe search");
    const when = new Date(status.created * 1000).toISOString().slice(0, 16).replace("T", " ");
    const style = "body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1d2433;background:#f6f7fb}" +
      "main{max-width:60rem;margin:0 auto;padding:1.5rem 1rem}h1{color:#2f6fed;margin:0}.meta{color:#5b6477}" +
      "ul{list-style:none;padding:0;display:grid;gap:1rem;align-items:start;" +
      "grid-template-columns:repeat(auto-fill,minmax(14rem,1fr))}li{background:#fff;border-radius:12px;" +
      "overflow:hidden;box-shadow:0 1px 3px #0002}.photo{position:relative;line-height:0}" +
      ".photo img{width:100%;display:block}.face{position:absolute;border:3px solid #ffd400;border-radius:4px}" +
      ".caption{padding:.6rem .8rem;display:flex;justify-content:space-between;gap:.5rem;font-size:.9rem}" +
      ".caption>*{min-width:0}.caption span{white-space:nowrap}a{color:#2f6fed;overflow-wrap:anywhere}";
    return `<!doctype html><html lang=en><head><meta charset=utf-8>` +
      `<meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} — FindMe</title>` +
      `<style>${style}</style></head><body><main><h1>${title}</h1>` +
      `<p class="meta">${status.matches.length} photos of you among ${status.photos_total}, searched ${when} UTC</p>` +
      `<ul>${items.join("")}</ul></main></body></html>`;
  }

  function save(text, name, type) {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type }));
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }

  return { csv, html, save };
})();
