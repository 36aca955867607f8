// Time-zone fields (templates/accounts/_timezone_field.html) propose the zone of the browser they are opened in.
// data-tz-picker="prefill": a field that is empty, or still at its default (data-tz-default), takes that zone and
// says so. data-tz-picker="offer": a "Use my time zone (…)" button appears while the field holds another zone.
// Only zones the field lists are proposed; the server checks whatever is sent.
(() => {
  let zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch {
    return;
  }
  document.querySelectorAll("[data-tz-picker]").forEach((input) => {
    const box = input.closest(".tz-picker");
    const known = input.list && Array.from(input.list.options).some((option) => option.value === zone);
    if (!box || !known) return;
    const note = box.querySelector("[data-tz-note]");
    const button = box.querySelector("[data-tz-use]");
    const atDefault = !input.value.trim() || input.value === input.dataset.tzDefault;
    if (input.dataset.tzPicker === "prefill" && atDefault) {
      input.value = zone;
      if (note) {
        note.textContent = "Filled in with this computer's time zone. Change it if the client is somewhere else.";
        note.hidden = false;
      }
      return;
    }
    if (!button) return;
    button.textContent = `Use my time zone (${zone.replaceAll("_", " ")})`;
    const show = () => {
      button.hidden = input.value === zone;
    };
    button.addEventListener("click", () => {
      input.value = zone;
      input.dispatchEvent(new Event("change", { bubbles: true }));
      show();
      input.focus();
    });
    input.addEventListener("input", show);
    show();
  });
})();
