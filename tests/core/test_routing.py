"""`RouteMethods`: the methods the routes answer on a path, joined over every route."""

from fastapi import APIRouter, FastAPI

from allin.core.routing import RouteMethods


def make_app() -> FastAPI:
    app = FastAPI()
    inner = APIRouter(prefix="/api")

    @inner.get("/items")
    async def list_items() -> None: ...

    @inner.post("/items")
    async def add_item() -> None: ...

    @inner.delete("/items/{item_id}")
    async def drop_item(item_id: int) -> None: ...

    @app.put("/other/{name}")
    async def put_other(name: str) -> None: ...

    app.include_router(inner)
    return app


def test_methods_join_every_route_on_the_path() -> None:
    app = make_app()
    table = RouteMethods(lambda: app.routes)
    assert table.methods("/api/items") == {"GET", "POST"}
    assert table.methods("/api/items/7") == {"DELETE"}
    assert table.methods("/nowhere") == frozenset()
    assert table.accepts("POST", "/api/items") and not table.accepts("PUT", "/api/items")
    assert table.accepts("DELETE", "/api/items/7") and not table.accepts("GET", "/api/items/7")


def test_where_keeps_only_some_paths() -> None:
    app = make_app()
    table = RouteMethods(lambda: app.routes, where=lambda path: path.startswith("/api/"))
    assert table.accepts("GET", "/api/items")
    assert not table.accepts("PUT", "/other/x")
    assert table.methods("/other/x") == frozenset()
