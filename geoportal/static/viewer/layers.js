// The layer list of a city page, built from the style's layer metadata:
// {"geoportal:collection": cid, "geoportal:theme": theme, "geoportal:title": {be, ru, en}}.

const COLOUR_PAINTS = ["fill-color", "line-color", "circle-color", "fill-extrusion-color"];

/** Style layers grouped by collection, topmost collection first. */
export function collectionsOf(styleLayers, language) {
  const byId = new Map();
  for (const layer of styleLayers) {
    const meta = layer.metadata || {};
    const cid = meta["geoportal:collection"];
    if (!cid) continue; // base map layers (background, national boundaries …) are not listed
    if (!byId.has(cid)) {
      const titles = meta["geoportal:title"] || {};
      byId.set(cid, {
        cid,
        theme: meta["geoportal:theme"] || "",
        title: titles[language] || titles.en || cid,
        layerIds: [],
        colour: null,
        visible: false,
      });
    }
    const collection = byId.get(cid);
    collection.layerIds.push(layer.id);
    collection.visible ||= (layer.layout || {}).visibility !== "none";
    collection.colour ||= COLOUR_PAINTS.map((name) => (layer.paint || {})[name]).find((value) => typeof value === "string") || null;
  }
  return [...byId.values()].reverse();
}

function layerItem(collection, onToggle) {
  const item = document.createElement("li");
  item.dataset.collection = collection.cid;
  const label = document.createElement("label");
  const checkbox = document.createElement("input");
  checkbox.type = "checkbox";
  checkbox.checked = collection.visible;
  checkbox.dataset.collection = collection.cid;
  checkbox.addEventListener("change", () => onToggle(collection, checkbox.checked));
  const swatch = document.createElement("span");
  swatch.className = "swatch";
  swatch.style.background = collection.colour || "transparent";
  const text = document.createElement("span");
  text.append(collection.title, document.createElement("br"));
  const cid = document.createElement("span");
  cid.className = "cid";
  cid.textContent = collection.cid;
  text.append(cid);
  label.append(checkbox, swatch, text);
  item.append(label);
  return item;
}

/** Fill `list` with one checkbox per collection; a checkbox shows or hides all its style layers. */
export function renderLayerList(map, list, collections, emptyText) {
  list.replaceChildren();
  if (collections.length === 0) {
    const empty = document.createElement("li");
    empty.className = "hint";
    empty.textContent = emptyText;
    list.append(empty);
  }
  const toggle = (collection, visible) => {
    for (const id of collection.layerIds) map.setLayoutProperty(id, "visibility", visible ? "visible" : "none");
  };
  for (const collection of collections) list.append(layerItem(collection, toggle));
  list.setAttribute("aria-busy", "false");
}
