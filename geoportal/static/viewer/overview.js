// National overview: Belarus (the style of /styles/belarus.json, embedded) plus one circle per registered city,
// and a search across every city: a result opens its city's map at the feature.
import { createMap, maplibregl, pageStyle, readJson, strings } from "./common.js";
import { setupSearch } from "./search.js";

const CITY_COLOUR = "#b3261e";

function citiesAsGeoJSON(cities) {
  return {
    type: "FeatureCollection",
    features: cities
      .filter((city) => !city.is_sample) // the stand-in (Helsinki) would pull the map out of Belarus
      .map((city) => ({
        type: "Feature",
        geometry: { type: "Point", coordinates: city.centre },
        properties: { slug: city.slug, name: city.name, population: city.population, url: city.url },
      })),
  };
}

function addCities(map, cities) {
  map.addSource("geoportal-cities", { type: "geojson", data: citiesAsGeoJSON(cities) });
  map.addLayer({
    id: "geoportal-cities",
    type: "circle",
    source: "geoportal-cities",
    paint: {
      // Area proportional to population: Minsk (2 M) 14 px, a town of 60 000 about 4 px.
      "circle-radius": ["interpolate", ["linear"], ["sqrt", ["get", "population"]], 0, 3, 1414, 14],
      "circle-color": CITY_COLOUR,
      "circle-opacity": 0.85,
      "circle-stroke-color": "#ffffff",
      "circle-stroke-width": 1.5,
    },
  });
}

function addCityInteraction(map) {
  const popup = new maplibregl.Popup({ closeButton: false, closeOnClick: false, offset: 10 });
  map.on("mouseenter", "geoportal-cities", (event) => {
    const city = event.features[0].properties;
    map.getCanvas().style.cursor = "pointer";
    const label = document.createElement("div");
    const name = document.createElement("strong");
    name.textContent = city.name;
    label.append(name, document.createElement("br"), `${strings.population}: ${Number(city.population).toLocaleString(document.documentElement.lang)}`);
    popup.setLngLat(event.features[0].geometry.coordinates).setDOMContent(label).addTo(map);
  });
  map.on("mouseleave", "geoportal-cities", () => {
    map.getCanvas().style.cursor = "";
    popup.remove();
  });
  map.on("click", "geoportal-cities", (event) => {
    window.location.assign(event.features[0].properties.url);
  });
}

const FEATURE_MAX_ZOOM = 18;

/** A search result: its city's page, opened at the feature (#map=zoom/lat/lon); a national feature: fly there. */
function openHit(map, hit) {
  const [minx, miny, maxx, maxy] = hit.bbox;
  const camera = map.cameraForBounds(
    [
      [minx, miny],
      [maxx, maxy],
    ],
    { padding: 60, maxZoom: FEATURE_MAX_ZOOM },
  );
  const zoom = maxx - minx < 1e-6 && maxy - miny < 1e-6 ? FEATURE_MAX_ZOOM : camera.zoom;
  const [lon, lat] = hit.geometry.coordinates;
  window.geoportalLastPick = hit;
  if (!hit.properties.city) {
    map.flyTo({ center: [lon, lat], zoom });
    return;
  }
  const view = `map=${zoom.toFixed(2)}/${lat.toFixed(6)}/${lon.toFixed(6)}`;
  window.location.assign(`/${encodeURIComponent(hit.properties.city)}/#${view}`);
}

const config = readJson("map-config");
const style = pageStyle();
const map = createMap({ container: "map", style, bounds: config.bounds });
map.on("load", () => {
  addCities(map, config.cities);
  addCityInteraction(map);
});
setupSearch({
  form: document.getElementById("search-form"),
  input: document.getElementById("search-input"),
  results: document.getElementById("search-results"),
  status: document.getElementById("search-status"),
  city: null,
  language: document.documentElement.lang,
  onPick: (hit) => openHit(map, hit),
});
