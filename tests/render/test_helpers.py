"""The template toolkit: records, counters, time, randomness and the response, as templates use them."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from werkzeug.test import Client

from tests.shop import Shop, json_of

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def scratch(shop: Shop, text: str, **options: Any) -> Client:
    """A stub whose ``POST /scratch`` renders ``text``."""
    shop.template("a-scratch-request", text)
    return shop.client(**options)


def post(client: Client, body: Any = None, status: int = 200) -> Any:
    return json_of(client.post("/scratch", json=body if body is not None else {}), status)


def render(shop: Shop, text: str, body: Any = None) -> Any:
    """One render of ``text`` on a fresh stub, as JSON."""
    return post(scratch(shop, text), body)


SAVE_THREE = (
    '{% do save("tools", {"name": "saw", "size": 3, "collection": "red"}) %}'
    '{% do save("tools", {"name": "axe", "size": 1, "collection": "blue"}) %}'
    '{% do save("tools", {"name": "awl", "size": 2, "collection": "red", "where": "shed"}) %}'
)


class TestSaveAndGet:
    def test_save_gives_the_next_id_of_the_collection_and_a_created_at(self, shop: Shop) -> None:
        saved = render(shop, '{{ [save("tools", {"name": "saw"}), save("tools", {"name": "axe"})] }}')
        assert [(tool["id"], tool["name"]) for tool in saved] == [(1, "saw"), (2, "axe")]
        assert all(ISO_UTC.match(tool["created_at"]) for tool in saved)

    def test_an_id_of_its_own_is_kept_and_later_ids_go_above_it(self, shop: Shop) -> None:
        saved = render(
            shop, '{{ [save("tools", {"id": 40}), save("tools", {})] | map(attribute="id") | list }}'
        )
        assert saved == [40, 41]

    def test_an_id_used_twice_fails_the_render_and_keeps_nothing_of_it(self, shop: Shop) -> None:
        client = scratch(shop, '{% do save("tools", {"id": request.body.id}) %}{"n": {{ count("tools") }}}')
        assert post(client, {"id": 5}) == {"n": 1}
        failed = post(client, {"id": 5}, status=500)
        assert failed["template"].endswith("a-scratch-request.json.j2")
        assert "already has a record with id 5" in failed["message"]
        assert post(client, {"id": 6}) == {"n": 2}

    def test_get_reads_a_record_back_in_a_later_request(self, shop: Shop) -> None:
        client = scratch(
            shop,
            '{% if "save" in request.body %}{{ save("tools", request.body.save) }}'
            '{% else %}{{ get("tools", request.body.id) }}{% endif %}',
        )
        saved = post(client, {"save": {"name": "saw", "tags": ["sharp"]}})
        assert post(client, {"id": saved["id"]}) == saved

    def test_get_of_a_missing_id_is_none(self, shop: Shop) -> None:
        assert render(shop, '{% do save("tools", {}) %}{"missing": {{ get("tools", 2) }}}') == {
            "missing": None
        }
        assert render(shop, '{"no collection": {{ get("nothing", 1) }}}') == {"no collection": None}

    def test_a_record_id_that_is_not_a_number_fails_naming_the_template(self, shop: Shop) -> None:
        failed = post(scratch(shop, '{{ get("tools", "1") }}'), status=500)
        assert "a record id is an integer, not '1'" in failed["message"]


class TestFind:
    def test_by_keyword_fields_oldest_first(self, shop: Shop) -> None:
        found = render(shop, SAVE_THREE + '{{ find("tools", size=2) + find("tools") }}')
        assert [tool["name"] for tool in found] == ["awl", "saw", "axe", "awl"]

    def test_a_field_called_collection_or_where_as_a_mapping_or_a_keyword(self, shop: Shop) -> None:
        found = render(
            shop,
            SAVE_THREE
            + '{"mapping": {{ find("tools", {"collection": "red"}) | map(attribute="name") | list }},'
            ' "keyword": {{ find("tools", collection="blue") | map(attribute="name") | list }},'
            ' "where": {{ find("tools", where="shed") | map(attribute="name") | list }},'
            ' "both": {{ find("tools", {"collection": "red"}, size=3) | map(attribute="name") | list }}}',
        )
        assert found == {"mapping": ["saw", "awl"], "keyword": ["axe"], "where": ["awl"], "both": ["saw"]}

    def test_values_compare_as_json(self, shop: Shop) -> None:
        found = render(
            shop,
            '{% do save("n", {"v": 1}) %}{% do save("n", {"v": "1"}) %}{% do save("n", {"v": true}) %}'
            '{% do save("n", {"v": 1.0}) %}{% do save("n", {"v": none}) %}{% do save("n", {}) %}'
            '{{ [find("n", v=1), find("n", v="1"), find("n", v=none)] | map("map", attribute="id")'
            ' | map("list") | list }}',
        )
        assert found == [[1, 4], [2], [5]]

    @pytest.mark.parametrize(
        ("order_by", "names"),
        [
            ("size", ["axe", "awl", "saw"]),
            ("-size", ["saw", "awl", "axe"]),
            ("name", ["awl", "axe", "saw"]),
            ("-id", ["awl", "axe", "saw"]),
            ("where", ["awl", "saw", "axe"]),  # records without the field come last
        ],
    )
    def test_ordered_by_a_field_or_the_id(self, shop: Shop, order_by: str, names: list[str]) -> None:
        found = render(
            shop, SAVE_THREE + '{{ find("tools", order_by=request.body.order) }}', {"order": order_by}
        )
        assert [tool["name"] for tool in found] == names

    def test_ordered_by_when_records_were_created_or_last_updated(self, shop: Shop) -> None:
        client = scratch(
            shop,
            '{% if "save" in request.body %}{% do save("tools", request.body.save) %}{% endif %}'
            '{% if "oil" in request.body %}{% do update("tools", request.body.oil, {"oil": 1}) %}{% endif %}'
            '{{ find("tools", order_by=request.body.order) | map(attribute="id") | list }}',
        )
        for tool_id in (5, 2, 9):  # created in this order, not in id order
            post(client, {"save": {"id": tool_id}, "order": "id"})
        post(client, {"oil": 5, "order": "id"})
        assert post(client, {"order": "created_at"}) == [5, 2, 9]
        assert post(client, {"order": "-created_at"}) == [9, 2, 5]
        assert post(client, {"order": "updated_at"}) == [2, 9, 5]
        assert post(client, {"order": "-updated_at"}) == [5, 9, 2]

    def test_limit_and_offset_page_through_the_order(self, shop: Shop) -> None:
        found = render(
            shop,
            '{% for size in range(1, 8) %}{% do save("nails", {"size": size}) %}{% endfor %}'
            '{"pages": {% call(page) json_array(range(3)) %}'
            '{{ find("nails", order_by="-size", limit=3, offset=page * 3) | map(attribute="size") | list }}'
            "{% endcall %},"
            ' "skip": {{ find("nails", offset=5) | map(attribute="size") | list }},'
            ' "none": {{ find("nails", limit=0) }}}',
        )
        assert found == {"pages": [[7, 6, 5], [4, 3, 2], [1]], "skip": [6, 7], "none": []}

    def test_a_bad_window_fails_naming_the_template(self, shop: Shop) -> None:
        failed = post(scratch(shop, '{{ find("tools", limit=-1) }}'), status=500)
        assert failed["template"].endswith("a-scratch-request.json.j2")
        assert "limit must be a whole number" in failed["message"]


class TestCountUpdateDelete:
    def test_count_all_or_by_fields(self, shop: Shop) -> None:
        counted = render(
            shop,
            SAVE_THREE + '{{ [count("tools"), count("tools", collection="red"), count("tools", {"size": 2}),'
            ' count("tools", {"collection": "red"}, size=9), count("nothing")] }}',
        )
        assert counted == [3, 2, 1, 0, 0]

    def test_update_merges_shallowly_and_returns_the_new_record(self, shop: Shop) -> None:
        client = scratch(
            shop,
            '{% if "id" in request.body %}{{ update("tools", request.body.id, request.body.changes) }}'
            '{% else %}{{ save("tools", {"name": "saw", "spec": {"teeth": 24, "set": true}}) }}{% endif %}',
        )
        saved = post(client)
        updated = post(client, {"id": saved["id"], "changes": {"spec": {"teeth": 30}, "owner": "ann"}})
        assert updated == {**saved, "spec": {"teeth": 30}, "owner": "ann"}
        assert post(client, {"id": saved["id"], "changes": {}}) == updated

    def test_updated_fields_are_found_by_their_new_values_only(self, shop: Shop) -> None:
        found = render(
            shop,
            '{% set tool = save("tools", {"size": 1}) %}{% do update("tools", tool.id, {"size": 2}) %}'
            '{{ [count("tools", size=1), count("tools", size=2)] }}',
        )
        assert found == [0, 1]

    def test_update_of_a_missing_record_is_none_and_creates_nothing(self, shop: Shop) -> None:
        assert render(shop, '{{ [update("tools", 3, {"a": 1}), count("tools")] }}') == [None, 0]

    def test_delete_says_whether_the_record_was_there(self, shop: Shop) -> None:
        found = render(
            shop,
            SAVE_THREE + '{{ [delete("tools", 2), delete("tools", 2), get("tools", 2), count("tools"),'
            ' find("tools", collection="blue")] }}',
        )
        assert found == [True, False, None, 2, []]

    def test_next_id_counts_from_its_start(self, shop: Shop) -> None:
        client = scratch(shop, '{{ [next_id("jobs", 123), next_id("other")] }}')
        assert [post(client), post(client)] == [[123, 1], [124, 2]]


class TestTime:
    def test_now_in_every_format_on_a_frozen_then_advanced_clock(self, shop: Shop) -> None:
        client = scratch(
            shop,
            '{"iso": {{ now() }}, "day": {{ now("%Y-%m-%d") }}, "epoch": {{ now("epoch") }},'
            ' "ms": {{ now("epoch_ms") }}}',
        )
        frozen = json_of(client.post("/_pactstub/clock", json={"freeze": True}))
        first = post(client)
        assert ISO_UTC.match(first["iso"])
        assert first["iso"][:19] == frozen["now"][:19]
        assert first["day"] == frozen["now"][:10]
        assert first["ms"] // 1000 == first["epoch"]
        assert post(client) == first  # frozen: time stands still

        json_of(client.post("/_pactstub/clock", json={"advance": 86400 * 366}))
        later = post(client)
        assert later["epoch"] - first["epoch"] == 86400 * 366
        assert later["ms"] - first["ms"] == 86400 * 366 * 1000
        assert later["day"] > first["day"]


class TestRandomness:
    TEMPLATE = '{{ [random_int(1, 1000000), uuid(), random_choice(["a", "b", "c", "d", "e", "f"])] }}'

    def draws(self, shop: Shop, seed: int | None) -> list[Any]:
        client = scratch(shop, self.TEMPLATE, seed=seed)
        return [post(client) for _ in range(5)]

    def test_a_seed_makes_template_randomness_repeat(self, shop: Shop) -> None:
        first = self.draws(shop, 7)
        assert self.draws(shop, 7) == first
        assert self.draws(shop, 8) != first

    def test_the_values_have_their_shapes(self, shop: Shop) -> None:
        for number, text, choice in self.draws(shop, None):
            assert 1 <= number <= 1000000
            assert uuid.UUID(text).version == 4
            assert choice in "abcdef"


class TestTheResponse:
    def test_a_status_the_status_rule_allows(self, shop: Shop) -> None:
        shop.template("a-successful-creation", "{% do set_status(request.body.status) %}{}")
        client = shop.client()
        assert client.put("/creations", json={"status": 202}).status_code == 202
        assert client.put("/creations", json={"status": 200}).status_code == 200

    def test_a_status_of_a_sibling_interaction(self, shop: Shop) -> None:
        shop.template(
            "a-thing",
            '{% set thing = get("things", request.path_params.id | int) %}'
            '{% if thing is none %}{% do set_status(404) %}{"error": "no such thing"}'
            "{% else %}{{ thing }}{% endif %}",
        )
        shop.template("a-scratch-request", '{{ save("things", {"name": "kettle"}) }}')
        client = shop.client()
        json_of(client.post("/scratch"))
        thing = json_of(client.get("/things/1"))
        assert (thing["id"], thing["name"]) == (1, "kettle")
        assert json_of(client.get("/things/2"), 404) == {"error": "no such thing"}

    @pytest.mark.parametrize(
        ("path", "status", "allowed"),
        [
            ("/things/1", 500, "200, 404 for GET /things/1"),
            ("/creations", 404, "201, or what the status rule of 'a successful creation' allows"),
        ],
    )
    def test_a_status_the_pact_does_not_allow_fails_naming_the_template(
        self, shop: Shop, path: str, status: int, allowed: str
    ) -> None:
        slug = "a-thing" if path.startswith("/things") else "a-successful-creation"
        shop.template(slug, '{% do save("log", {}) %}{% do set_status(' + str(status) + ") %}{}")
        shop.template("a-scratch-request", '{"logged": {{ count("log") }}}')
        client = shop.client()
        method = client.get if path.startswith("/things") else client.put
        failed = json_of(method(path), 500)
        assert failed["error"] == "template failed"
        assert failed["template"].endswith(f"{slug}.json.j2")
        assert f"set_status({status}): the pact allows {allowed}" in failed["message"]
        assert json_of(client.post("/scratch")) == {"logged": 0}  # the failed render left nothing

    @pytest.mark.parametrize("status", ["404", 99, True])
    def test_set_status_takes_an_http_status(self, shop: Shop, status: Any) -> None:
        failed = post(scratch(shop, "{% do set_status(request.body.status) %}{}"), {"status": status}, 500)
        assert "set_status takes an HTTP status" in failed["message"]

    def test_set_header_adds_a_header_or_replaces_the_pacts(self, shop: Shop) -> None:
        client = scratch(
            shop,
            '{% do set_header("Location", base_url ~ "/things/" ~ 7) %}{% do set_header("X-Count", 2) %}'
            '{% do set_header("content-type", "application/vnd.shop+json") %}{}',
        )
        response = client.post("/scratch", json={})
        assert response.headers["Location"] == "http://localhost/things/7"
        assert response.headers["X-Count"] == "2"
        assert response.headers.getlist("Content-Type") == ["application/vnd.shop+json"]

    def test_a_header_value_cannot_add_lines(self, shop: Shop) -> None:
        failed = post(scratch(shop, '{% do set_header("X-A", "b\\r\\nSet-Cookie: c") %}{}'), status=500)
        assert "set_header takes a header name and a one-line value" in failed["message"]


class TestJsonArray:
    def test_a_block_per_item_without_hand_placed_commas(self, shop: Shop) -> None:
        shop.file(
            "_tool.j2", '{"name": {{ tool.name }}, "size": {{ tool.size }}, "big": {{ tool.size > 1 }}}'
        )
        found = render(
            shop,
            SAVE_THREE + '{"tools": {% call(tool) json_array(find("tools", order_by="size")) %}'
            '{% include "shop/_tool.j2" %}{% endcall %},'
            ' "none": {% call(tool) json_array([]) %}{{ tool }}{% endcall %},'
            ' "numbers": {% call(n) json_array(range(3)) %}{{ n * 10 }}{% endcall %}}',
        )
        assert found == {
            "tools": [
                {"name": "axe", "size": 1, "big": False},
                {"name": "awl", "size": 2, "big": True},
                {"name": "saw", "size": 3, "big": True},
            ],
            "none": [],
            "numbers": [0, 10, 20],
        }

    def test_a_block_that_renders_no_value_is_invalid_json_naming_the_template(self, shop: Shop) -> None:
        failed = post(scratch(shop, "{% call(n) json_array([1, 2]) %}{% endcall %}"), status=500)
        assert failed["template"].endswith("a-scratch-request.json.j2")
        assert "output is not valid JSON" in failed["message"]
