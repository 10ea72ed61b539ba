from django.contrib import admin
from django.urls import include, path

# keycloak_sso's URLs first: its logout replaces the admin's.
urlpatterns = [path("", include("keycloak_sso.urls"))]
try:
    from beers.views import Roles, WhoAmI
except ImportError:  # a site without an api: has no Django REST framework
    pass
else:
    urlpatterns += [path("api/whoami/", WhoAmI.as_view()), path("api/roles/", Roles.as_view())]
urlpatterns += [path("admin/", admin.site.urls)]
