// A city's map: its style (embedded in the page), the layer tree, identify, search, measure, coordinates, share, export.
import { setupCoordinates } from "./coordinates.js";
import { createMap, pageStyle, readJson, strings } from "./common.js";
import { setupExport } from "./export.js";
import { showFeature } from "./feature-panel.js";
import { collectionsOf, renderLayerList, setCollectionVisible } from "./layers.js";
import { setupMeasure } from "./measure.js";
import { setupSearch } from "./search.js";
import { MAP_HASH, setupShare, visibleFromUrl, writeVisibleToUrl } from "./share.js";

const CLICK_TOLERANCE_PX = 4; // lines and points are thin: accept a click near them
// /api/identify looks this far around the click: the corners of the box queryRenderedFeatures searches
// (CLICK_TOLERANCE_PX·√2 away), plus a pixel for the tile geometry's simplification, so the clicked
// feature is always among the candidates; at most the server's limit (5 km: far out, at z7 and below).
const IDENTIFY_RADIUS_PX = CLICK_TOLERANCE_PX * Math.SQRT2 + 1;
const IDENTIFY_MAX_TOLERANCE_M = 5000;
const EQUATOR_M = 40075016.686; // length of the equator on the Web Mercator sphere
const SELECTION = "geoportal-selection";
const EMPTY = { type: "FeatureCollection", features: [] };
const $ = (id) => document.getElementById(id);

/** Metres of ground per CSS pixel at the map's zoom and latitude `lat` (512-px tiles, Web Mercator). */
function metresPerPixel(map, lat) {
  return (EQUATOR_M * Math.cos((lat * Math.PI) / 180)) / (512 * 2 ** map.getZoom());
}

/**
 * An outline drawn over the selected feature: at once its rendered, tile-clipped geometry, then the
 * whole geometry of its record once /api/identify has found it.
 * Part of the style from the start: adding it after "load" would cost the first render another worker round trip.
 */
function withSelectionLayer(style) {
  style.sources[SELECTION] = { type: "geojson", data: EMPTY };
  style.layers.push(
    { id: `${SELECTION}-line`, type: "line", source: SELECTION, paint: { "line-color": "#0b5cad", "line-width": 3 } },
    {
      id: `${SELECTION}-point`,
      type: "circle",
      source: SELECTION,
      filter: ["==", ["geometry-type"], "Point"],
      paint: { "circle-radius": 7, "circle-color": "rgba(0,0,0,0)", "circle-stroke-color": "#0b5cad", "circle-stroke-width": 3 },
    },
  );
  return style;
}

function select(map, geometry) {
  const data = geometry ? { type: "Feature", geometry, properties: {} } : EMPTY;
  map.getSource(SELECTION).setData(data);
}

function flyToHit(map, hit) {
  const [minx, miny, maxx, maxy] = hit.bbox;
  if (maxx - minx < 1e-6 && maxy - miny < 1e-6) map.flyTo({ center: hit.geometry.coordinates, zoom: 18 });
  else map.fitBounds([[minx, miny], [maxx, maxy]], { padding: 60, maxZoom: 18 });
  select(map, hit.geometry);
  window.geoportalLastPick = hit;
}

const config = readJson("map-config");
const language = document.documentElement.lang;
const themes = config.themes || {};
const style = withSelectionLayer(pageStyle());
performance.mark("geoportal:modules-ready");
const map = createMap({ container: "map", style, bounds: config.bounds, hash: MAP_HASH });

map.once("load", () => performance.mark("geoportal:map-load"));
// Where the first render's time goes (the browser test reports these marks): tiles parsed by the worker, frames drawn.
const markTiles = (event) => {
  if (!event.tile) return;
  performance.mark("geoportal:first-tile-parsed");
  map.off("data", markTiles);
};
map.on("data", markTiles);
map.once("render", () => performance.mark("geoportal:first-frame"));
map.once("idle", () => {
  // First complete render (style, tiles, drawing), from navigation start: the browser test reports it.
  performance.mark("geoportal:first-idle");
  window.geoportalFirstRenderMs = performance.now();
});

map.on("load", () => {
  const collections = collectionsOf(map.getStyle().layers, language);
  const fromUrl = visibleFromUrl();
  if (fromUrl) for (const collection of collections) setCollectionVisible(map, collection, fromUrl.has(collection.cid));
  let refreshExport = () => {};
  renderLayerList(map, $("layer-list"), collections, {
    emptyText: strings.no_layers,
    themes,
    onChange: () => {
      writeVisibleToUrl(collections);
      refreshExport();
    },
  });

  const collectionOfLayer = new Map();
  for (const collection of collections) for (const id of collection.layerIds) collectionOfLayer.set(id, collection);
  const queryable = [...collectionOfLayer.keys()];
  const featuresAt = (point) => {
    if (queryable.length === 0) return [];
    const box = [
      [point.x - CLICK_TOLERANCE_PX, point.y - CLICK_TOLERANCE_PX],
      [point.x + CLICK_TOLERANCE_PX, point.y + CLICK_TOLERANCE_PX],
    ];
    return map.queryRenderedFeatures(box, { layers: queryable });
  };
  const measure = setupMeasure(map, {
    distanceButton: $("measure-distance"),
    areaButton: $("measure-area"),
    output: $("measure-result"),
    language,
  });
  map.on("click", (event) => {
    if (measure.active()) return;
    const [feature] = featuresAt(event.point);
    if (!feature) return;
    select(map, feature.geometry);
    showFeature(collectionOfLayer.get(feature.layer.id), feature, {
      lngLat: event.lngLat,
      tolerance: Math.min(IDENTIFY_RADIUS_PX * metresPerPixel(map, event.lngLat.lat), IDENTIFY_MAX_TOLERANCE_M),
      onClose: () => select(map, null),
      onRecord: (record) => select(map, record.geometry),
      themes,
    });
  });
  map.on("mousemove", (event) => {
    if (!measure.active()) map.getCanvas().style.cursor = featuresAt(event.point).length ? "pointer" : "";
  });
  setupCoordinates(map, $("cursor-coordinates"), config.crs || [], language);
  setupSearch({
    form: $("search-form"),
    input: $("search-input"),
    results: $("search-results"),
    status: $("search-status"),
    city: config.city.slug,
    language,
    onPick: (hit) => flyToHit(map, hit),
  });
  setupShare({ button: $("share-button"), field: $("share-url"), status: $("share-status"), strings });
  refreshExport = setupExport(map, collections, {
    layerSelect: $("export-layer"),
    formatSelect: $("export-format"),
    link: $("export-link"),
    status: $("export-status"),
  });
  window.geoportalReady = true;
});
