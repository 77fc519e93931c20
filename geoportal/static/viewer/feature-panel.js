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

/**
 * Show `feature` (from queryRenderedFeatures) of collection `collection` ({cid, title, theme}).
 * Tiles carry the database id as the MVT feature id; /api/feature/{id} redirects to the
 * OGC item (whose id is the source `fid`) after the same access check. The tile's attributes
 * show at once; below z15 tiles carry only those the map draws, so the full record is then
 * read from the server and replaces them (a failed read leaves the tile's attributes).
 */
export function showFeature(collection, feature, onClose, themes = {}) {
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
  const content = Object.keys(properties).length ? propertiesTable(properties, themes[collection.theme]) : Object.assign(document.createElement("p"), { textContent: strings.no_properties });
  const links = document.createElement("p");
  links.className = "links";
  const items = `/ogc/collections/${encodeURIComponent(collection.cid)}/items`;
  if (feature.id !== undefined && feature.id !== null) {
    links.append(link(`/api/feature/${encodeURIComponent(feature.id)}`, strings.open_feature), document.createElement("br"));
  } else if (properties.fid !== undefined && properties.fid !== null) {
    links.append(link(`${items}/${encodeURIComponent(properties.fid)}`, strings.open_feature), document.createElement("br"));
  }
  links.append(link(items, strings.open_collection));
  body.replaceChildren(heading, content, links);
  body.dataset.collection = collection.cid;
  if (feature.id !== undefined && feature.id !== null) {
    body.dataset.feature = String(feature.id);
    showFullRecord(body, content, feature.id, themes[collection.theme]);
  } else {
    delete body.dataset.feature;
  }
}

async function showFullRecord(body, shown, id, schema) {
  let record;
  try {
    const response = await fetch(`/api/feature/${encodeURIComponent(id)}?f=json`, { headers: { Accept: "application/geo+json" } });
    if (!response.ok) return;
    record = await response.json();
  } catch {
    return; // offline or gone: the tile's attributes stay
  }
  // Only if the panel still shows that feature (another click may have replaced it meanwhile).
  if (body.dataset.feature !== String(id) || !shown.isConnected || !record.properties) return;
  const table = propertiesTable(record.properties, schema);
  table.dataset.source = "record";
  shown.replaceWith(table);
}

export function clearFeature() {
  const body = document.getElementById("feature-body");
  body.replaceChildren();
  delete body.dataset.collection;
  delete body.dataset.feature;
  document.getElementById("feature-hint").hidden = false;
}
