// WGS 84 → a city's projected CRS (UTM or Pulkovo 1942 Gauss-Krüger) for the cursor read-out.
// The parameters come from PROJ on the server (geoportal/viewer/crs.py); this file only does the maths:
// an optional 7-parameter Helmert datum shift (coordinate-frame convention) and the transverse
// Mercator by Krüger's series in n (Karney 2011), accurate to well under a millimetre near the zone.

const WGS84 = { a: 6378137, f: 1 / 298.257223563 };
const ARCSEC = Math.PI / (180 * 3600);

function toCartesian(lon, lat, { a, f }) {
  const e2 = f * (2 - f);
  const [sinLat, cosLat] = [Math.sin(lat), Math.cos(lat)];
  const nu = a / Math.sqrt(1 - e2 * sinLat * sinLat);
  return [nu * cosLat * Math.cos(lon), nu * cosLat * Math.sin(lon), nu * (1 - e2) * sinLat];
}

function toGeodetic([x, y, z], { a, f }) {
  const e2 = f * (2 - f);
  const p = Math.hypot(x, y);
  let lat = Math.atan2(z, p * (1 - e2));
  for (let i = 0; i < 6; i += 1) {
    const sinLat = Math.sin(lat);
    const nu = a / Math.sqrt(1 - e2 * sinLat * sinLat);
    lat = Math.atan2(z + e2 * nu * sinLat, p);
  }
  return [Math.atan2(y, x), lat];
}

function helmert([x, y, z], h) {
  const [rx, ry, rz] = [h.rx * ARCSEC, h.ry * ARCSEC, h.rz * ARCSEC];
  const m = 1 + h.s * 1e-6;
  // Coordinate-frame rotation (EPSG 9607), small angles.
  return [
    h.x + m * (x + rz * y - ry * z),
    h.y + m * (-rz * x + y + rx * z),
    h.z + m * (ry * x - rx * y + z),
  ];
}

function transverseMercator(lon, lat, p) {
  const { a, f } = p.ellipsoid;
  const n = f / (2 - f);
  const [n2, n3, n4] = [n * n, n * n * n, n * n * n * n];
  const A = (a / (1 + n)) * (1 + n2 / 4 + n4 / 64);
  const alpha = [
    n / 2 - (2 / 3) * n2 + (5 / 16) * n3 + (41 / 180) * n4,
    (13 / 48) * n2 - (3 / 5) * n3 + (557 / 1440) * n4,
    (61 / 240) * n3 - (103 / 140) * n4,
    (49561 / 161280) * n4,
  ];
  const e = (2 * Math.sqrt(n)) / (1 + n);
  const sinLat = Math.sin(lat);
  const t = Math.sinh(Math.atanh(sinLat) - e * Math.atanh(e * sinLat));
  const dLon = lon - (p.lon_0 * Math.PI) / 180;
  const xi = Math.atan2(t, Math.cos(dLon));
  const eta = Math.atanh(Math.sin(dLon) / Math.sqrt(1 + t * t));
  let [sumX, sumY] = [eta, xi];
  alpha.forEach((aj, index) => {
    const j2 = 2 * (index + 1);
    sumX += aj * Math.cos(j2 * xi) * Math.sinh(j2 * eta);
    sumY += aj * Math.sin(j2 * xi) * Math.cosh(j2 * eta);
  });
  return [p.x_0 + p.k * A * sumX, p.y_0 + p.k * A * sumY];
}

/** [easting, northing] in metres of WGS 84 `lon`, `lat` (degrees) in the CRS described by `params`. */
export function project(lon, lat, params) {
  let [lambda, phi] = [(lon * Math.PI) / 180, (lat * Math.PI) / 180];
  if (params.helmert) [lambda, phi] = toGeodetic(helmert(toCartesian(lambda, phi, WGS84), params.helmert), params.ellipsoid);
  return transverseMercator(lambda, phi, params);
}
