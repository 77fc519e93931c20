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

function propertiesTable(properties) {
  const table = document.createElement("table");
  table.className = "properties";
  for (const [name, value] of Object.entries(properties)) {
    const row = table.insertRow();
    const key = document.createElement("th");
    key.scope = "row";
    key.textContent = name;
    const cell = row.insertCell();
    cell.textContent = formatValue(value);
    row.prepend(key);
  }
  return table;
}

/**
 * Show `feature` (from queryRenderedFeatures) of collection `collection` ({cid, title}).
 * Tiles carry the database id as the MVT feature id; the OGC item id is the source `fid`,
 * so the item link is offered only when the tile carries `fid` as an attribute.
 */
export function showFeature(collection, feature, onClose) {
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
  const content = Object.keys(properties).length ? propertiesTable(properties) : Object.assign(document.createElement("p"), { textContent: strings.no_properties });
  const links = document.createElement("p");
  links.className = "links";
  const items = `/ogc/collections/${encodeURIComponent(collection.cid)}/items`;
  if (properties.fid !== undefined && properties.fid !== null) {
    links.append(link(`${items}/${encodeURIComponent(properties.fid)}`, strings.open_feature), document.createElement("br"));
  }
  links.append(link(items, strings.open_collection));
  body.replaceChildren(heading, content, links);
  body.dataset.collection = collection.cid;
}

export function clearFeature() {
  const body = document.getElementById("feature-body");
  body.replaceChildren();
  delete body.dataset.collection;
  document.getElementById("feature-hint").hidden = false;
}
