import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relata.settings")
application = get_wsgi_application()

# After the application: what it loaded stays out of the garbage collector's full walks.
from relata.gc_tuning import freeze_loaded_application  # noqa: E402

freeze_loaded_application()
