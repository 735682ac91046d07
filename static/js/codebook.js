// Keyboard use of the code book (page and in-exam panel). Works on any element marked
// data-codebook-panel, or on the search page; everything also works without this file.
(function () {
  "use strict";

  function scopeOf(el) {
    return el.closest("[data-codebook-panel]") || document;
  }

  function links(scope) {
    var body = scope.querySelector("[data-codebook-body]") || scope.querySelector("#codebook-results") || scope;
    return Array.prototype.slice.call(body.querySelectorAll("a[href]"));
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    var inQuery = target.matches("[data-codebook-query], #codebook-page-q");
    var scope = scopeOf(target);
    var inResults = target.matches("a[href]") && target.closest("[data-codebook-body], #codebook-results");
    if (!inQuery && !inResults) return;
    var list = links(scope);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!list.length) return;
      var index = list.indexOf(target);
      var next = event.key === "ArrowDown" ? index + 1 : index - 1;
      if (inQuery) next = event.key === "ArrowDown" ? 0 : list.length - 1;
      if (next < 0) {
        var query = scope.querySelector("[data-codebook-query], #codebook-page-q");
        if (query) query.focus();
      } else {
        list[Math.min(next, list.length - 1)].focus();
      }
      event.preventDefault();
    } else if (event.key === "Escape" && inResults) {
      var box = scope.querySelector("[data-codebook-query], #codebook-page-q");
      if (box) { box.focus(); event.preventDefault(); }
    }
  });

  // After a code's details are swapped into the panel, move focus to its title so that
  // keyboard and screen-reader users continue from there (typing in the box is unaffected:
  // results carry no title).
  document.body.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (!target || !target.matches || !target.matches("[data-codebook-body]")) return;
    var title = target.querySelector("#codebook-code-title");
    if (title) title.focus();
  });
})();
