from django.apps import AppConfig


class BeersConfig(AppConfig):
    name = "beers"
    default_auto_field = "django.db.models.BigAutoField"
