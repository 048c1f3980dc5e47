"""The baseline: a bare Django view that only redirects."""

from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path


def redirect(request: HttpRequest, token: str) -> HttpResponseRedirect:
    return HttpResponseRedirect("https://shoes.example.com/landing")


urlpatterns = [path("r/<str:token>", redirect)]
