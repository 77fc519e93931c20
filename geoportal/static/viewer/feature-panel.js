// The side panel that shows the attributes of a clicked feature.
import { strings } from "./common.js";

function link(href, text) {
  const anchor = document.createElement("a");
  anchor.href = href;
  anchor.textContent = text;
  return anchor;
}

function formatValue(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** Rows labelled with the theme's attribute titles in the UI language (the raw name stays in a tooltip). */
function propertiesTable(properties, schema) {
  const table = document.createElement("table");
  table.className = "properties";
  const attributes = (schema && schema.attributes) || {};
  for (const [name, value] of Object.entries(properties)) {
    const known = attributes[name];
    const row = table.insertRow();
    row.dataset.attribute = name;
    const key = document.createElement("th");
    key.scope = "row";
    key.textContent = known && known.title ? known.title : name;
    if (known && known.title) key.title = name;
    const cell = row.insertCell();
    cell.textContent = formatValue(value) + (known && known.unit && known.unit.length <= 4 && value !== null && value !== "" ? ` ${known.unit}` : "");
    row.prepend(key);
  }
  return table;
}

let clicks = 0; // numbers each shown feature, so that a late answer for an earlier click is recognised

/** Numbers equal within a relative 1e-6: tiles may carry 4-byte floats (36.6 arrives as 36.599998…). */
function sameNumber(a, b) {
  return a === b || Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b));
}

/**
 * Whether a record's properties agree with every attribute the tile feature carries. Tiles carry
 * top-level strings, numbers and booleans only (nulls, objects and arrays are left out).
 */
function agreesWithTile(tileProperties, recordProperties) {
  return Object.entries(tileProperties).every(([name, value]) => {
    if (!Object.hasOwn(recordProperties, name)) return false;
    const other = recordProperties[name];
    if (typeof value === "number" && typeof other === "number") return sameNumber(value, other);
    return value === other;
  });
}

/**
 * Show `feature` (from queryRenderedFeatures) of collection `collection` ({cid, title, theme}).
 * The tile's attributes show at once. Tiles carry no feature id, so the feature is then identified
 * on the server: /api/identify lists the collection's features within `tolerance` metres of `lngLat`,
 * nearest first, and the first whose record agrees with every attribute of the tile feature (else the
 * nearest) is it. Its full record replaces the tile's attributes (below z15 tiles carry only those
 * the map draws), the "open feature" link goes to its OGC API item (whose id is the source `fid`),
 * and `onRecord` receives it (the map outlines its whole geometry instead of the tile's clipped one).
 * A failed read leaves the tile's attributes; an answer that comes after another click is ignored.
 */
export function showFeature(collection, feature, { lngLat, tolerance, onClose, onRecord = () => {}, themes = {} }) {
  const body = document.getElementById("feature-body");
  document.getElementById("feature-hint").hidden = true;
  const heading = document.createElement("h3");
  heading.textContent = collection.title;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "close";
  close.textContent = "×";
  close.title = strings.close;
  close.setAttribute("aria-label", strings.close);
  close.addEventListener("click", () => {
    clearFeature();
    onClose();
  });
  heading.append(close);
  const properties = feature.properties || {};
  const schema = themes[collection.theme];
  const content = Object.keys(properties).length ? propertiesTable(properties, schema) : Object.assign(document.createElement("p"), { textContent: strings.no_properties });
  const links = document.createElement("p");
  links.className = "links";
  const items = `/ogc/collections/${encodeURIComponent(collection.cid)}/items`;
  links.append(link(items, strings.open_collection));
  body.replaceChildren(heading, content, links);
  body.dataset.collection = collection.cid;
  const click = String(++clicks);
  body.dataset.click = click;
  showFullRecord({ body, shown: content, links, items, click, collection, properties, lngLat, tolerance, schema, onRecord });
}

async function showFullRecord({ body, shown, links, items, click, collection, properties, lngLat, tolerance, schema, onRecord }) {
  const { lng, lat } = lngLat.wrap(); // a world copy east or west of the first one is the same place
  const query = new URLSearchParams({ collection: collection.cid, lon: String(lng), lat: String(lat), tolerance: String(tolerance) });
  let candidates;
  try {
    const response = await fetch(`/api/identify?${query}`, { headers: { Accept: "application/geo+json" } });
    if (!response.ok) return;
    candidates = (await response.json()).features || [];
  } catch {
    return; // offline or gone: the tile's attributes stay
  }
  // Only if the panel still shows that click (another click or the close button may have replaced it meanwhile).
  if (body.dataset.click !== click || !shown.isConnected) return;
  const record = candidates.find((candidate) => agreesWithTile(properties, candidate.properties || {})) || candidates[0];
  if (!record) return;
  const full = record.properties || {};
  const table = Object.keys(full).length ? propertiesTable(full, schema) : Object.assign(document.createElement("p"), { textContent: strings.no_properties });
  table.dataset.source = "record";
  shown.replaceWith(table);
  links.prepend(link(`${items}/${encodeURIComponent(record.id)}`, strings.open_feature), document.createElement("br"));
  body.dataset.fid = String(record.id);
  onRecord(record);
}

export function clearFeature() {
  const body = document.getElementById("feature-body");
  body.replaceChildren();
  delete body.dataset.collection;
  delete body.dataset.click;
  delete body.dataset.fid;
  document.getElementById("feature-hint").hidden = false;
}
