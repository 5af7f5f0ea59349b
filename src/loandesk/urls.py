from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path, re_path
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from loandesk.api import api
from loandesk.core.i18n import message

admin.site.site_header = "LoanDesk 信贷通"
admin.site.site_title = "LoanDesk"


@require_safe
@ensure_csrf_cookie
def spa(request: HttpRequest, route: str = "") -> HttpResponse:
    """Serve the phone app's index.html for every front-end route (history mode)."""
    index = settings.WEB_DIST_DIR / "index.html"
    if not index.is_file():
        return HttpResponse(
            "The web app is not built yet: run `make run` (or `cd web && npm run build`).",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(index.read_bytes(), content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


def api_not_found(request: HttpRequest, route: str = "") -> HttpResponse:
    body = {"code": "route_not_found", "message": message("route_not_found"), "details": {}}
    return JsonResponse(body, status=404, json_dumps_params={"ensure_ascii": False})


urlpatterns = [
    path("api/v1/", api.urls),
    re_path(r"^api/(?P<route>.*)$", api_not_found),
    path("admin/", admin.site.urls),
    re_path(r"^(?!api/|admin/|static/)(?P<route>.*)$", spa),
]
