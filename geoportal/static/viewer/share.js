// The shareable URL: /{city}/#map=zoom/lat/lon&layers=cid,cid. MapLibre keeps `map=` up to date
// (hash option "map"); this module keeps `layers=` (the visible collections) and reads both back.

export const MAP_HASH = "map";

function hashParams() {
  return new URLSearchParams(window.location.hash.replace(/^#/, ""));
}

/** The collections listed in the URL, or null when the URL does not say (the style's defaults apply). */
export function visibleFromUrl() {
  const value = hashParams().get("layers");
  return value === null ? null : new Set(value.split(",").filter(Boolean));
}

/** Write `layers=` without touching MapLibre's `map=` (commas and slashes left readable). */
export function writeVisibleToUrl(collections) {
  const parts = window.location.hash.replace(/^#/, "").split("&").filter((part) => part && !part.startsWith("layers="));
  parts.push(`layers=${collections.filter((c) => c.visible).map((c) => c.cid).join(",")}`);
  window.history.replaceState(window.history.state, "", `${window.location.pathname}${window.location.search}#${parts.join("&")}`);
}

export function setupShare({ button, field, status, strings }) {
  button.addEventListener("click", async () => {
    field.value = window.location.href;
    field.hidden = false;
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
      status.textContent = strings.link_copied;
    } catch {
      status.textContent = strings.link_ready; // no clipboard permission: the selected field is there to copy
    }
  });
}
