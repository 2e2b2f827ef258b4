"""The WSGI entry point gunicorn serves: `airestaurant.wsgi:application`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "airestaurant.settings")

application = get_wsgi_application()
