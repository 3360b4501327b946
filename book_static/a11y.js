// Accessible names for the few controls that the theme, the notebook renderer and the
// quiz library build without one. Run once the page is parsed, and again for controls
// added later (the quizzes build their inputs and buttons from scripts).
// Checked by tests/test_browser.py with axe-core on every page, light and dark.
(function () {
  "use strict";

  function visibleText(el) {
    return (el.innerText || el.textContent || "").replace(/\s+/g, " ").trim();
  }

  // A control whose aria-label does not contain its visible words (the search button
  // reads "Search Ctrl + K" but is named "Search"): name it by what a reader sees.
  function matchLabelToText(el) {
    var text = visibleText(el);
    var label = el.getAttribute("aria-label") || "";
    if (text && label.toLowerCase().indexOf(text.toLowerCase()) === -1) {
      el.setAttribute("aria-label", text);
    }
  }

  // Quiz answers the quiz library leaves unnamed: an input that no <label> names is
  // named after its question.
  function nameQuizControls(root) {
    root.querySelectorAll(".Quiz").forEach(function (quiz) {
      var question = quiz.querySelector("[id^='quizQn']");
      var prompt = question ? visibleText(question) : "the quiz question";
      quiz.querySelectorAll("input").forEach(function (input) {
        var named = input.getAttribute("aria-label") || (input.labels && input.labels.length);
        if (!named) input.setAttribute("aria-label", "Your answer to: " + prompt);
      });
    });
  }

  function fix(root) {
    root.querySelectorAll(".search-button-field, .theme-switch-button").forEach(matchLabelToText);
    // a folded cell's toggle: named by its own words ("Show solution"), not a fixed label
    root.querySelectorAll("details.hide > summary[aria-label]").forEach(function (summary) {
      if (visibleText(summary)) summary.removeAttribute("aria-label");
    });
    // the sidebar's expand arrows: name each after the chapter it opens
    root.querySelectorAll("li.has-children > details > summary").forEach(function (summary) {
      if (summary.hasAttribute("aria-label")) return;
      var link = summary.parentElement.parentElement.querySelector(":scope > a");
      var title = link ? visibleText(link) : "this chapter";
      summary.setAttribute("aria-label", "Sections of " + title);
    });
    // the bibliography: a list whose entries are list items
    root.querySelectorAll('[role="list"].citation-list > .citation').forEach(function (entry) {
      entry.setAttribute("role", "listitem");
    });
    nameQuizControls(root);
  }

  function start() {
    fix(document);
    var pending = false;  // at most one pass per frame, however many nodes arrive
    new MutationObserver(function () {
      if (pending) return;
      pending = true;
      requestAnimationFrame(function () {
        pending = false;
        fix(document);
      });
    }).observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
