// The layer tree of a city page, built from the style's layer metadata:
// {"geoportal:collection": cid, "geoportal:theme": theme, "geoportal:title": {be, ru, en}}.
// Collections are grouped by theme; each has a visibility checkbox, a legend swatch taken from
// the style's paint colour, and an opacity slider.
import { strings } from "./common.js";

const COLOUR_PAINTS = ["fill-color", "line-color", "circle-color", "fill-extrusion-color", "text-color"];
const OPACITY_PAINT = { fill: "fill-opacity", line: "line-opacity", circle: "circle-opacity", symbol: "text-opacity", "fill-extrusion": "fill-extrusion-opacity" };

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
        baseOpacity: new Map(),
        colour: null,
        visible: false,
        opacity: 1,
      });
    }
    const collection = byId.get(cid);
    collection.layerIds.push(layer.id);
    const paint = layer.paint || {};
    const property = OPACITY_PAINT[layer.type];
    // A number can be scaled; an expression (zoom-dependent …) is left alone by the slider.
    if (property) collection.baseOpacity.set(layer.id, typeof paint[property] === "number" ? paint[property] : paint[property] === undefined ? 1 : null);
    collection.visible ||= (layer.layout || {}).visibility !== "none";
    collection.colour ||= COLOUR_PAINTS.map((name) => paint[name]).find((value) => typeof value === "string") || null;
  }
  return [...byId.values()].reverse();
}

function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, name) => values[name]);
}

function layerItem(collection, { onToggle, onOpacity }) {
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
  swatch.setAttribute("aria-hidden", "true");
  swatch.style.background = collection.colour || "transparent";
  const text = document.createElement("span");
  text.append(collection.title, document.createElement("br"));
  const cid = document.createElement("span");
  cid.className = "cid";
  cid.textContent = collection.cid;
  text.append(cid);
  label.append(checkbox, swatch, text);
  const slider = document.createElement("input");
  slider.type = "range";
  slider.min = "0";
  slider.max = "100";
  slider.step = "10";
  slider.value = String(Math.round(collection.opacity * 100));
  slider.dataset.collection = collection.cid;
  slider.setAttribute("aria-label", format(strings.opacity_of || "%(layer)s", { layer: collection.title }));
  slider.addEventListener("input", () => onOpacity(collection, Number(slider.value) / 100));
  item.append(label, slider);
  return item;
}

export function setCollectionVisible(map, collection, visible) {
  collection.visible = visible;
  for (const id of collection.layerIds) map.setLayoutProperty(id, "visibility", visible ? "visible" : "none");
  const box = document.querySelector(`#layer-list input[type="checkbox"][data-collection="${collection.cid}"]`);
  if (box) box.checked = visible;
}

function setCollectionOpacity(map, collection, opacity) {
  collection.opacity = opacity;
  for (const id of collection.layerIds) {
    const base = collection.baseOpacity.get(id);
    const property = OPACITY_PAINT[map.getLayer(id).type];
    if (property && typeof base === "number") map.setPaintProperty(id, property, base * opacity);
  }
}

/**
 * Fill `container` with the collections grouped by theme (`themes`: {slug: {title}} from the page),
 * one fieldset per theme. `onChange` runs after any visibility change (the share URL follows it).
 */
export function renderLayerList(map, container, collections, { emptyText, themes, onChange }) {
  container.replaceChildren();
  if (collections.length === 0) {
    const empty = document.createElement("p");
    empty.className = "hint";
    empty.textContent = emptyText;
    container.append(empty);
  }
  const handlers = {
    onToggle: (collection, visible) => {
      setCollectionVisible(map, collection, visible);
      onChange();
    },
    onOpacity: (collection, opacity) => setCollectionOpacity(map, collection, opacity),
  };
  const groups = new Map();
  for (const collection of collections) {
    const theme = themes[collection.theme] ? collection.theme : "";
    if (!groups.has(theme)) groups.set(theme, []);
    groups.get(theme).push(collection);
  }
  for (const [theme, members] of groups) {
    const fieldset = document.createElement("fieldset");
    fieldset.dataset.theme = theme;
    const legend = document.createElement("legend");
    legend.textContent = theme ? themes[theme].title : strings.other_theme;
    const list = document.createElement("ul");
    for (const collection of members) list.append(layerItem(collection, handlers));
    fieldset.append(legend, list);
    container.append(fieldset);
  }
  container.setAttribute("aria-busy", "false");
}
