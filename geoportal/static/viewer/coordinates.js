// The cursor position in WGS 84 and in the city's projected CRSs (UTM, Gauss-Krüger).
import { project } from "./crs.js";

export function formatPosition(lngLat, systems, language) {
  const degrees = (value) => value.toLocaleString(language, { minimumFractionDigits: 5, maximumFractionDigits: 5 });
  const metres = (value) => Math.round(value).toLocaleString(language, { useGrouping: false });
  const parts = [`WGS 84: ${degrees(lngLat.lat)}, ${degrees(lngLat.lng)}`];
  for (const system of systems) {
    const [easting, northing] = project(lngLat.lng, lngLat.lat, system.params);
    parts.push(`${system.title}: E ${metres(easting)} N ${metres(northing)}`);
  }
  return parts.join(" · ");
}

export function setupCoordinates(map, output, systems, language) {
  map.on("mousemove", (event) => {
    output.textContent = formatPosition(event.lngLat, systems, language);
  });
  map.getCanvas().addEventListener("mouseleave", () => {
    output.textContent = "";
  });
}
