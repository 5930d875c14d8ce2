// The control wall's keyboard and its "live for" clocks. The wall works without it: the tiles are links,
// the numbers are rendered by the server, and only the shortcuts and the minutes ticking need this file.
// No inline script, no eval (the CSP forbids both).
(function () {
  "use strict";

  // ---------------------------------------------------------------- clocks

  // "Live for" and "preparing for" on the server's clock, not the browser's (a browser a minute off must
  // not say a minute more): #wall-body carries the server's time when it was rendered.
  var offset = 0;
  function syncClock() {
    var body = document.getElementById("wall-body");
    var serverNow = body && Number(body.getAttribute("data-server-now"));
    if (serverNow && serverNow !== syncClock.seen) {
      syncClock.seen = serverNow;
      offset = serverNow - Date.now();
    }
  }
  var now = function () { return Date.now() + offset; };

  // "<1 min", "12 min", "1 h 5 min": streams/views/wall.py's short_span, in the browser.
  function span(seconds) {
    var minutes = Math.floor(Math.max(seconds, 0) / 60);
    if (minutes < 1) return "<1 min";
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    if (hours && minutes) return hours + " h " + minutes + " min";
    return hours ? hours + " h" : minutes + " min";
  }
  // A drop's countdown ([data-deadline]) and the tab's title are app.js's, as on a stream's page.
  function tick() {
    var at = now();
    document.querySelectorAll("#wall [data-since]").forEach(function (el) {
      var text = span((at - Number(el.getAttribute("data-since"))) / 1000);
      if (el.textContent !== text) el.textContent = text;
    });
  }

  // ---------------------------------------------------------------- keyboard

  var keys = function () { return document.getElementById("wall-keys"); };
  var tiles = function () { return Array.prototype.slice.call(document.querySelectorAll("#wall [data-tile]")); };

  function typing(target) {
    if (!target || !target.closest) return false;
    return !!target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']");
  }

  function move(step) {
    var all = tiles();
    if (!all.length) return;
    var current = document.activeElement && document.activeElement.closest ? document.activeElement.closest("[data-tile]") : null;
    var index = all.indexOf(current);
    var next = index === -1 ? (step > 0 ? 0 : all.length - 1) : Math.min(Math.max(index + step, 0), all.length - 1);
    var link = all[next].querySelector("[data-tile-link]");
    link.focus();
    link.scrollIntoView({ block: "nearest" });
  }

  function focusedTile() {
    var el = document.activeElement;
    return el && el.closest ? el.closest("[data-tile]") : null;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (typing(event.target) || document.querySelector("dialog[open]")) return;
    var tile = focusedTile();
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "f": {
        var finish = tile && tile.querySelector("[data-wall-finish]");
        if (!finish) return;
        finish.click(); // app.js opens its confirmation in the dialog
        break;
      }
      case "?": keys().showModal(); break;
      default: return;
    }
    event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-wall-keys]")) keys().showModal();
    if (event.target.closest("[data-wall-keys-close]")) keys().close();
  });

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("[data-wall-keys]");
    if (button) button.hidden = false;
    syncClock();
    tick();
    window.setInterval(tick, 1000);
  });
  document.addEventListener("htmx:afterSettle", function () { syncClock(); tick(); });

  // A refresh keeps the focused tile focused (the morph keeps its node), but when that tile leaves the
  // wall (its broadcast ended, say after f), focus would fall to the page's top unannounced: it goes to
  // the tile now in its place, or to the summary when none is left.
  var focusedIndex = -1;
  document.addEventListener("htmx:oobBeforeSwap", function () {
    var tile = focusedTile();
    focusedIndex = tile ? tiles().indexOf(tile) : -1;
  });
  document.addEventListener("htmx:oobAfterSwap", function () {
    syncClock();
    tick();
    var was = focusedIndex;
    focusedIndex = -1;
    if (was === -1 || focusedTile() || document.querySelector("dialog[open]")) return;
    var all = tiles();
    var target = all.length ? all[Math.min(was, all.length - 1)].querySelector("[data-tile-link]")
      : document.getElementById("wall-summary");
    if (target) target.focus();
  });
})();
