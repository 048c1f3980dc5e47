// affnet portals: the few behaviours that need a script. Everything works without it except
// copying to the clipboard and live progress, which degrade to selecting text and reloading.
(function () {
  "use strict";

  function copy(button) {
    var target = document.getElementById(button.dataset.copy);
    if (!target) return;
    var text = target.value !== undefined ? target.value : target.textContent;
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      button.setAttribute("aria-live", "polite");
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { target.select && target.select(); });
    } else {
      if (target.select) { target.select(); document.execCommand("copy"); }
      done();
    }
  }

  // Link builder: the tracking link with the sub ids typed so far, updated as you type.
  function buildLink(form) {
    var base = form.dataset.base;
    var params = new URLSearchParams();
    form.querySelectorAll("[data-param]").forEach(function (input) {
      if (input.value.trim()) params.set(input.dataset.param, input.value.trim());
    });
    var query = params.toString();
    var out = document.getElementById(form.dataset.output);
    out.value = query ? base + "?" + query : base;
  }

  function pollProgress(el) {
    var url = el.dataset.progressUrl;
    var bar = el.querySelector(".progress > span");
    var label = el.querySelector("[data-progress-label]");
    var tick = function () {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          var pct = data.total ? Math.round((100 * data.done) / data.total) : (data.status === "building" ? 0 : 100);
          bar.style.width = pct + "%";
          el.querySelector(".progress").setAttribute("aria-valuenow", pct);
          if (label) label.textContent = data.done + " of " + data.total + " publishers (" + pct + "%)";
          if (data.status === "building") setTimeout(tick, 1000);
          else if (el.dataset.reloadWhenDone) window.location.reload();
        })
        .catch(function () { setTimeout(tick, 3000); });
    };
    tick();
  }

  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-copy]");
    if (btn) { e.preventDefault(); copy(btn); }
    var all = e.target.closest("[data-check-all]");
    if (all) {
      document.querySelectorAll("input[name='" + all.dataset.checkAll + "']").forEach(function (box) { box.checked = all.checked; });
    }
  });
  // Wide tables and code scroll sideways inside their own box rather than the page (a phone is
  // 390 px wide). A box that scrolls must be reachable by keyboard to be scrolled (WCAG 2.1.1),
  // so while it overflows it is a named, focusable region; when it fits it is not a tab stop.
  function scrollBoxes() {
    document.querySelectorAll("main table").forEach(function (table) {
      if (table.parentElement.classList.contains("table-wrap")) return;
      var wrap = document.createElement("div");
      wrap.className = "table-wrap";
      table.parentElement.insertBefore(wrap, table);
      wrap.appendChild(table);
    });
    var boxes = document.querySelectorAll("main .table-wrap, main pre");
    // Each region's name: the table's own, else its fieldset's legend or its panel's heading;
    // names stay unique on the page (two regions called "Table" are one too many landmarks).
    var names = {};
    var nameOf = function (box) {
      var table = box.querySelector("table");
      var group = box.closest("fieldset, section, .panel");
      var heading = group && group.querySelector("legend, h2, h3");
      var name = (table && (table.getAttribute("aria-label") || (table.caption && table.caption.textContent))) ||
        (heading && heading.textContent) || (table ? "Table" : "Code");
      name = name.trim().replace(/\s+/g, " ");
      names[name] = (names[name] || 0) + 1;
      return (names[name] > 1 ? name + " " + names[name] : name) + " (scrolls sideways)";
    };
    var update = function () {
      boxes.forEach(function (box) {
        var scrolls = box.scrollWidth > box.clientWidth + 1;
        if (scrolls && !box.hasAttribute("tabindex")) {
          box.setAttribute("tabindex", "0");
          box.setAttribute("role", "region");
          box.setAttribute("aria-label", box.dataset.regionName || (box.dataset.regionName = nameOf(box)));
        } else if (!scrolls && box.getAttribute("role") === "region") {
          ["tabindex", "role", "aria-label"].forEach(function (a) { box.removeAttribute(a); });
        }
      });
    };
    update();
    if (window.ResizeObserver) new ResizeObserver(update).observe(document.documentElement);
  }

  document.addEventListener("DOMContentLoaded", function () {
    scrollBoxes();
    document.querySelectorAll("form[data-link-builder]").forEach(function (form) {
      form.addEventListener("input", function () { buildLink(form); });
      buildLink(form);
    });
    document.querySelectorAll("[data-progress-url]").forEach(pollProgress);
    // Payout details: show only the chosen method's fields (without script, all show, labelled).
    document.querySelectorAll("form[data-payout-form]").forEach(function (form) {
      var select = form.querySelector("select[name$='payout_method']");
      var sync = function () {
        form.querySelectorAll("fieldset[data-method]").forEach(function (set) { set.hidden = set.dataset.method !== select.value; });
      };
      select.addEventListener("change", sync);
      sync();
    });
  });
})();
