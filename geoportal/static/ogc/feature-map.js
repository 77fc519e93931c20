// A small map of the features on an OGC API HTML page (items or item).
// The GeoJSON comes from the page itself (a json_script block), so the map asks
// nothing of the network beyond MapLibre, served from our own static files.
import maplibregl from "maplibre-gl";

const holder = document.getElementById("feature-map");
const data = JSON.parse(document.getElementById("feature-map-data").textContent);

function extentOf(collection) {
  let [minx, miny, maxx, maxy] = [180, 90, -180, -90];
  const visit = (coords) => {
    if (typeof coords[0] === "number") {
      minx = Math.min(minx, coords[0]); maxx = Math.max(maxx, coords[0]);
      miny = Math.min(miny, coords[1]); maxy = Math.max(maxy, coords[1]);
    } else coords.forEach(visit);
  };
  for (const feature of collection.features) {
    const geometry = feature.geometry;
    if (!geometry) continue;
    (geometry.type === "GeometryCollection" ? geometry.geometries : [geometry]).forEach((g) => visit(g.coordinates));
  }
  return minx <= maxx ? [[minx, miny], [maxx, maxy]] : null;
}

const bounds = extentOf(data);
if (holder && bounds) {
  const map = new maplibregl.Map({
    container: holder,
    style: {
      version: 8,
      sources: { features: { type: "geojson", data } },
      layers: [
        { id: "background", type: "background", paint: { "background-color": "#f4f1ea" } },
        { id: "fill", type: "fill", source: "features", filter: ["==", ["geometry-type"], "Polygon"],
          paint: { "fill-color": "#3b7dd8", "fill-opacity": 0.35 } },
        { id: "line", type: "line", source: "features", paint: { "line-color": "#1f4e8c", "line-width": 2 } },
        { id: "point", type: "circle", source: "features", filter: ["==", ["geometry-type"], "Point"],
          paint: { "circle-color": "#d8563b", "circle-radius": 5, "circle-stroke-color": "#fff", "circle-stroke-width": 1 } },
      ],
    },
    bounds,
    fitBoundsOptions: { padding: 30, maxZoom: 18 },
    attributionControl: false,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  holder.dataset.ready = "true";
}
