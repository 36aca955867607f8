// The Queue page: drag a post to a new place in the queue. The new order is sent at once (the list's form
// listens for "queue-reordered") and the server answers with the panel, the posts showing their new times.
// The arrow buttons do the same without dragging.
(function () {
  "use strict";

  function sortable(list) {
    if (!window.Sortable || list.dataset.sortable) return;
    list.dataset.sortable = "1";
    list.querySelectorAll(".drag-handle").forEach(function (handle) {
      handle.style.cursor = "grab";
    });
    window.Sortable.create(list, {
      handle: ".drag-handle",
      draggable: ".queue-item",
      filter: ".queue-fixed",
      animation: 120,
      forceFallback: true,
      onEnd: function (event) {
        if (event.oldIndex === event.newIndex || !window.htmx) return;
        window.htmx.trigger(list.closest("form"), "queue-reordered");
      },
    });
  }

  function init(root) {
    (root || document).querySelectorAll(".js-queue-sortable").forEach(sortable);
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
  });
  document.addEventListener("htmx:load", function (event) {
    init(event.target);
  });
})();
