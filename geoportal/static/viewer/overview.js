// National overview: Belarus from /styles/belarus.json plus one circle per registered city.
import { createMap, loadStyle, maplibregl, readJson, strings } from "./common.js";

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

const config = readJson("map-config");
const style = await loadStyle(config.style);
const map = createMap({ container: "map", style, bounds: config.bounds });
map.on("load", () => {
  addCities(map, config.cities);
  addCityInteraction(map);
});
