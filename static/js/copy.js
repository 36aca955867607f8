// "Copy" buttons: <button data-copy-target="ID"> copies the value of the input with that id to the clipboard.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy-target]");
  if (!button) return;
  const input = document.getElementById(button.dataset.copyTarget);
  if (!input) return;
  const selectInstead = () => {
    input.focus();
    input.select();
    button.textContent = "Press Ctrl+C to copy";
  };
  if (!navigator.clipboard) {
    selectInstead();
    return;
  }
  navigator.clipboard.writeText(input.value).then(() => {
    button.textContent = "Copied";
  }, selectInstead);
});
