// Carousel previews: previous/next buttons and the active dot. Without this file the strip still scrolls by
// touch, trackpad and keyboard; the buttons stay hidden.
(() => {
  if (window.socialhubPreviews) return;
  window.socialhubPreviews = true;

  const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");

  const position = (strip) => {
    const count = strip.children.length;
    const index = Math.round(strip.scrollLeft / Math.max(strip.clientWidth, 1));
    return { index: Math.min(Math.max(index, 0), count - 1), count };
  };

  const update = (carousel) => {
    const strip = carousel.querySelector("[data-pv-strip]");
    if (!strip) return;
    const { index, count } = position(strip);
    const prev = carousel.querySelector("[data-pv-prev]");
    const next = carousel.querySelector("[data-pv-next]");
    if (prev) prev.setAttribute("aria-disabled", String(index === 0));
    if (next) next.setAttribute("aria-disabled", String(index >= count - 1));
    const dots = carousel.closest(".pv-ig")?.querySelectorAll("[data-pv-dots] > *") ?? [];
    dots.forEach((dot, i) => dot.classList.toggle("is-active", i === index));
  };

  const enhance = (root) => {
    const carousels = root.matches?.("[data-pv-carousel]") ? [root] : root.querySelectorAll("[data-pv-carousel]");
    carousels.forEach((carousel) => {
      if (carousel.dataset.pvReady) return;
      carousel.dataset.pvReady = "true";
      const strip = carousel.querySelector("[data-pv-strip]");
      if (!strip || strip.children.length < 2) return;
      carousel.querySelectorAll("[data-pv-prev], [data-pv-next]").forEach((button) => {
        button.hidden = false;
      });
      update(carousel);
    });
  };

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-pv-prev], [data-pv-next]");
    if (!button || button.getAttribute("aria-disabled") === "true") return;
    const carousel = button.closest("[data-pv-carousel]");
    const strip = carousel?.querySelector("[data-pv-strip]");
    if (!strip) return;
    const { index } = position(strip);
    const target = index + (button.hasAttribute("data-pv-next") ? 1 : -1);
    strip.scrollTo({ left: target * strip.clientWidth, behavior: reducedMotion.matches ? "auto" : "smooth" });
  });

  let pending = null;
  document.addEventListener(
    "scroll",
    (event) => {
      const strip = event.target instanceof Element ? event.target.closest("[data-pv-strip]") : null;
      if (!strip || pending) return;
      pending = requestAnimationFrame(() => {
        pending = null;
        const carousel = strip.closest("[data-pv-carousel]");
        if (carousel) update(carousel);
      });
    },
    true,
  );

  document.addEventListener("htmx:load", (event) => enhance(event.target));
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => enhance(document));
  } else {
    enhance(document);
  }
})();
