"""The ASGI baseline's view: the same redirect, as a coroutine (no thread hop under ASGI)."""

from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path


async def redirect(request: HttpRequest, token: str) -> HttpResponseRedirect:
    return HttpResponseRedirect("https://shoes.example.com/landing")


urlpatterns = [path("r/<str:token>", redirect)]
