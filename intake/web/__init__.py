"""The web pages: applicants, reviewers and bureau staff, in Chinese, served by the same
FastAPI app as the JSON API. Server-rendered (Jinja); a little plain JavaScript
(``static/app.js``) uploads files, refreshes the file states and opens page pictures.

Every page checks the user's role and the dossier's owner or assignment through
``intake.access``, as the API does; every form carries the session's CSRF token.
``pages`` holds what they share; ``signin``, ``dossier`` and ``bureau`` the pages."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from intake.web import bureau, dossier, signin
from intake.web.pages import STATIC, LoginRequired, PageError, templates_for


def install(app: FastAPI) -> None:
    """Add the pages, their static files and their error pages to the app."""
    app.state.templates = templates_for(app.state.settings.timezone)
    for module in (signin, dossier, bureau):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(LoginRequired)
    async def login_required(_: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse(f"/login?next={quote(exc.next_url)}", status_code=303)

    @app.exception_handler(PageError)
    async def page_error(request: Request, exc: PageError) -> HTMLResponse:
        return app.state.templates.TemplateResponse(
            request,
            "error.html",
            {"user": None, "role": None, "csrf": None, "flash": None, "message": exc.message,
             "status": exc.status},
            status_code=exc.status,
        )  # fmt: skip
