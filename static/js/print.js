// Buttons marked data-print open the browser's print dialog (no inline onclick: the
// Content-Security-Policy refuses inline event handlers).
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) window.print();
});
