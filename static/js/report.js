// The answer review of the result and score report pages (templates/exams/_answer_review.html).
// Without this script the filter is a GET form and the server marks the items it leaves
// out `hidden`; with it, the same rule runs in the page as soon as a choice changes (no
// reload), the address keeps the filter (so a reload or a shared link shows the same
// items), and "Expand all" / "Collapse all" open or close every shown question.
(function () {
  "use strict";
  var form = document.querySelector("[data-review-filter]");
  if (!form) return;
  var items = Array.prototype.slice.call(document.querySelectorAll(".reviewed > .review-item"));
  var count = document.getElementById("review-count");
  var none = document.getElementById("review-none");

  function choice() {
    var checked = form.querySelector("input[name=show]:checked");
    var domain = form.querySelector("select[name=domain]");
    return { show: checked ? checked.value : "all", domain: domain ? domain.value : "" };
  }

  function matches(item, c) {
    if (c.show === "wrong" && item.dataset.correct === "1") return false;
    if (c.show === "flagged" && item.dataset.flagged !== "1") return false;
    return !c.domain || item.dataset.domain === c.domain;
  }

  function apply() {
    var c = choice();
    var shown = 0;
    items.forEach(function (item) {
      var on = matches(item, c);
      item.hidden = !on;
      if (on) shown += 1;
    });
    count.textContent = "Showing " + shown + " of " + items.length + " item" + (items.length === 1 ? "" : "s") + ".";
    none.hidden = shown > 0;
    var params = new URLSearchParams(window.location.search);
    if (c.show === "all") params.delete("show"); else params.set("show", c.show);
    if (!c.domain) params.delete("domain"); else params.set("domain", c.domain);
    var query = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : "") + "#answer-review");
  }

  form.addEventListener("change", apply);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    apply();
  });
  Array.prototype.forEach.call(form.querySelectorAll("[data-review-toggle]"), function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = button.dataset.reviewToggle === "open";
      items.forEach(function (item) {
        if (item.hidden) return;
        var details = item.querySelector(":scope > details");
        if (details) details.open = open;
      });
    });
  });

  // Printing shows every question of the current filter open, then restores what was open.
  var wasOpen = null;
  window.addEventListener("beforeprint", function () {
    wasOpen = items.map(function (item) {
      var details = item.querySelector(":scope > details");
      var before = details ? details.open : false;
      if (details) details.open = true;
      return before;
    });
  });
  window.addEventListener("afterprint", function () {
    if (!wasOpen) return;
    items.forEach(function (item, i) {
      var details = item.querySelector(":scope > details");
      if (details) details.open = wasOpen[i];
    });
    wasOpen = null;
  });
})();
