// The search box: /api/search (names and addresses in any script, typo-tolerant); a result flies the map there.
// On a city page it searches that city; on the national overview (no `city`) every city, and each result names its city.
import { strings } from "./common.js";

const DEBOUNCE_MS = 300;
const RESULT_LIMIT = 8;

function resultButton(feature, language, onPick, showCity) {
  const { label, layer_title: titles, matches, city_name: cityNames } = feature.properties;
  const item = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.dataset.fid = feature.properties.fid;
  button.dataset.collection = feature.properties.collection;
  if (feature.properties.city) button.dataset.city = feature.properties.city;
  const meta = document.createElement("span");
  meta.className = "meta";
  const layer = (titles && (titles[language] || titles.en)) || feature.properties.collection;
  const parts = [layer];
  if (showCity) parts.unshift((cityNames && (cityNames[language] || cityNames.en)) || strings.national_layer);
  if (matches > 1) parts.push(strings.features_count.replace("%(count)s", matches));
  meta.textContent = parts.join(" · ");
  button.append(label, meta);
  button.addEventListener("click", () => onPick(feature));
  item.append(button);
  return item;
}

/**
 * Wire the search form; `onPick(feature)` receives the chosen GeoJSON hit (bbox, centre, collection, fid, city).
 * `city`: the city slug to search in, or null for all cities (the results then name their city).
 */
export function setupSearch({ form, input, results, status, city, language, onPick }) {
  let timer = null;
  let latest = 0;
  const run = async () => {
    const query = input.value.trim();
    if (query.length < 2) {
      results.replaceChildren();
      status.textContent = "";
      return;
    }
    const ticket = ++latest;
    const params = new URLSearchParams({ q: query, limit: String(RESULT_LIMIT) });
    if (city) params.set("city", city);
    let body;
    try {
      const response = await fetch(`/api/search?${params}`, { headers: { Accept: "application/geo+json" } });
      body = await response.json();
      if (!response.ok) throw new Error(body.description || response.status);
    } catch (error) {
      if (ticket === latest) status.textContent = strings.search_failed;
      return;
    }
    if (ticket !== latest) return; // a newer query is on its way
    results.replaceChildren(...body.features.map((feature) => resultButton(feature, language, onPick, !city)));
    status.textContent = body.features.length ? "" : strings.search_empty;
    results.dataset.query = query;
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    run();
  });
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(run, DEBOUNCE_MS);
  });
}
