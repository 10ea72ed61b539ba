from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the groups customers (view beers) and creators (add, view and change beers)."

    def handle(self, *args, **options):
        for name, codes in {"customers": ["view_beer"], "creators": ["add_beer", "view_beer", "change_beer"]}.items():
            group, _ = Group.objects.get_or_create(name=name)
            group.permissions.set(Permission.objects.filter(codename__in=codes))
