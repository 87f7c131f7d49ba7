// Before a person's face goes anywhere: what FindMe keeps and for how long (this
// server's own keep period, from its sources action), who can see the results,
// and how to delete them. The person agrees once; this browser remembers it for
// this FindMe server, and asks again if the server starts keeping things longer.
"use strict";

const FindMeConsent = (() => {
  const $ = (id) => document.getElementById(id);
  const KEY = `findme:consent:${FindMeApi.origin}`;
  let keepSeconds = null;  // unknown until the sources action answers (or an old FindMe)
  let rereading = false;

  // 604800 -> "7 days"; 7200 -> "2 hours".
  function inWords(seconds) {
    if (!Number.isFinite(seconds) || seconds <= 0) return "a limited time";
    const [amount, unit] = seconds % 86400 === 0 ? [seconds / 86400, "day"] : [Math.round(seconds / 3600), "hour"];
    return `${amount} ${unit}${amount === 1 ? "" : "s"}`;
  }

  function agreedTo() {
    try { return JSON.parse(localStorage.getItem(KEY) || "null"); } catch (_) { return null; }
  }
  // Agreed, to keeping things at least as long as this server now does.
  function given() {
    const agreed = agreedTo();
    if (!agreed) return false;
    return keepSeconds === null || agreed.seconds === null || agreed.seconds >= keepSeconds;
  }

  function draw() {
    const agreed = given();
    $("consent").hidden = agreed && !rereading;
    $("consent-agree").hidden = agreed;
    $("consent-given").hidden = !agreed;
    $("consent-again").setAttribute("aria-expanded", String(rereading));
    $("who").disabled = !agreed;
  }

  // Called once the server has said how long it keeps a search (null: it did not say).
  function setKeep(seconds) {
    keepSeconds = Number.isFinite(seconds) ? seconds : null;
    const words = inWords(keepSeconds);
    document.querySelectorAll(".keep-for").forEach((element) => { element.textContent = words; });
    FindMeWords.keptFor = keepSeconds === null ? "" : words;
    $("consent-agree").disabled = false;  // the words are this server's now
    draw();
  }

  function wire() {
    $("consent-agree").addEventListener("click", () => {
      localStorage.setItem(KEY, JSON.stringify({ seconds: keepSeconds, at: Date.now() }));
      draw();
      $("reference").focus();
    });
    $("consent-again").addEventListener("click", () => {
      rereading = !rereading;
      draw();
    });
  }

  return { wire, setKeep, given, inWords };
})();
