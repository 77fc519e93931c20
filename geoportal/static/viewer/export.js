// Download a visible layer within the current view: a link to /api/export kept up to date.
import { strings } from "./common.js";

function viewBox(map) {
  const bounds = map.getBounds();
  const clamp = (value, limit) => Math.max(-limit, Math.min(limit, value));
  return [clamp(bounds.getWest(), 180), clamp(bounds.getSouth(), 90), clamp(bounds.getEast(), 180), clamp(bounds.getNorth(), 90)]
    .map((value) => value.toFixed(6))
    .join(",");
}

export function setupExport(map, collections, { layerSelect, formatSelect, link, status }) {
  const refresh = () => {
    const chosen = layerSelect.value;
    const visible = collections.filter((c) => c.visible);
    layerSelect.replaceChildren(...visible.map((c) => new Option(c.title, c.cid, false, c.cid === chosen)));
    const cid = layerSelect.value;
    if (!cid) {
      link.removeAttribute("href");
      link.setAttribute("aria-disabled", "true");
      status.textContent = strings.export_none;
      return;
    }
    const params = new URLSearchParams({ collection: cid, bbox: viewBox(map), format: formatSelect.value });
    link.href = `/api/export?${params}`;
    link.removeAttribute("aria-disabled");
    status.textContent = "";
  };
  link.addEventListener("click", async (event) => {
    // Fetch ourselves so that a refusal (too many features in view …) is shown, not saved as a file.
    event.preventDefault();
    if (!link.href) return;
    const response = await fetch(link.href);
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      status.textContent = `${strings.export_failed}: ${body.description || response.status}`;
      return;
    }
    const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
    const url = URL.createObjectURL(await response.blob());
    const anchor = Object.assign(document.createElement("a"), { href: url, download: name ? name[1] : "export" });
    document.body.append(anchor);
    anchor.click();
    anchor.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    status.textContent = "";
  });
  layerSelect.addEventListener("change", refresh);
  formatSelect.addEventListener("change", refresh);
  map.on("moveend", refresh);
  refresh();
  return refresh;
}
