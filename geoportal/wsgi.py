import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geoportal.settings")
django_application = get_wsgi_application()

# Imported once Django is set up (the lane calls the tile views); see geoportal/tiles/lane.py.
from geoportal.tiles.lane import TileLane  # noqa: E402

application = TileLane(django_application)
