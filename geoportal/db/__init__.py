"""The geoportal's database backend: GeoDjango's PostGIS backend with a health check that costs no round trip."""
