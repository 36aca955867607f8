// The inbox page: rows of threads that arrive while it is open (the poller's answer is moved to the top of the list,
// replacing the old row of the same thread), who else has which thread open, the heartbeat of the open thread
// ("replying" while the reply box has focus or text), keyboard shortcuts and the help dialog. The server decides
// everything; this only moves what it sent and sends what the person pressed.
(() => {
  "use strict";

  const list = () => document.getElementById("thread-list");
  const panel = () => document.getElementById("thread-panel");
  const inbox = () => document.getElementById("inbox");

  function say(text) {
    const live = document.getElementById("inbox-live");
    if (!live) return;
    live.textContent = "";
    setTimeout(() => {
      live.textContent = text;
    }, 50);
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function rows() {
    const container = list();
    return container ? Array.from(container.querySelectorAll(":scope > .inbox-row")) : [];
  }

  function rowOf(threadId) {
    const container = list();
    return container ? container.querySelector(`:scope > .inbox-row[data-thread="${threadId}"]`) : null;
  }

  function openThreadId() {
    const article = document.getElementById("thread");
    return article ? article.dataset.thread : "";
  }

  function markOpen() {
    const open = openThreadId();
    rows().forEach((row) => {
      const isOpen = row.dataset.thread === open;
      row.classList.toggle("is-open", isOpen);
      const link = row.querySelector(".inbox-open");
      if (link) {
        if (isOpen) link.setAttribute("aria-current", "true");
        else link.removeAttribute("aria-current");
      }
    });
  }

  // --- Rows that arrive --------------------------------------------------------------------------------------------
  // A new row keeps what the person had on the old one: its checkbox, its selection, the keyboard focus.
  function replaceRow(old, fresh) {
    const box = old.querySelector('input[name="comment"]');
    const freshBox = fresh.querySelector('input[name="comment"]');
    if (box && freshBox) freshBox.checked = box.checked;
    fresh.classList.toggle("is-selected", old.classList.contains("is-selected"));
    const hadFocus = old.contains(document.activeElement);
    old.replaceWith(fresh);
    if (hadFocus) {
      const link = fresh.querySelector(".inbox-open");
      if (link) link.focus({ preventScroll: true });
    }
  }

  function applyPresence(map) {
    const markers = new Map();
    map.querySelectorAll("li[data-thread]").forEach((item) => markers.set(item.dataset.thread, item.innerHTML));
    document.querySelectorAll("#thread-list .inbox-row-presence").forEach((slot) => {
      const html = markers.get(slot.dataset.presenceFor) || "";
      if (slot.innerHTML !== html) slot.innerHTML = html;
    });
  }

  function takeIncoming(incoming) {
    const container = list();
    if (!container) return;
    const mode = incoming.dataset.mode;
    const fresh = Array.from(incoming.querySelectorAll(".inbox-incoming-rows > .inbox-row"));
    let arrived = 0;
    // Newest last, so that after prepending one by one the newest is on top.
    const openId = openThreadId();
    fresh.reverse().forEach((row) => {
      if (mode === "top" && row.dataset.thread === openId) offerNewComments(Number(row.dataset.latest || 0));
      const old = rowOf(row.dataset.thread);
      if (mode === "inplace") {
        if (old) replaceRow(old, row);
        return;
      }
      if (old) {
        replaceRow(old, row);
      } else {
        arrived += 1;
      }
      container.prepend(row);
    });
    incoming.querySelectorAll(".inbox-gone > li[data-thread]").forEach((item) => {
      const old = rowOf(item.dataset.thread);
      if (old && !old.classList.contains("is-open")) old.remove();
    });
    const burst = document.getElementById("inbox-burst");
    if (burst && incoming.dataset.more === "1") burst.hidden = false;
    const map = incoming.querySelector(".inbox-presence-map");
    if (map) applyPresence(map);
    incoming.remove();
    if (rows().length) {
      document.querySelectorAll("#inbox-results .inbox-empty").forEach((empty) => empty.remove());
    }
    markOpen();
    if (arrived) say(arrived === 1 ? "A new conversation arrived." : `${arrived} new conversations arrived.`);
    else if (mode === "top" && fresh.length) say("New comments arrived.");
  }

  // --- The open thread: heartbeat and leaving ----------------------------------------------------------------------
  function leave(article) {
    const box = article && article.querySelector("#thread-presence");
    const url = box && box.dataset.presenceUrl;
    if (!url) return;
    const body = new FormData();
    body.append("activity", "gone");
    fetch(url, {
      method: "POST",
      body,
      keepalive: true,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
    }).catch(() => {});
  }

  function setActivity(activity) {
    const field = document.getElementById("presence-activity");
    if (!field || field.value === activity) return;
    field.value = activity;
    if (window.htmx) window.htmx.trigger(document.body, "inbox-activity");
  }

  function replyBox(target) {
    return target && target.closest && target.closest("#thread-panel textarea");
  }

  document.addEventListener("focusin", (event) => {
    if (replyBox(event.target)) setActivity("replying");
  });
  document.addEventListener("input", (event) => {
    if (replyBox(event.target)) setActivity("replying");
  });
  document.addEventListener("focusout", (event) => {
    const box = replyBox(event.target);
    if (box && !box.value.trim()) setActivity("viewing");
  });
  window.addEventListener("pagehide", () => leave(document.getElementById("thread")));

  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.target === panel()) {
      const current = document.getElementById("thread");
      if (current) leave(current);
    }
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target !== panel()) return;
    markOpen();
    const heading = document.getElementById("thread-title");
    // On a phone the thread is shown above the list: take the person there.
    if (heading) {
      if (window.matchMedia("(max-width: 991.98px)").matches) heading.scrollIntoView({ block: "start" });
      heading.focus({ preventScroll: true });
    }
  });

  document.addEventListener("htmx:load", (event) => {
    const elt = event.detail.elt;
    if (!(elt instanceof Element)) return;
    const incoming = elt.matches(".inbox-incoming") ? [elt] : Array.from(elt.querySelectorAll(".inbox-incoming"));
    incoming.forEach(takeIncoming);
    if (elt.querySelector && elt.querySelector("#thread-list, #thread")) markOpen();
  });

  // --- Acting from the keyboard -------------------------------------------------------------------------------------
  function selected() {
    return list() ? list().querySelector(":scope > .inbox-row.is-selected") : null;
  }

  function select(row) {
    rows().forEach((r) => r.classList.toggle("is-selected", r === row));
    if (!row) return;
    const link = row.querySelector(".inbox-open");
    if (link) link.focus();
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    const current = selected() || all.find((row) => row.classList.contains("is-open"));
    const index = current ? all.indexOf(current) : -1;
    const next = index < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(Math.max(index + step, 0), all.length - 1);
    select(all[next]);
  }

  function open(row) {
    const link = row && row.querySelector(".inbox-open");
    if (link) link.click();
  }

  // The thread a shortcut acts on: the chosen row, else the open thread.
  function subject() {
    const row = selected();
    if (row) return { id: row.dataset.thread, node: row };
    const article = document.getElementById("thread");
    return article ? { id: article.dataset.thread, node: article } : null;
  }

  function refreshRows(...threadIds) {
    const root = inbox();
    if (!root || !root.dataset.refreshUrl || !window.htmx || !threadIds.length) return Promise.resolve();
    const url = new URL(root.dataset.refreshUrl, window.location.href);
    threadIds.forEach((id) => url.searchParams.append("thread", id));
    return window.htmx.ajax("GET", url.pathname + url.search, { target: "#inbox-refresh", swap: "innerHTML" });
  }

  function reloadPanel() {
    const article = document.getElementById("thread");
    if (!article || !article.dataset.url || !window.htmx) return;
    window.htmx.ajax("GET", article.dataset.url + window.location.search, { target: "#thread-panel", swap: "innerHTML" });
  }

  // Someone else's comment arrived in the thread that is open: offer to show it rather than move the page under
  // the person's eyes (they may be writing a reply).
  function offerNewComments(latest) {
    const article = document.getElementById("thread");
    if (!article || article.querySelector(".thread-news")) return;
    if (latest && latest <= Number(article.dataset.latest || 0)) return; // the panel shows it already
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-sm btn-warning w-100 mb-2 thread-news";
    button.textContent = "New comments in this conversation: show them";
    button.addEventListener("click", reloadPanel);
    article.prepend(button);
    say("New comments in the open conversation.");
  }

  // Told by the action views: an action finished on Meta (a reply adds a comment), or a bulk action was applied.
  document.addEventListener("inboxActionFinished", (event) => {
    const thread = event.detail && event.detail.thread;
    if (!thread) return;
    refreshRows(thread);
    const kinds = (event.detail && event.detail.kinds) || [];
    if (thread === openThreadId() && kinds.some((kind) => kind === "reply" || kind === "private_reply")) reloadPanel();
  });
  document.addEventListener("inboxBulkDone", (event) => {
    const threads = (event.detail && event.detail.threads) || [];
    rows().forEach((row) => {
      const box = row.querySelector('input[name="comment"]');
      if (box) box.checked = false;
    });
    const all = document.getElementById("inbox-select-all");
    if (all) all.checked = false;
    refreshRows(...threads.slice(0, 25));
  });

  function act(kind, values, doneText) {
    const target = subject();
    if (!target) {
      say("Choose a conversation first: j and k move through the list.");
      return;
    }
    const base = target.node.dataset.actionUrl;
    if (!base) {
      say("Your role lets you read the inbox, not act on comments.");
      return;
    }
    if (!window.htmx) return;
    const url = base.replace(/done\/$/, `${kind}/`);
    const card = document.getElementById(`comment-${target.id}`);
    const options = card
      ? { source: card, target: card, swap: "outerHTML", values }
      : { source: target.node, target: "#inbox-refresh", swap: "none", values };
    window.htmx
      .ajax("POST", url, options)
      .then(() => refreshRows(target.id))
      .then(() => {
        // The open thread's panel knows the thread's state from its row (for the next d or h).
        const row = rowOf(target.id);
        const article = document.getElementById("thread");
        if (row && article && article.dataset.thread === target.id) {
          article.dataset.status = row.dataset.status;
          article.dataset.hidden = row.dataset.hidden;
        }
        say(doneText);
      })
      .catch(() => say("That did not work. Open the conversation to see why."));
  }

  function typing(target) {
    if (!(target instanceof Element)) return false;
    return Boolean(target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true'], dialog[open]"));
  }

  document.addEventListener("keydown", (event) => {
    if (!inbox() || event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    const key = event.key;
    if (key === "Enter") {
      // Only when nothing else would take the Enter (a link or button in focus does its own thing).
      const active = document.activeElement;
      if (active && active !== document.body && active.closest("a, button, summary")) return;
      const row = selected();
      if (row) {
        event.preventDefault();
        open(row);
      }
      return;
    }
    const handlers = {
      j: () => move(1),
      k: () => move(-1),
      o: () => open(selected() || rows()[0]),
      r: () => {
        const box = document.querySelector("#thread-panel textarea");
        if (box) box.focus();
        else say("Open a conversation first to reply.");
      },
      d: () => {
        const target = subject();
        const reopen = target && target.node.dataset.status === "done";
        act(reopen ? "reopen" : "done", {}, reopen ? "Reopened." : "Marked done.");
      },
      h: () => {
        const target = subject();
        const unhide = target && target.node.dataset.hidden === "1";
        act(unhide ? "unhide" : "hide", {}, unhide ? "Sent to Meta: unhide." : "Sent to Meta: hide.");
      },
      e: () => act("assign", { assignee: "me" }, "Assigned to you."),
      "/": () => {
        const search = document.getElementById("filter-q");
        if (search) search.focus();
      },
      "?": () => {
        const dialog = document.getElementById("inbox-help");
        if (dialog && !dialog.open) dialog.showModal();
      },
    };
    const handler = handlers[key];
    if (!handler) return;
    event.preventDefault();
    handler();
  });

  // A click on a row (outside its links and checkbox) chooses it, as j and k do.
  document.addEventListener("click", (event) => {
    const row = event.target.closest && event.target.closest("#thread-list > .inbox-row");
    if (row && !event.target.closest("a, input, label, button")) select(row);
    const opener = event.target.closest && event.target.closest("#inbox-help-open");
    if (opener) {
      const dialog = document.getElementById("inbox-help");
      if (dialog) dialog.showModal();
    }
  });

  // --- Bulk form: "select all", and the person to assign to only when assigning ----------------------------------
  function syncBulk() {
    const kind = document.getElementById("bulk-kind");
    const who = document.querySelector(".inbox-bulk-assignee");
    if (kind && who) who.hidden = kind.value !== "assign";
  }

  document.addEventListener("change", (event) => {
    if (event.target.id === "inbox-select-all") {
      rows().forEach((row) => {
        const box = row.querySelector('input[name="comment"]');
        if (box) box.checked = event.target.checked;
      });
    }
    if (event.target.id === "bulk-kind") syncBulk();
  });

  document.addEventListener("DOMContentLoaded", () => {
    syncBulk();
    markOpen();
    const article = document.getElementById("thread");
    const focus = article && article.dataset.focus;
    const card = focus && document.getElementById(`comment-${focus}`);
    if (card && focus !== article.dataset.thread) card.scrollIntoView({ block: "center" });
  });
})();
