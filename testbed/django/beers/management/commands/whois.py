import json

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print a user's staff flags and groups as JSON, as the database holds them."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        u = User.objects.filter(username=username).first()
        print(json.dumps({"exists": u is not None, "staff": bool(u and u.is_staff), "superuser": bool(u and u.is_superuser),
                          "groups": sorted(g.name for g in u.groups.all()) if u else []}))
