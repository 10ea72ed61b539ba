from django.contrib import admin

from .models import Beer

admin.site.register(Beer)
