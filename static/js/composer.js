// The composer's page behaviour: ordering media (drag or arrows), showing the options of the chosen accounts
// and format, tags placed by clicking on a photo, places and covers picked from lookups, uploads and fixes.
// Every rule about what may be published lives on the server; after each change the form is sent to it
// (the "composer:changed" event) and its checks come back.
(() => {
  "use strict";

  const form = () => document.getElementById("composer");
  const list = () => document.getElementById("selected-media");

  function changed() {
    const f = form();
    if (f && window.htmx) window.htmx.trigger(f, "composer:changed");
  }

  function chosenChannels() {
    return Array.from(document.querySelectorAll(".js-channel:checked"));
  }

  // --- accounts, format and time: show what applies ----------------------------------------------------------
  function applyChoices() {
    const channels = chosenChannels();
    const ids = new Set(channels.map((c) => c.value));
    const platforms = new Set(channels.map((c) => c.dataset.platform));
    document.querySelectorAll(".js-channel-only").forEach((el) => {
      el.hidden = !ids.has(el.dataset.channel);
    });
    document.querySelectorAll(".js-platform").forEach((el) => {
      el.hidden = platforms.size > 0 && !platforms.has(el.dataset.platform);
    });
    const format = document.querySelector(".js-format");
    document.querySelectorAll(".js-format-only").forEach((el) => {
      el.hidden = !format || format.value !== el.dataset.format;
    });
    const instagram = channels.filter((c) => c.dataset.platform === "instagram");
    const catalogued = instagram.find((c) => c.dataset.connectedVia === "facebook_login") || instagram[0];
    document.querySelectorAll(".js-lookup-channel").forEach((input) => {
      input.value = catalogued ? catalogued.value : "";
    });
    const submit = document.getElementById("submit-button");
    const now = document.getElementById("when-now");
    if (submit && now) submit.textContent = now.checked ? submit.dataset.labelNow : submit.dataset.labelLater;
  }

  // --- media order ------------------------------------------------------------------------------------------
  function setUpSorting() {
    const el = list();
    if (!el || !window.Sortable || el.dataset.sortable) return;
    el.dataset.sortable = "1";
    window.Sortable.create(el, { handle: ".drag-handle", animation: 120, forceFallback: true, onEnd: changed });
  }

  function move(row, step) {
    const sibling = step < 0 ? row.previousElementSibling : row.nextElementSibling;
    if (!sibling) return;
    if (step < 0) sibling.before(row);
    else sibling.after(row);
    changed();
  }

  // --- tags -------------------------------------------------------------------------------------------------
  const dialog = () => document.getElementById("tag-dialog");
  let tagRow = null;
  let point = null;

  function readTags(row, kind) {
    const input = row.querySelector(kind === "user" ? ".js-user-tags" : ".js-product-tags");
    try {
      const tags = JSON.parse(input.value || "[]");
      return Array.isArray(tags) ? tags : [];
    } catch (e) {
      return [];
    }
  }

  function writeTags(row, kind, tags) {
    row.querySelector(kind === "user" ? ".js-user-tags" : ".js-product-tags").value = JSON.stringify(tags);
    summarise(row);
  }

  function summarise(row) {
    const summary = row.querySelector(".js-tag-summary");
    if (!summary) return;
    const people = readTags(row, "user");
    const products = readTags(row, "product");
    const parts = [];
    if (people.length) parts.push("Tagged: " + people.map((t) => "@" + t.username).join(", "));
    if (products.length) parts.push("Products: " + products.map((t) => t.name || t.product_id).join(", "));
    summary.textContent = parts.join(" · ");
  }

  function tagError(text) {
    const el = document.getElementById("tag-error");
    if (el) el.textContent = text || "";
  }

  function marker(x, y, label, className) {
    const span = document.createElement("span");
    span.className = "tag-marker " + className;
    span.style.left = (x * 100).toFixed(2) + "%";
    span.style.top = (y * 100).toFixed(2) + "%";
    span.textContent = label;
    span.setAttribute("aria-hidden", "true");
    return span;
  }

  function renderTags() {
    if (!tagRow) return;
    const stage = dialog().querySelector(".tag-stage");
    stage.querySelectorAll(".tag-marker").forEach((m) => m.remove());
    const listEl = document.getElementById("tag-list");
    listEl.replaceChildren();
    const add = (kind, tag, index, label) => {
      stage.appendChild(marker(tag.x, tag.y, label, kind === "user" ? "tag-marker-user" : "tag-marker-product"));
      const li = document.createElement("li");
      li.className = "d-flex align-items-center gap-2";
      const text = document.createElement("span");
      text.textContent = label + " at " + Math.round(tag.x * 100) + "% across, " + Math.round(tag.y * 100) + "% down";
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "btn btn-sm btn-link p-0 js-remove-tag";
      remove.dataset.kind = kind;
      remove.dataset.index = String(index);
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", "Remove " + label);
      li.append(text, remove);
      listEl.appendChild(li);
    };
    readTags(tagRow, "user").forEach((t, i) => add("user", t, i, "@" + t.username));
    readTags(tagRow, "product").forEach((t, i) => add("product", t, i, t.name || "Product " + t.product_id));
  }

  function openTags(row) {
    tagRow = row;
    point = null;
    const img = document.getElementById("tag-image");
    img.src = row.dataset.src;
    img.alt = "Photo " + row.dataset.name + ": click where to tag";
    document.getElementById("tag-point").classList.add("d-none");
    document.getElementById("lookup-products").replaceChildren();
    tagError("");
    renderTags();
    dialog().showModal();
  }

  function closeTags() {
    if (!tagRow) return;
    const row = tagRow;
    tagRow = null;
    dialog().close();
    summarise(row);
    changed();
    const button = row.querySelector(".js-tag");
    if (button) button.focus();
  }

  function placePoint(event) {
    const img = event.target;
    const box = img.getBoundingClientRect();
    const x = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
    const y = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
    point = { x: Math.round(x * 10000) / 10000, y: Math.round(y * 10000) / 10000 };
    const dot = document.getElementById("tag-point");
    dot.style.left = (x * 100).toFixed(2) + "%";
    dot.style.top = (y * 100).toFixed(2) + "%";
    dot.classList.remove("d-none");
    tagError("");
  }

  function addTag(kind, tag) {
    if (!tagRow) return;
    if (!point) {
      tagError("Click on the photo first, where the " + (kind === "user" ? "person" : "product") + " is.");
      return;
    }
    const tags = readTags(tagRow, kind);
    tags.push(Object.assign(tag, point));
    writeTags(tagRow, kind, tags);
    point = null;
    document.getElementById("tag-point").classList.add("d-none");
    renderTags();
  }

  // --- events -----------------------------------------------------------------------------------------------
  document.addEventListener("click", (event) => {
    const t = event.target;
    const row = t.closest(".media-row");
    if (t.closest(".js-remove") && row) {
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      if (next) (next.querySelector(".js-remove") || next).focus();
      changed();
    } else if (t.closest(".js-move") && row) {
      move(row, Number(t.closest(".js-move").dataset.move));
      t.closest(".js-move").focus();
    } else if (t.closest(".js-tag") && row) {
      openTags(row);
    } else if (t.id === "tag-image") {
      placePoint(event);
    } else if (t.closest(".js-tag-close")) {
      closeTags();
    } else if (t.closest(".js-add-user-tag")) {
      const input = document.getElementById("tag-username");
      const username = input.value.trim().replace(/^@/, "");
      if (!username) {
        tagError("Type the person's Instagram username.");
        return;
      }
      addTag("user", { username });
      if (!point) input.value = "";
    } else if (t.closest(".js-pick-product")) {
      const b = t.closest(".js-pick-product");
      addTag("product", { product_id: b.dataset.productId, name: b.dataset.productName });
    } else if (t.closest(".js-remove-tag") && tagRow) {
      const b = t.closest(".js-remove-tag");
      const tags = readTags(tagRow, b.dataset.kind);
      tags.splice(Number(b.dataset.index), 1);
      writeTags(tagRow, b.dataset.kind, tags);
      renderTags();
    } else if (t.closest(".js-pick-place")) {
      const b = t.closest(".js-pick-place");
      document.getElementById("id_location_id").value = b.dataset.placeId;
      document.getElementById("id_location_name").value = b.dataset.placeName || "";
      document.getElementById("location-text").textContent = b.dataset.placeName || "Page " + b.dataset.placeId;
      document.getElementById("location-chosen").classList.remove("d-none");
      changed();
    } else if (t.closest(".js-clear-location")) {
      document.getElementById("id_location_id").value = "";
      document.getElementById("id_location_name").value = "";
      document.getElementById("location-chosen").classList.add("d-none");
      changed();
    } else if (t.closest(".js-use-cover")) {
      const b = t.closest(".js-use-cover");
      document.getElementById("id_cover").value = b.dataset.asset;
      document.getElementById("cover-text").textContent = b.dataset.name;
      document.querySelector(".js-clear-cover").classList.remove("d-none");
      changed();
    } else if (t.closest(".js-clear-cover")) {
      document.getElementById("id_cover").value = "";
      document.getElementById("cover-text").textContent = "None: a frame of the video";
      t.closest(".js-clear-cover").classList.add("d-none");
      changed();
    } else if (t.closest(".js-fix")) {
      const b = t.closest(".js-fix");
      const target = list() && list().querySelector('.media-row[data-asset="' + b.dataset.asset + '"]');
      if (target && window.htmx) {
        b.disabled = true;
        window.htmx.ajax("POST", b.dataset.url, { source: target, target, swap: "outerHTML" });
      }
    }
  });

  document.addEventListener("change", (event) => {
    const t = event.target;
    if (t.matches(".js-channel, .js-format, .js-when")) applyChoices();
    if (t.matches(".js-upload") && t.files.length && window.htmx) {
      window.htmx.trigger("#upload-form", "submit");
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    const t = event.target;
    if (t.id === "tag-username") {
      event.preventDefault();
      document.querySelector(".js-add-user-tag").click();
    } else if (t.tagName === "INPUT" && t.form && t.form.id === "composer" && t.type !== "submit") {
      // Enter in a one-line field would send the form with its first button, perhaps "Publish now".
      event.preventDefault();
    }
  });

  document.addEventListener("htmx:beforeRequest", (event) => {
    const elt = event.detail.elt;
    if (elt.id === "place-lookup" || elt.id === "product-lookup") {
      const channel = elt.querySelector(".js-lookup-channel");
      if (channel && !channel.value) {
        event.preventDefault();
        const slot = document.getElementById(elt.id === "place-lookup" ? "lookup-place" : "lookup-products");
        const note = document.createElement("p");
        note.className = "small text-danger-emphasis mt-2 mb-0";
        note.setAttribute("role", "alert");
        note.textContent = "Tick an Instagram account first: the search goes through it.";
        slot.replaceChildren(note);
        return;
      }
    }
    if (elt.matches && elt.matches(".js-add-media") && list()) {
      const existing = list().querySelector('.media-row[data-asset="' + elt.dataset.asset + '"]');
      if (existing) {
        event.preventDefault();
        existing.classList.add("media-row-flash");
        setTimeout(() => existing.classList.remove("media-row-flash"), 800);
      }
    }
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    if (target && (target.id === "selected-media" || (target.classList && target.classList.contains("media-row")))) {
      list().querySelectorAll(".media-row").forEach(summarise);
      changed();
    }
    if (event.detail.elt && event.detail.elt.id === "upload-form") {
      const input = document.getElementById("upload-files");
      if (input) input.value = "";
    }
  });

  // A row whose copy finished replaces itself: it was swapped as outerHTML, so its target is detached.
  document.addEventListener("htmx:afterSettle", (event) => {
    const elt = event.detail.elt;
    if (elt && elt.classList && elt.classList.contains("media-row")) summarise(elt);
  });

  function start() {
    applyChoices();
    setUpSorting();
    if (list()) list().querySelectorAll(".media-row").forEach(summarise);
    const d = dialog();
    if (d) d.addEventListener("cancel", (event) => {
      event.preventDefault();
      closeTags();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
