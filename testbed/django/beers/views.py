"""API views, for sites with an api: (Django REST framework)."""

from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView


class WhoAmI(APIView):
    """For drf-oidc-auth and mozilla-django-oidc: the Bearer token's user."""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"username": request.user.username})


class Roles(APIView):
    """For django-keycloak-auth, whose middleware checks these roles."""

    keycloak_roles = {"GET": ["offline_access"]}

    def get(self, request):
        return Response({"roles": sorted(request.roles)})
