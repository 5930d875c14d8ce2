// The console's only script: small behaviours wired by data-* attributes. Every page works without it.
// No inline script, no eval (the CSP forbids both); htmx does the fetching and swapping.
(function () {
  "use strict";

  var dialog = function () { return document.getElementById("confirm-dialog"); };
  var dialogOpen = function () { var d = dialog(); return !!(d && d.open); };
  var pollBackoff = new WeakMap();

  // Morphing (static/vendor/idiomorph): polled and out-of-band fragments use hx-swap-oob="morph", so the
  // element the user is on stays the same node and keeps its focus. idiomorph 0.8.0's own registration
  // says every swap style is "inline", which nests the wrapper of an hx-swap-oob="innerHTML" inside its
  // target (idiomorph issue #148); this one answers only for morph, and has no morph:<expression> form
  // (that form calls Function(), which the CSP forbids).
  if (window.htmx && window.Idiomorph) {
    var morphStyle = function (swapStyle) {
      if (swapStyle === "morph" || swapStyle === "morph:outerHTML") return "outerHTML";
      if (swapStyle === "morph:innerHTML") return "innerHTML";
      return null;
    };
    window.htmx.defineExtension("morph", {
      isInlineSwap: function (swapStyle) { return morphStyle(swapStyle) === "outerHTML"; },
      handleSwap: function (swapStyle, target, fragment) {
        var style = morphStyle(swapStyle);
        if (style) return window.Idiomorph.morph(target, fragment.children, { morphStyle: style });
      }
    });
  }

  // Polling: pause while the tab is hidden or a confirmation is open, resume when it is back.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var el = event.detail.elt;
    if (el.hasAttribute && el.hasAttribute("data-poll") && (document.hidden || dialogOpen())) {
      el.setAttribute("data-poll-paused", "");
      event.preventDefault();
    }
  });
  function resumePolling() {
    if (document.hidden || dialogOpen()) return;
    document.querySelectorAll("[data-poll-paused]").forEach(function (el) {
      el.removeAttribute("data-poll-paused");
      window.htmx.trigger(el, "poll-resume");
    });
  }
  document.addEventListener("visibilitychange", resumePolling);

  // When the console itself cannot be reached, poll again later, waiting longer each time, and say so:
  // a page that silently stops updating (a wall on a screen, a viewer count) would look current.
  function pollTrouble(failed) {
    var note = document.getElementById("poll-trouble");
    if (!note || note.hidden === !failed) return;
    if (failed) {
      var now = new Date();  // the console's 24-hour clock (see `clock` below), to the second
      var since = pad(now.getHours()) + ":" + pad(now.getMinutes()) + ":" + pad(now.getSeconds());
      note.textContent = "Not updating since " + since + ": the console did not answer. Trying again…";
    } else {
      note.textContent = "";
    }
    note.hidden = !failed;
  }
  function pollFailed(event) {
    var el = event.detail.elt;
    if (!el.hasAttribute || !el.hasAttribute("data-poll")) return;
    var wait = Math.min((pollBackoff.get(el) || 5000) * 2, 60000);
    pollBackoff.set(el, wait);
    pollTrouble(true);
    window.setTimeout(function () { window.htmx.trigger(el, "poll-resume"); }, wait);
  }
  document.addEventListener("htmx:sendError", pollFailed);
  document.addEventListener("htmx:responseError", pollFailed);
  // New content came in (a poll's answer, whatever it swaps): the console is reachable again.
  document.addEventListener("htmx:load", function () { pollTrouble(false); });

  // A pending action says what it is doing ("Finishing…") and its dialog cannot be closed until the
  // answer arrives: closing it then would leave the user not knowing what happened.
  function setBusy(d, busy) {
    if (!d) return;
    if (busy) d.setAttribute("data-busy", ""); else d.removeAttribute("data-busy");
    d.setAttribute("aria-busy", busy ? "true" : "false");
    d.querySelectorAll("[data-dialog-close]").forEach(function (b) { b.disabled = busy; });
  }
  document.addEventListener("htmx:beforeSend", function (event) {
    var form = event.detail.elt;
    if (!form || form.tagName !== "FORM") return;
    var button = form.querySelector("button[data-pending-label]");
    if (button && button.getAttribute("data-pending-label") && !button.hasAttribute("data-label")) {
      button.setAttribute("data-label", button.textContent);
      button.textContent = button.getAttribute("data-pending-label");
    }
    var d = form.closest("dialog");
    if (d) setBusy(d, true);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form || form.tagName !== "FORM") return;
    var button = form.querySelector("button[data-label]");
    if (button) {
      button.textContent = button.getAttribute("data-label");
      button.removeAttribute("data-label");
    }
    setBusy(form.closest("dialog"), false);
  });

  // Confirmations: a link with data-dialog loads its confirmation page into the dialog, then opens it.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "confirm-dialog-body") {
      var d = dialog();
      if (!d.open) d.showModal();
      var first = d.querySelector("[data-autofocus]") || d.querySelector("button, input, a");
      if (first) first.focus();
    }
  });
  document.addEventListener("click", function (event) {
    // A link marked data-dialog opens its confirmation page inside the dialog instead of navigating.
    var opener = event.target.closest("a[data-dialog]");
    if (opener && window.htmx && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
      event.preventDefault();
      window.htmx.ajax("GET", opener.href, { target: "#confirm-dialog-body", swap: "innerHTML", source: opener });
      return;
    }
    var close = event.target.closest("[data-dialog-close]");
    if (close && dialogOpen()) {
      event.preventDefault();
      if (!dialog().hasAttribute("data-busy")) dialog().close();
    }
    var dismiss = event.target.closest("[data-dismiss-messages]");
    if (dismiss) {
      // Without JavaScript the link reloads the page, which shows no message a second time.
      event.preventDefault();
      document.getElementById("messages").replaceChildren();
      var main = document.getElementById("main");
      if (main) main.focus({ preventScroll: true });
    }
    var copy = event.target.closest("[data-copy]");
    if (copy) copyText(copy);
  });
  document.addEventListener("closeDialog", function () {
    var d = dialog();
    setBusy(d, false);
    if (dialogOpen()) d.close();
  });
  document.addEventListener("DOMContentLoaded", function () {
    var d = dialog();
    if (d) {
      d.addEventListener("cancel", function (event) {
        if (d.hasAttribute("data-busy")) event.preventDefault();
      });
      d.addEventListener("close", function () {
        // Chrome lets a second Escape close a dialog whose cancel was refused: open it again.
        if (d.hasAttribute("data-busy")) { d.showModal(); return; }
        document.getElementById("confirm-dialog-body").replaceChildren();
        resumePolling();
      });
    }
    wireTimes();
  });
  document.addEventListener("htmx:afterSettle", wireTimes);
  document.addEventListener("htmx:oobAfterSwap", wireTimes);

  // A thumbnail that cannot load (a recording just made, or no route to the images host) leaves a
  // neutral box instead of a broken-image icon.
  document.addEventListener("error", function (event) {
    var img = event.target;
    if (img.tagName === "IMG" && img.classList.contains("thumb")) img.classList.add("thumb-missing");
  }, true);

  // Typed confirmation (delete): the submit button stays disabled until the name or id is typed.
  // Compared as streams/policy.py normalize_confirmation compares them on the server: NFKC, every
  // Unicode dash as "-", whitespace runs as one space, trimmed, lower case.
  var DASHES = /[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]/g;
  // Python's \s (str.isspace), not JavaScript's: the same characters count as space on both sides.
  var SPACES = /[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g;
  function normalizeConfirmation(text) {
    return text.normalize("NFKC").replace(DASHES, "-").replace(SPACES, " ").replace(/^ | $/g, "").toLowerCase();
  }
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.hasAttribute || !input.hasAttribute("data-confirm-match")) return;
    var accepted = input.getAttribute("data-confirm-match").split("\n").map(normalizeConfirmation);
    var form = input.closest("form");
    var submit = form && form.querySelector("[data-confirm-submit]");
    if (submit) submit.disabled = accepted.indexOf(normalizeConfirmation(input.value)) === -1;
  });

  // Plain (non-htmx) forms marked data-once cannot be submitted twice.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-once") || form.hasAttribute("hx-post")) return;
    if (form.hasAttribute("data-submitted")) { event.preventDefault(); return; }
    form.setAttribute("data-submitted", "");
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
  });

  // Encoder setup (templates/streams/_encoder_setup.html): without JavaScript every encoder is a section;
  // here they become tabs (the ARIA tabs pattern: arrows, Home and End move between tabs). The card is
  // swapped whole after a reveal, so the chosen tab is remembered and chosen again.
  var chosenTab = {};
  function chooseTab(box, tab, focus) {
    box.querySelectorAll("[role=tab]").forEach(function (other) {
      var on = other === tab;
      other.setAttribute("aria-selected", on ? "true" : "false");
      other.tabIndex = on ? 0 : -1;
      document.getElementById(other.getAttribute("aria-controls")).hidden = !on;
    });
    chosenTab[box.id] = tab.id;
    if (focus) tab.focus();
  }
  function wireTabs() {
    document.querySelectorAll("[data-tabs]:not([data-tabs-wired])").forEach(function (box) {
      box.setAttribute("data-tabs-wired", "");
      var list = box.querySelector("[data-tablist]");
      var tabs = Array.prototype.slice.call(list.querySelectorAll("[role=tab]"));
      tabs.forEach(function (tab) {
        var panel = document.getElementById(tab.getAttribute("aria-controls"));
        panel.setAttribute("role", "tabpanel");
        panel.setAttribute("aria-labelledby", tab.id);
        panel.tabIndex = 0;
      });
      list.hidden = false;
      box.classList.add("tabbed");
      chooseTab(box, document.getElementById(chosenTab[box.id]) || tabs[0], false);
      list.addEventListener("click", function (event) {
        var tab = event.target.closest("[role=tab]");
        if (tab) chooseTab(box, tab, true);
      });
      list.addEventListener("keydown", function (event) {
        var at = tabs.indexOf(event.target);
        if (at === -1) return;
        var to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[event.key];
        if (to === undefined) return;
        event.preventDefault();
        chooseTab(box, tabs[(to + tabs.length) % tabs.length], true);
      });
    });
  }
  // The QR code of the ingest URL (stream key included) leaves the screen after the server's delay.
  function wireQr() {
    document.querySelectorAll("[data-qr-seconds]:not([data-qr-timed])").forEach(function (qr) {
      qr.setAttribute("data-qr-timed", "");
      window.setTimeout(function () {
        var note = document.createElement("p");
        note.className = "hint";
        note.textContent = qr.getAttribute("data-qr-gone");
        qr.replaceWith(note);
      }, parseFloat(qr.getAttribute("data-qr-seconds")) * 1000);
    });
  }
  function wireEncoderSetup() { wireTabs(); wireQr(); }
  document.addEventListener("DOMContentLoaded", wireEncoderSetup);
  document.addEventListener("htmx:afterSettle", wireEncoderSetup);

  function copyText(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.value !== undefined && source.tagName === "INPUT" ? source.value : source.textContent.trim();
    var done = function () {
      // The label is our own markup ("Copy" and a visually hidden name of the field): keep its nodes and
      // put them back, not its flattened text. The hidden name stays meanwhile ("Copied OBS Studio Server"),
      // and a second click while it says "Copied" keeps the first label.
      if (!button.copyLabel) button.copyLabel = Array.prototype.slice.call(button.childNodes);
      var hidden = button.querySelector(".visually-hidden");
      button.replaceChildren("Copied");
      if (hidden) button.appendChild(hidden);
      window.clearTimeout(button.copyTimer);
      button.copyTimer = window.setTimeout(function () {
        button.replaceChildren.apply(button, button.copyLabel);
        button.copyLabel = null;
      }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
    } else {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "offscreen";
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
      done();
    }
  }

  // Drop alerts (templates/streams/_drop_alert.html): each [data-deadline] counts down every second. The
  // deadline is the server's time, so the count runs on the server's clock: data-now says what time it was
  // there when the banner was rendered, and the difference from this clock is kept per render. While a
  // drop banner ([data-drop]) is on the page the tab's title says so, and says so no more once it goes.
  var DROPPED = "\u26a0 Dropped \u2014 ";
  var plainTitle = null;
  var skews = new WeakMap();
  function countdownText(seconds) {
    var hours = Math.floor(seconds / 3600), minutes = Math.floor((seconds % 3600) / 60), rest = seconds % 60;
    return hours ? hours + ":" + pad(minutes) + ":" + pad(rest) : minutes + ":" + pad(rest);
  }
  function tickDrops() {
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var rendered = el.getAttribute("data-now");
      var skew = skews.get(el);
      if (!skew || skew.rendered !== rendered) {
        skew = { rendered: rendered, ms: (Date.parse(rendered) || Date.now()) - Date.now() };
        skews.set(el, skew);
      }
      var left = (Date.parse(el.getAttribute("data-deadline")) - (Date.now() + skew.ms)) / 1000;
      var text = countdownText(Math.max(0, Math.ceil(left)));
      if (el.textContent !== text) el.textContent = text;
    });
    if (plainTitle === null) plainTitle = document.title.replace(DROPPED, "");
    var title = document.querySelector("[data-drop]") ? DROPPED + plainTitle : plainTitle;
    if (document.title !== title) document.title = title;
  }
  document.addEventListener("DOMContentLoaded", tickDrops);
  document.addEventListener("htmx:afterSettle", tickDrops);
  document.addEventListener("htmx:oobAfterSwap", tickDrops);
  window.setInterval(tickDrops, 1000);

  // Times: the server writes "29 Nov 2026, 14:05" in its own zone with "3 hours ago" as the title
  // (streams/templatetags/console.py `when`); here the same format, in the browser's zone.
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var pad = function (n) { return (n < 10 ? "0" : "") + n; };
  function clock(when) {
    return when.getDate() + " " + MONTHS[when.getMonth()] + " " + when.getFullYear() + ", " +
      pad(when.getHours()) + ":" + pad(when.getMinutes());
  }
  var UNITS = [["year", 365 * 86400], ["month", 30 * 86400], ["day", 86400], ["hour", 3600], ["minute", 60]];
  function relative(when) {
    var seconds = Math.round((Date.now() - when.getTime()) / 1000);
    var span = Math.abs(seconds);
    for (var i = 0; i < UNITS.length; i++) {
      var n = Math.floor(span / UNITS[i][1]);
      if (n >= 1) {
        var words = n + " " + UNITS[i][0] + (n === 1 ? "" : "s");
        return seconds >= 0 ? words + " ago" : "in " + words;
      }
    }
    return "just now";
  }
  function wireTimes() {
    document.querySelectorAll("time[data-local]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      var text = clock(when);
      var title = relative(when);
      if (el.textContent !== text) el.textContent = text;
      if (el.getAttribute("title") !== title) el.setAttribute("title", title);
    });
  }
})();
