"""The admin works on a closed network: no script, style or tile from another host."""

import re

from django.contrib.auth.models import User
from django.test import Client

EXTERNAL = re.compile(r"""(?:src|href)=["']https?://""")


def test_geometry_admin_pages_load_nothing_from_elsewhere(cities, make_layer):
    layer = make_layer("lida", "roads", "roads", [("r1", "LINESTRING(25.28 53.88, 25.29 53.89)", {"name": "вуліца"})])
    client = Client()
    client.force_login(User.objects.create_superuser("root"))
    for path in (f"/admin/layers/city/{cities['lida'].pk}/change/", f"/admin/layers/layer/{layer.pk}/change/"):
        response = client.get(path)
        assert response.status_code == 200
        body = response.content.decode()
        assert "<textarea" in body  # geometry edited as text, not through the CDN map widget
        assert not EXTERNAL.search(body)
        assert "jsdelivr" not in response["Content-Security-Policy"]


def test_city_extent_saved_from_wkt_text(cities):
    client = Client()
    client.force_login(User.objects.create_superuser("root"))
    city = cities["lida"]
    page = client.get(f"/admin/layers/city/{city.pk}/change/")
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data["extent"] = "SRID=4326;POLYGON((25.2 53.85, 25.4 53.85, 25.4 53.95, 25.2 53.95, 25.2 53.85))"
    data["centre"] = "SRID=4326;POINT(25.3 53.9)"
    data = {k: ("" if v is None else v) for k, v in data.items()}
    for key in ("name", "oblast", "local_crs"):
        data[key] = form[key].value()
    response = client.post(f"/admin/layers/city/{city.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    city.refresh_from_db()
    assert city.extent.extent == (25.2, 53.85, 25.4, 53.95)
