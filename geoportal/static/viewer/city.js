// A city's map: /styles/{city}.json, a layer list by collection, and feature attributes on click.
import { createMap, loadStyle, readJson, strings } from "./common.js";
import { showFeature } from "./feature-panel.js";
import { collectionsOf, renderLayerList } from "./layers.js";

const CLICK_TOLERANCE_PX = 4; // lines and points are thin: accept a click near them
const SELECTION = "geoportal-selection";
const EMPTY = { type: "FeatureCollection", features: [] };

/** An outline drawn over the selected feature (its rendered, tile-clipped geometry is enough for that). */
function addSelectionLayer(map) {
  map.addSource(SELECTION, { type: "geojson", data: EMPTY });
  map.addLayer({ id: `${SELECTION}-line`, type: "line", source: SELECTION, paint: { "line-color": "#0b5cad", "line-width": 3 } });
  map.addLayer({
    id: `${SELECTION}-point`,
    type: "circle",
    source: SELECTION,
    filter: ["==", ["geometry-type"], "Point"],
    paint: { "circle-radius": 7, "circle-color": "rgba(0,0,0,0)", "circle-stroke-color": "#0b5cad", "circle-stroke-width": 3 },
  });
}

function select(map, feature) {
  const data = feature ? { type: "Feature", geometry: feature.geometry, properties: {} } : EMPTY;
  map.getSource(SELECTION).setData(data);
}

const config = readJson("map-config");
const language = document.documentElement.lang;
const style = await loadStyle(config.style);
const map = createMap({ container: "map", style, bounds: config.bounds });

map.on("load", () => {
  const collections = collectionsOf(map.getStyle().layers, language);
  renderLayerList(map, document.getElementById("layer-list"), collections, strings.no_layers);

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
  addSelectionLayer(map);
  map.on("click", (event) => {
    const [feature] = featuresAt(event.point);
    if (!feature) return;
    showFeature(collectionOfLayer.get(feature.layer.id), feature, () => select(map, null));
    select(map, feature);
  });
  map.on("mousemove", (event) => {
    map.getCanvas().style.cursor = featuresAt(event.point).length ? "pointer" : "";
  });
});
