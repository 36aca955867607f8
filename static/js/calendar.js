// The calendar's drag to reschedule. A post the person may move can be dropped on another day (month view: it
// keeps its time of day) or on another hour of a day (week view: it keeps its minutes); drafts without a time get
// 09:00 in the month view. The drop is sent to the server, which answers with the whole calendar again: the post
// where it now is, or back where it was with the reason it could not move. Nothing is decided here.
(() => {
  "use strict";

  const root = () => document.getElementById("calendar");
  let justDropped = false;

  function pad(value) {
    return String(value).padStart(2, "0");
  }

  function filters() {
    const form = document.querySelector("#calendar .cal-filters");
    const values = {};
    if (!form) return values;
    new FormData(form).forEach((value, name) => {
      values[name] = value;
    });
    return values;
  }

  function timeFor(item, list) {
    if (list.dataset.hour !== undefined) return `${pad(list.dataset.hour)}:${item.dataset.minute || "00"}`;
    return item.dataset.time || "09:00";
  }

  function dropped(event) {
    const item = event.item;
    const list = event.to;
    justDropped = true;
    setTimeout(() => {
      justDropped = false;
    }, 0);
    if (event.from === list || !list.dataset.day || !item.dataset.url || !window.htmx) return;
    item.setAttribute("aria-busy", "true");
    window.htmx.ajax("POST", item.dataset.url, {
      source: root(),
      target: "#calendar",
      swap: "outerHTML",
      values: { ...filters(), day: list.dataset.day, time: timeFor(item, list) },
    });
  }

  function setUp(scope) {
    if (!window.Sortable) return;
    const calendar = scope.id === "calendar" ? scope : scope.querySelector && scope.querySelector("#calendar");
    if (!calendar) return;
    calendar.querySelectorAll(".cal-drop").forEach((list) => {
      if (list.dataset.sortable) return;
      list.dataset.sortable = "1";
      const unscheduled = list.dataset.source === "unscheduled";
      window.Sortable.create(list, {
        group: { name: "calendar", pull: true, put: !unscheduled },
        draggable: ".cal-movable",
        sort: false,
        animation: 120,
        forceFallback: true,
        fallbackTolerance: 4,
        onEnd: dropped,
      });
    });
  }

  // A drag that ends over a post's link must not also open it.
  document.addEventListener(
    "click",
    (event) => {
      if (justDropped && event.target.closest && event.target.closest(".cal-post")) {
        event.preventDefault();
        event.stopPropagation();
      }
    },
    true,
  );

  // A refused request (no right to move it, or the page is out of date) is not swapped in by htmx: fetch the
  // calendar again so the post goes back where it is, and say so.
  document.addEventListener("htmx:responseError", (event) => {
    const calendar = root();
    if (!calendar || !window.htmx || !calendar.contains(event.detail.elt)) return;
    const reason =
      event.detail.xhr && event.detail.xhr.status === 403
        ? "Not moved: your role does not allow moving this post."
        : "Not moved: the calendar was out of date. Here it is again.";
    window.htmx.ajax("GET", calendar.dataset.url, { source: calendar, target: "#calendar", swap: "outerHTML" }).then(() => {
      const fresh = root();
      if (!fresh) return;
      const alert = document.createElement("div");
      alert.className = "alert alert-danger py-2 cal-notice";
      alert.setAttribute("role", "alert");
      alert.textContent = reason;
      fresh.insertBefore(alert, fresh.children[1] || null);
    });
  });

  document.addEventListener("htmx:load", (event) => setUp(event.target));

  function start() {
    const calendar = root();
    if (calendar) setUp(calendar);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
