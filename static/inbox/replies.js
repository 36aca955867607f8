// The reply box: a saved reply chosen in the picker goes into the textarea (the text is rendered for the comment by
// the server, in the option's data-text) where the cursor is, so nothing already typed is lost; a counter shows how
// many characters the reply has.
// Loaded with every reply form, which htmx swaps in and out: the listeners are added once, on the document.
(() => {
  if (window.socialhubReplies) return;
  window.socialhubReplies = true;

  const count = (textarea) => {
    const counter = document.getElementById(textarea.dataset.countTarget || "");
    if (!counter) return;
    const max = Number(textarea.dataset.max || 0);
    const length = textarea.value.length;
    counter.textContent = max ? `${length} / ${max}` : String(length);
    counter.classList.toggle("text-danger", max > 0 && length > max);
  };

  document.addEventListener("change", (event) => {
    const picker = event.target.closest("select.saved-reply-picker");
    if (!picker) return;
    const option = picker.selectedOptions[0];
    const textarea = document.getElementById(picker.dataset.replyTarget || "");
    if (!option || !option.value || !textarea) return;
    const text = option.dataset.text || "";
    if (textarea.value.trim() === "") {
      textarea.value = text;
    } else {
      textarea.setRangeText(text, textarea.selectionStart, textarea.selectionEnd, "end");
    }
    picker.value = "";
    count(textarea);
    textarea.focus();
  });

  document.addEventListener("input", (event) => {
    const textarea = event.target.closest("textarea[data-count-target]");
    if (textarea) count(textarea);
  });
})();
