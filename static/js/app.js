// The console's only script: small behaviours wired by data-* attributes. Every page works without it.
// No inline script, no eval (the CSP forbids both); htmx does the fetching and swapping.
(function () {
  "use strict";

  var dialog = function () { return document.getElementById("confirm-dialog"); };
  var dialogOpen = function () { var d = dialog(); return !!(d && d.open); };
  var pollBackoff = new WeakMap();

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

  // When the console itself cannot be reached, poll again later, waiting longer each time.
  function pollFailed(event) {
    var el = event.detail.elt;
    if (!el.hasAttribute || !el.hasAttribute("data-poll")) return;
    var wait = Math.min((pollBackoff.get(el) || 5000) * 2, 60000);
    pollBackoff.set(el, wait);
    window.setTimeout(function () { window.htmx.trigger(el, "poll-resume"); }, wait);
  }
  document.addEventListener("htmx:sendError", pollFailed);
  document.addEventListener("htmx:responseError", pollFailed);

  // Confirmations: a link with data-dialog loads its confirmation page into the dialog, then opens it.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "confirm-dialog-body") {
      var d = dialog();
      if (!d.open) d.showModal();
      var first = d.querySelector("[data-autofocus]") || d.querySelector("button, input, a");
      if (first) first.focus();
    }
    wireTimes(event.detail.target);
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
      dialog().close();
    }
    var copy = event.target.closest("[data-copy]");
    if (copy) copyText(copy);
  });
  document.addEventListener("htmx:oobAfterSwap", function (event) { wireTimes(event.detail.target); });
  document.addEventListener("closeDialog", function () { if (dialogOpen()) dialog().close(); });
  document.addEventListener("DOMContentLoaded", function () {
    var d = dialog();
    if (d) d.addEventListener("close", function () {
      document.getElementById("confirm-dialog-body").replaceChildren();
      resumePolling();
    });
    wireTimes(document);
  });

  // A thumbnail that cannot load (a recording just made, or no route to the images host) leaves a
  // neutral box instead of a broken-image icon.
  document.addEventListener("error", function (event) {
    var img = event.target;
    if (img.tagName === "IMG" && img.classList.contains("thumb")) img.classList.add("thumb-missing");
  }, true);

  // Typed confirmation (delete): the submit button stays disabled until the name or id is typed.
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.hasAttribute || !input.hasAttribute("data-confirm-match")) return;
    var accepted = input.getAttribute("data-confirm-match").split("\n");
    var form = input.closest("form");
    var submit = form && form.querySelector("[data-confirm-submit]");
    if (submit) submit.disabled = accepted.indexOf(input.value.trim()) === -1;
  });

  // Plain (non-htmx) forms marked data-once cannot be submitted twice.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-once") || form.hasAttribute("hx-post")) return;
    if (form.hasAttribute("data-submitted")) { event.preventDefault(); return; }
    form.setAttribute("data-submitted", "");
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
  });

  function copyText(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.value !== undefined && source.tagName === "INPUT" ? source.value : source.textContent.trim();
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      window.setTimeout(function () { button.textContent = label; }, 1500);
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

  // Times are rendered in the server's zone; show them in the browser's own zone instead.
  var formatter = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  function wireTimes(root) {
    if (!root || !root.querySelectorAll) return;
    root.querySelectorAll("time[data-local]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when)) el.textContent = formatter.format(when);
      el.removeAttribute("data-local");
    });
  }
})();
