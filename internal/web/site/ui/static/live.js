// Keeps a live page (<main data-live>) up to date without reloading. The page works without
// JavaScript too: it then reloads itself every few seconds (a <noscript> refresh). Here the
// server's live event stream says when a call starts, is answered, ends or its risk changes,
// and the page fetches itself again and puts the new <main> in place of the old; the
// durations are counted here every second. A call's page stops listening once the call has
// ended.
(function () {
  "use strict";
  if (!document.querySelector("main[data-live]") || !window.EventSource || !window.fetch) {
    return;
  }
  var events = new EventSource("/api/v1/live/events");
  var busy = false, again = false;
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (res) { return res.ok ? res.text() : Promise.reject(res.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("main");
        if (!fresh) { return; }
        document.querySelector("main").replaceWith(fresh);
        if (!fresh.hasAttribute("data-live")) { events.close(); }
        tick();
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }
  events.addEventListener("live", refresh);
  function words(s) {
    s = Math.max(0, Math.floor(s));
    if (s < 60) { return s + " s"; }
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    if (s < 3600) { return Math.floor(s / 60) + " min " + pad(s % 60) + " s"; }
    return Math.floor(s / 3600) + " h " + pad(Math.floor(s % 3600 / 60)) + " min";
  }
  function tick() {
    document.querySelectorAll("[data-since]").forEach(function (el) {
      el.textContent = words((Date.now() - Date.parse(el.getAttribute("data-since"))) / 1000);
    });
  }
  setInterval(tick, 1000);
})();
