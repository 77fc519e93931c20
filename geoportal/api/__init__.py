"""Service API: /api/imports (background imports)."""
