// Shared helpers of the viewer pages. Plain ES module, no build step.
import * as maplibregl from "maplibre-gl";

export { maplibregl };

/** Data the server embedded with Django's json_script. */
export function readJson(id) {
  const element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : null;
}

export const strings = readJson("viewer-strings") || {};

// Switching the language keeps the view: the language links carry the current hash along.
for (const anchor of document.querySelectorAll(".languages a")) {
  anchor.addEventListener("click", () => {
    anchor.href = `?lang=${anchor.dataset.lang}${window.location.hash}`;
  });
}

/** A style that needs nothing from any server: used when the page carries no style. */
const FALLBACK_STYLE = {
  version: 8,
  sources: {},
  layers: [{ id: "background", type: "background", paint: { "background-color": "#eef0f2" } }],
};

export function showNotice(text) {
  const notice = document.getElementById("map-notice");
  if (notice) {
    notice.textContent = text;
    notice.hidden = false;
  }
}

/**
 * The MapLibre style the server embedded in the page (the document /styles/{city}.json serves):
 * no round trip before the map can ask for tiles. Without it the page still works, with no base map.
 */
export function pageStyle() {
  const style = readJson("map-style");
  if (style) return style;
  showNotice(strings.style_failed);
  return structuredClone(FALLBACK_STYLE);
}

/**
 * The map, fitted to `bounds` [minLon, minLat, maxLon, maxLat] unless the URL hash
 * (#zoom/lat/lon, kept up to date by MapLibre) says where to look.
 */
export function createMap({ container, style, bounds, hash = true }) {
  let map;
  try {
    map = new maplibregl.Map({
      container,
      style,
      bounds,
      fitBoundsOptions: { padding: 24 },
      hash,
      attributionControl: false,
      fadeDuration: 0, // no symbol fade-in to wait for: the first render is complete when the tiles are drawn
      // Relative URLs in a style (e.g. "/tiles/…") are resolved against this page, never another host.
      transformRequest: (url) => ({ url: new URL(url, window.location.href).href }),
      locale: { "NavigationControl.ZoomIn": strings.zoom_in, "NavigationControl.ZoomOut": strings.zoom_out },
    });
  } catch (error) {
    // Typically "Failed to initialize WebGL": say so instead of leaving an empty box.
    showNotice(strings.map_failed);
    throw error;
  }
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  map.addControl(new maplibregl.AttributionControl({ compact: false }), "bottom-right");
  map.on("error", (event) => console.error("map:", event.error && event.error.message));
  // For the browser tests and for debugging from the console.
  window.geoportalMap = map;
  return map;
}
