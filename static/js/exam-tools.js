/* Candidate tools on the exam screen: highlight, strike out, calculator, text size,
 * high contrast and hiding the timer. Kept for the attempt in this browser (localStorage,
 * keyed by attempt; highlights and strike-outs per item), across reloads and moves.
 *
 * Nothing here reaches the server: the tools change what the candidate sees, never an
 * answer. Without JavaScript the tools are hidden (.js-only) and the exam works as before.
 */
(function () {
  "use strict";

  var exam = document.getElementById("exam");
  if (!exam) return;

  var KEY = "ccs-exam-tools-" + exam.dataset.attempt;
  var SIZES = ["standard", "large", "larger", "largest"];
  var root = document.documentElement;
  var state = load();

  function $(id) { return document.getElementById(id); }

  function load() {
    var saved;
    try { saved = JSON.parse(localStorage.getItem(KEY) || "{}") || {}; } catch (e) { saved = {}; }
    var size = Number(saved.size) || 0;
    return {
      size: size >= 0 && size < SIZES.length ? Math.floor(size) : 0,
      contrast: saved.contrast === true,
      hideTimer: saved.hideTimer === true,
      hl: typeof saved.hl === "object" && saved.hl ? saved.hl : {},
      strike: typeof saved.strike === "object" && saved.strike ? saved.strike : {},
    };
  }

  function store() {
    try { localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* private mode: kept for this page */ }
  }

  function say(text) {
    var el = $("tool-status");
    if (!el) return;
    // Cleared first, so that the same message said twice is announced twice.
    el.textContent = "";
    setTimeout(function () { el.textContent = text; }, 50);
  }

  function setPressed(button, on) {
    if (button) button.setAttribute("aria-pressed", on ? "true" : "false");
  }

  // --- page settings: text size, contrast, timer ---------------------------------------------
  function applySettings() {
    SIZES.forEach(function (_name, i) { root.classList.toggle("text-size-" + i, i > 0 && i === state.size); });
    root.classList.toggle("high-contrast", state.contrast);
    root.classList.toggle("timer-hidden", state.hideTimer);
    var size = $("tool-text-size");
    if (size) size.querySelector("[data-size-label]").textContent = SIZES[state.size];
    setPressed($("tool-contrast"), state.contrast);
    setPressed($("tool-hide-timer"), state.hideTimer);
  }

  // --- the item shown --------------------------------------------------------------------------
  function currentPosition() {
    var form = $("answer-form");
    return form ? form.dataset.position : null;
  }

  function applyStrikes() {
    var position = currentPosition();
    if (!position) return;
    var struck = state.strike[position] || [];
    document.querySelectorAll("#answer-form [data-option]").forEach(function (row) {
      var on = struck.indexOf(Number(row.dataset.option)) !== -1;
      row.classList.toggle("struck", on);
      setPressed(row.querySelector("button.strike"), on);
    });
  }

  function toggleStrike(button) {
    var row = button.closest("[data-option]");
    var position = currentPosition();
    if (!row || !position) return;
    var index = Number(row.dataset.option);
    var struck = (state.strike[position] || []).slice();
    var at = struck.indexOf(index);
    if (at === -1) struck.push(index); else struck.splice(at, 1);
    if (struck.length) state.strike[position] = struck; else delete state.strike[position];
    store();
    applyStrikes();
  }

  // Highlights are stored as character ranges of a box's text ({b: "stem", s: 4, e: 13}),
  // so they are drawn again on the same text after a reload or a move.
  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll("#answer-form [data-hl-box]"));
  }

  function boxOf(node) {
    var el = node && (node.nodeType === 1 ? node : node.parentElement);
    return el ? el.closest("#answer-form [data-hl-box]") : null;
  }

  function offsetIn(box, container, offset) {
    var range = document.createRange();
    range.selectNodeContents(box);
    range.setEnd(container, offset);
    return range.toString().length;
  }

  function unwrapMarks(box) {
    box.querySelectorAll("mark.hl").forEach(function (mark) {
      var parent = mark.parentNode;
      while (mark.firstChild) parent.insertBefore(mark.firstChild, mark);
      parent.removeChild(mark);
    });
    box.normalize();
  }

  function paint(box, ranges) {
    unwrapMarks(box);
    ranges.forEach(function (r) {
      var walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
      var pieces = [];
      var at = 0;
      var node;
      while ((node = walker.nextNode())) {
        var length = node.data.length;
        if (at + length > r.s && at < r.e) pieces.push([node, Math.max(0, r.s - at), Math.min(length, r.e - at)]);
        at += length;
      }
      pieces.forEach(function (piece) {
        var text = piece[0];
        if (piece[2] < text.data.length) text.splitText(piece[2]);
        if (piece[1] > 0) text = text.splitText(piece[1]);
        if (!text.data.trim()) return; // layout whitespace between sections
        var mark = document.createElement("mark");
        mark.className = "hl";
        mark.dataset.from = r.s;
        mark.tabIndex = 0;
        mark.setAttribute("role", "button");
        mark.setAttribute("aria-describedby", "hl-help");
        text.parentNode.insertBefore(mark, text);
        mark.appendChild(text);
      });
    });
  }

  function applyHighlights() {
    var position = currentPosition();
    if (!position) return;
    var saved = state.hl[position] || [];
    boxes().forEach(function (box) {
      paint(box, saved.filter(function (r) { return r.b === box.dataset.hlBox; }));
    });
  }

  function addHighlight(name, start, end) {
    var position = currentPosition();
    var ranges = (state.hl[position] || []).slice();
    var merged = { b: name, s: start, e: end };
    // Overlapping or touching highlights of the same box become one.
    ranges = ranges.filter(function (r) {
      if (r.b !== name || r.e < merged.s || r.s > merged.e) return true;
      merged.s = Math.min(merged.s, r.s);
      merged.e = Math.max(merged.e, r.e);
      return false;
    });
    ranges.push(merged);
    ranges.sort(function (a, b) { return a.b === b.b ? a.s - b.s : (a.b < b.b ? -1 : 1); });
    state.hl[position] = ranges;
    store();
    applyHighlights();
  }

  function highlightSelection() {
    var selection = window.getSelection();
    if (!selection || !selection.rangeCount || selection.isCollapsed) {
      say("Select words in the question or the health record first.");
      return;
    }
    var range = selection.getRangeAt(0);
    var box = boxOf(range.startContainer) || boxOf(range.endContainer);
    if (!box) {
      say("Only the question and the health record can be highlighted.");
      return;
    }
    var start = box.contains(range.startContainer) ? offsetIn(box, range.startContainer, range.startOffset) : 0;
    var end = box.contains(range.endContainer) ? offsetIn(box, range.endContainer, range.endOffset) : box.textContent.length;
    if (end <= start) return;
    addHighlight(box.dataset.hlBox, start, end);
    selection.removeAllRanges();
    say("Highlighted.");
  }

  function removeHighlight(mark) {
    var box = boxOf(mark);
    var position = currentPosition();
    if (!box || !position) return;
    var from = Number(mark.dataset.from);
    state.hl[position] = (state.hl[position] || []).filter(function (r) {
      return !(r.b === box.dataset.hlBox && r.s === from);
    });
    if (!state.hl[position].length) delete state.hl[position];
    store();
    applyHighlights();
    var button = $("tool-highlight");
    if (button) button.focus();
    say("Highlight removed.");
  }

  function applyItem() {
    applyStrikes();
    applyHighlights();
  }

  // --- calculator ------------------------------------------------------------------------------
  var calc = { display: "0", acc: null, op: null, fresh: true };
  var SYMBOL = { "+": "+", "-": "−", "*": "×", "/": "÷" };

  function calcShow() {
    $("calc-display").textContent = calc.display;
    $("calc-pending").textContent = calc.op === null ? "" : format(calc.acc) + " " + SYMBOL[calc.op];
  }

  function format(value) {
    return String(Number(value.toPrecision(12)));
  }

  function operate(a, op, b) {
    if (op === "+") return a + b;
    if (op === "-") return a - b;
    if (op === "*") return a * b;
    return a / b;
  }

  function calcPress(key) {
    var value = parseFloat(calc.display);
    if (/^[0-9]$/.test(key)) {
      if (calc.fresh || calc.display === "0" || calc.display === "Error") calc.display = key;
      else if (calc.display.length < 16) calc.display += key;
      calc.fresh = false;
    } else if (key === ".") {
      if (calc.fresh || calc.display === "Error") calc.display = "0.";
      else if (calc.display.indexOf(".") === -1) calc.display += ".";
      calc.fresh = false;
    } else if (SYMBOL[key]) {
      if (calc.display === "Error") return;
      if (calc.op !== null && !calc.fresh) {
        value = operate(calc.acc, calc.op, value);
        if (!isFinite(value)) { calcError(); return; }
        calc.display = format(value);
      }
      if (calc.op === null || !calc.fresh) calc.acc = value;
      calc.op = key;
      calc.fresh = true;
    } else if (key === "=") {
      if (calc.op === null || calc.display === "Error") return;
      value = operate(calc.acc, calc.op, value);
      if (!isFinite(value)) { calcError(); return; }
      calc.display = format(value);
      calc.acc = null;
      calc.op = null;
      calc.fresh = true;
    } else if (key === "c") {
      calc = { display: "0", acc: null, op: null, fresh: true };
    } else if (key === "backspace") {
      if (calc.fresh || calc.display === "Error") return;
      calc.display = calc.display.length > 1 ? calc.display.slice(0, -1) : "0";
      if (calc.display === "-") calc.display = "0";
    }
    calcShow();
  }

  function calcError() {
    calc = { display: "Error", acc: null, op: null, fresh: true };
    calcShow();
    say("Cannot divide by zero.");
  }

  var KEYMAP = { "x": "*", "X": "*", "Backspace": "backspace", "Delete": "c", "c": "c", "C": "c" };

  function calcKey(event) {
    var key = KEYMAP[event.key] || event.key;
    // Enter on a focused key presses that key (the browser's own click); elsewhere it is "=".
    if (key === "Enter") {
      if (event.target.tagName === "BUTTON") return;
      key = "=";
    }
    if (/^[0-9]$/.test(key) || key === "." || SYMBOL[key] || key === "=" || key === "c" || key === "backspace") {
      event.preventDefault();
      calcPress(key);
    }
  }

  function openCalculator() {
    var dialog = $("calculator");
    if (!dialog || dialog.open) return;
    dialog.showModal();
    calcShow();
    var first = dialog.querySelector("[data-calc='7']");
    if (first) first.focus();
  }

  // --- events ----------------------------------------------------------------------------------
  // The highlight button must not take the selection away when pressed with a mouse.
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest && event.target.closest("#tool-highlight")) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    var el;
    if ((el = target.closest("mark.hl"))) { removeHighlight(el); return; }
    if (target.closest("#tool-highlight")) { highlightSelection(); return; }
    if ((el = target.closest("#answer-form button.strike"))) { toggleStrike(el); return; }
    if ((el = target.closest("[data-calc]"))) { calcPress(el.dataset.calc); return; }
    if (target.closest("[data-calc-close]")) { $("calculator").close(); return; }
    if (target.closest("#tool-calculator")) { openCalculator(); return; }
    if (target.closest("#tool-text-size")) {
      state.size = (state.size + 1) % SIZES.length;
      store();
      applySettings();
      say("Text size: " + SIZES[state.size] + ".");
      return;
    }
    if (target.closest("#tool-contrast")) {
      state.contrast = !state.contrast;
      store();
      applySettings();
      return;
    }
    if (target.closest("#tool-hide-timer")) {
      state.hideTimer = !state.hideTimer;
      store();
      applySettings();
      say(state.hideTimer ? "Timer hidden; time warnings are still announced." : "Timer shown.");
    }
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    if (target.closest("#calculator")) { calcKey(event); return; }
    if (target.matches("mark.hl") && /^(Enter| |Spacebar|Delete|Backspace)$/.test(event.key)) {
      event.preventDefault();
      removeHighlight(target);
    }
  });

  var dialog = $("calculator");
  if (dialog) {
    dialog.addEventListener("close", function () {
      var opener = $("tool-calculator");
      if (opener) opener.focus();
    });
  }

  document.body.addEventListener("htmx:afterSwap", function () { applyItem(); });
  // exam.js showed another item from the attempt's payload, without a request.
  document.body.addEventListener("exam:shown", function () { applyItem(); });

  root.classList.add("js");
  applySettings();
  applyItem();
  // The buttons answer from here on (the browser tests wait for this before pressing them).
  root.setAttribute("data-tools", "ready");
})();
