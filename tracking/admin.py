# Each part of tracking registers its own admin module here.
from tracking.conversions import admin as conversions_admin  # noqa: F401
from tracking.journeys import admin as journeys_admin  # noqa: F401
