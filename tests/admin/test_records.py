"""``/_pactstub/records``: a session's records listed, read, changed and deleted over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import Client

from tests.shop import Shop, json_of, session

TOOLS = [
    {"name": "saw", "size": 3, "collection": "red", "sharp": True},
    {"name": "axe", "size": "3", "collection": "blue", "sharp": True},
    {"name": "awl", "size": 2, "collection": "red", "sharp": False},
    {"name": "mallet", "size": 1, "collection": None},
]


@pytest.fixture
def stub(shop: Shop) -> Client:
    """A stub whose ``POST /scratch`` saves its body as a tool, holding the four TOOLS."""
    shop.template("a-scratch-request", '{{ save("tools", request.body) }}')
    client = shop.client()
    for tool in TOOLS:
        json_of(client.post("/scratch", json=tool))
    return client


def names(client: Client, query: str = "", status: int = 200) -> list[str]:
    found = json_of(client.get(f"/_pactstub/records/tools{query}"), status)
    return [record["data"]["name"] for record in found["records"]]


def everything(client: Client) -> Any:
    return json_of(client.get("/_pactstub/records/tools?_order_by=id"))


class TestListing:
    def test_every_record_with_its_id_data_and_times(self, stub: Client) -> None:
        records = json_of(stub.get("/_pactstub/records/tools"))["records"]
        assert [record["id"] for record in records] == [1, 2, 3, 4]
        assert records[0]["data"] == {**TOOLS[0], "id": 1}
        assert records[0]["created_at"] == records[0]["updated_at"]
        assert records[0]["created_at"].endswith("Z")

    @pytest.mark.parametrize(
        ("query", "found"),
        [
            ("?collection=red", ["saw", "awl"]),
            ("?size=3", ["saw"]),
            ('?size="3"', ["axe"]),
            ("?sharp=true", ["saw", "axe"]),
            ("?collection=null", ["mallet"]),
            ("?collection=red&sharp=false", ["awl"]),
            ("?name=nothing", []),
        ],
    )
    def test_filtered_by_fields_whose_values_read_as_json(
        self, stub: Client, query: str, found: list[str]
    ) -> None:
        assert names(stub, query) == found

    @pytest.mark.parametrize(
        ("query", "found"),
        [
            ("?_order_by=name", ["awl", "axe", "mallet", "saw"]),
            ("?_order_by=-id&_limit=2", ["mallet", "awl"]),
            ("?_order_by=-size&_limit=2&_offset=1", ["saw", "awl"]),
            ("?_offset=3", ["mallet"]),
            ("?collection=red&_order_by=size", ["awl", "saw"]),
        ],
    )
    def test_ordered_and_paged(self, stub: Client, query: str, found: list[str]) -> None:
        assert names(stub, query) == found

    @pytest.mark.parametrize("query", ["?_limit=many", "?_offset=-1", "?_order_by=-"])
    def test_a_bad_window_is_a_400(self, stub: Client, query: str) -> None:
        error = json_of(stub.get(f"/_pactstub/records/tools{query}"), 400)["error"]
        assert "_limit" in error or "_offset" in error or "order_by" in error

    def test_an_unknown_collection_is_a_404(self, stub: Client) -> None:
        response = stub.get("/_pactstub/records/nothing")
        assert json_of(response, 404) == {"error": "no collection named 'nothing' in session 'default'"}

    def test_the_collections_of_a_session(self, stub: Client) -> None:
        assert json_of(stub.get("/_pactstub/records")) == {"session": "default", "collections": {"tools": 4}}


class TestOneRecord:
    def test_read_by_id(self, stub: Client) -> None:
        found = json_of(stub.get("/_pactstub/records/tools/3"))
        assert (found["id"], found["data"]) == (3, {**TOOLS[2], "id": 3})

    @pytest.mark.parametrize("path", ["/_pactstub/records/tools/9", "/_pactstub/records/nothing/1"])
    def test_an_unknown_id_or_collection_is_a_404(self, stub: Client, path: str) -> None:
        assert "no record" in json_of(stub.get(path), 404)["error"]


class TestPatch:
    def test_merges_an_object_into_the_data(self, stub: Client) -> None:
        patched = json_of(
            stub.patch("/_pactstub/records/tools/1", json={"size": 4, "owner": {"name": "ann"}})
        )
        assert patched["data"] == {**TOOLS[0], "id": 1, "size": 4, "owner": {"name": "ann"}}
        assert patched["updated_at"] >= patched["created_at"]
        assert json_of(stub.get("/_pactstub/records/tools/1")) == patched
        assert names(stub, "?size=4") == ["saw"]
        assert names(stub, "?size=3") == []

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            (b"[1, 2]", "the body must be a JSON object, not list"),
            (b'"size"', "the body must be a JSON object, not str"),
            (b"{not json", "the body is not JSON"),
            (b"", "the body must be a JSON object"),
        ],
    )
    def test_anything_but_an_object_is_a_400_and_changes_nothing(
        self, stub: Client, body: bytes, message: str
    ) -> None:
        before = everything(stub)
        response = stub.patch("/_pactstub/records/tools/1", data=body, content_type="application/json")
        assert json_of(response, 400) == {"error": message}
        assert everything(stub) == before

    def test_the_id_cannot_change(self, stub: Client) -> None:
        before = everything(stub)
        response = stub.patch("/_pactstub/records/tools/1", json={"id": 2, "size": 9})
        assert json_of(response, 400) == {
            "error": "record 1 of collection 'tools' keeps its id; the changes cannot make it 2"
        }
        assert everything(stub) == before
        same = stub.patch("/_pactstub/records/tools/1", json={"id": 1, "size": 9})
        assert json_of(same)["data"]["size"] == 9

    @pytest.mark.parametrize(
        ("path", "message"),
        [
            ("/_pactstub/records/tools/9", "no record 9 in collection 'tools'"),
            ("/_pactstub/records/nothing/1", "no record 1 in collection 'nothing'"),
        ],
    )
    def test_an_unknown_id_or_collection_is_a_404_and_creates_nothing(
        self, stub: Client, path: str, message: str
    ) -> None:
        before = everything(stub)
        assert json_of(stub.patch(path, json={"size": 1}), 404) == {"error": message}
        assert everything(stub) == before
        assert json_of(stub.get("/_pactstub/records"))["collections"] == {"tools": 4}


class TestDelete:
    def test_204_then_the_record_is_gone(self, stub: Client) -> None:
        response = stub.delete("/_pactstub/records/tools/2")
        assert (response.status_code, response.get_data()) == (204, b"")
        assert names(stub) == ["saw", "awl", "mallet"]
        assert names(stub, '?size="3"') == []
        assert json_of(stub.get("/_pactstub/records"))["collections"] == {"tools": 3}

    def test_a_collection_left_empty_still_lists_until_it_is_reset(self, stub: Client) -> None:
        for record_id in (1, 2, 3, 4):
            assert stub.delete(f"/_pactstub/records/tools/{record_id}").status_code == 204
        assert json_of(stub.get("/_pactstub/records/tools")) == {"records": []}
        json_of(stub.post("/_pactstub/reset?collection=tools"))
        assert stub.get("/_pactstub/records/tools").status_code == 404

    @pytest.mark.parametrize("path", ["/_pactstub/records/tools/2", "/_pactstub/records/nothing/2"])
    def test_a_record_that_is_not_there_is_a_404(self, stub: Client, path: str) -> None:
        assert stub.delete("/_pactstub/records/tools/2").status_code == 204
        assert "no record 2" in json_of(stub.delete(path), 404)["error"]
        assert names(stub) == ["saw", "awl", "mallet"]


class TestSessions:
    def test_each_call_is_about_the_session_of_its_header_or_parameter(self, shop: Shop) -> None:
        shop.template("a-scratch-request", '{{ save("tools", request.body) }}')
        client = shop.client()
        json_of(client.post("/scratch", json={"name": "saw"}, headers=session("alice")))
        json_of(client.post("/scratch", json={"name": "axe"}, headers=session("bob")))
        assert names(client, "?session=alice") == ["saw"]
        assert [
            r["data"]["name"]
            for r in json_of(client.get("/_pactstub/records/tools", headers=session("bob")))["records"]
        ] == ["axe"]
        assert json_of(client.get("/_pactstub/records/tools"), 404)["error"].endswith("in session 'default'")
        json_of(client.patch("/_pactstub/records/tools/1?session=bob", json={"size": 9}))
        assert client.delete("/_pactstub/records/tools/1?session=alice").status_code == 204
        assert names(client, "?session=alice&_order_by=id") == []
        assert names(client, "?session=bob&size=9") == ["axe"]

    def test_a_bad_session_name_is_a_400(self, stub: Client) -> None:
        assert (
            "session name"
            in json_of(stub.get("/_pactstub/records/tools", headers=session("a b")), 400)["error"]
        )
