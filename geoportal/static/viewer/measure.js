// Measure distance and area on the WGS 84 ellipsoid, good to about 1e-5 at city scale:
// - a segment's length uses the meridional and prime-vertical radii of curvature at its middle
//   latitude (exact in the limit of short segments; clicks on a city map are short);
// - an area is the spherical-polygon formula (Chamberlain & Duquette 2007) on the authalic sphere,
//   latitudes mapped to authalic latitudes: that mapping preserves area exactly, so only the
//   difference between great-circle and geodesic edges remains (negligible over kilometres).
import { strings } from "./common.js";

const A = 6378137;
const F = 1 / 298.257223563;
const E2 = F * (2 - F);
const E = Math.sqrt(E2);
const SOURCE = "geoportal-measure";
const EMPTY = { type: "FeatureCollection", features: [] };
const rad = (degrees) => (degrees * Math.PI) / 180;

function q(sinLat) {
  return (1 - E2) * (sinLat / (1 - E2 * sinLat * sinLat) - (1 / (2 * E)) * Math.log((1 - E * sinLat) / (1 + E * sinLat)));
}
const Q_POLE = q(1);
const AUTHALIC_RADIUS = A * Math.sqrt(Q_POLE / 2);
const sinAuthalic = (lat) => q(Math.sin(rad(lat))) / Q_POLE;

/** Length in metres of a path of [lon, lat] points. */
export function pathLength(points) {
  let total = 0;
  for (let i = 1; i < points.length; i += 1) {
    const [[lon1, lat1], [lon2, lat2]] = [points[i - 1], points[i]];
    const mid = rad((lat1 + lat2) / 2);
    const w = Math.sqrt(1 - E2 * Math.sin(mid) ** 2);
    const meridional = (A * (1 - E2)) / w ** 3;
    const primeVertical = A / w;
    total += Math.hypot(meridional * rad(lat2 - lat1), primeVertical * Math.cos(mid) * rad(lon2 - lon1));
  }
  return total;
}

/** Area in m² of the polygon with vertices [lon, lat]. */
export function polygonArea(points) {
  if (points.length < 3) return 0;
  let sum = 0;
  for (let i = 0; i < points.length; i += 1) {
    const [lon1, lat1] = points[i];
    const [lon2, lat2] = points[(i + 1) % points.length];
    sum += rad(lon2 - lon1) * (2 + sinAuthalic(lat1) + sinAuthalic(lat2));
  }
  return Math.abs((sum * AUTHALIC_RADIUS * AUTHALIC_RADIUS) / 2);
}

function formatNumber(value, digits, language) {
  return value.toLocaleString(language, { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function formatLength(metres, language) {
  return metres < 1000 ? `${formatNumber(metres, 1, language)} ${strings.metres}` : `${formatNumber(metres / 1000, 3, language)} ${strings.kilometres}`;
}

export function formatArea(squareMetres, language) {
  if (squareMetres < 10000) return `${formatNumber(squareMetres, 0, language)} ${strings.square_metres}`;
  if (squareMetres < 1e6) return `${formatNumber(squareMetres / 10000, 2, language)} ${strings.hectares}`;
  return `${formatNumber(squareMetres / 1e6, 3, language)} ${strings.square_kilometres}`;
}

/** Two toggle buttons; while one is pressed, map clicks add vertices instead of identifying features. */
export function setupMeasure(map, { distanceButton, areaButton, output, language }) {
  const state = { mode: null, points: [] };
  map.addSource(SOURCE, { type: "geojson", data: EMPTY });
  map.addLayer({ id: `${SOURCE}-fill`, type: "fill", source: SOURCE, filter: ["==", ["geometry-type"], "Polygon"], paint: { "fill-color": "#f2a900", "fill-opacity": 0.2 } });
  map.addLayer({ id: `${SOURCE}-line`, type: "line", source: SOURCE, paint: { "line-color": "#a35c00", "line-width": 2, "line-dasharray": [2, 1] } });
  map.addLayer({ id: `${SOURCE}-point`, type: "circle", source: SOURCE, filter: ["==", ["geometry-type"], "Point"], paint: { "circle-radius": 4, "circle-color": "#a35c00" } });

  const draw = () => {
    const features = state.points.map((p) => ({ type: "Feature", geometry: { type: "Point", coordinates: p }, properties: {} }));
    if (state.points.length > 1) {
      const ring = state.mode === "area" && state.points.length > 2 ? [...state.points, state.points[0]] : state.points;
      const geometry = state.mode === "area" && state.points.length > 2 ? { type: "Polygon", coordinates: [ring] } : { type: "LineString", coordinates: ring };
      features.push({ type: "Feature", geometry, properties: {} });
    }
    map.getSource(SOURCE).setData({ type: "FeatureCollection", features });
    if (!state.mode) output.textContent = "";
    else if (state.points.length < 2) output.textContent = strings.measure_hint;
    else if (state.mode === "distance") output.textContent = `${strings.measure_distance}: ${formatLength(pathLength(state.points), language)}`;
    else output.textContent = `${strings.measure_area}: ${formatArea(polygonArea(state.points), language)} · ${formatLength(pathLength([...state.points, state.points[0]]), language)}`;
    output.dataset.points = JSON.stringify(state.points); // what was measured, for tests and copying
    output.dataset.metres = state.mode === "distance" ? String(pathLength(state.points)) : "";
    output.dataset.squareMetres = state.mode === "area" ? String(polygonArea(state.points)) : "";
  };
  const setMode = (mode) => {
    state.mode = state.mode === mode ? null : mode;
    state.points = [];
    distanceButton.setAttribute("aria-pressed", String(state.mode === "distance"));
    areaButton.setAttribute("aria-pressed", String(state.mode === "area"));
    map.getCanvas().style.cursor = state.mode ? "crosshair" : "";
    if (state.mode) map.doubleClickZoom.disable();
    else map.doubleClickZoom.enable();
    draw();
  };
  distanceButton.addEventListener("click", () => setMode("distance"));
  areaButton.addEventListener("click", () => setMode("area"));
  map.on("click", (event) => {
    if (!state.mode) return;
    state.points.push([event.lngLat.lng, event.lngLat.lat]);
    draw();
  });
  document.addEventListener("keydown", (event) => {
    if (!state.mode) return;
    if (event.key === "Escape") setMode(state.mode);
  });
  return { active: () => state.mode !== null };
}
