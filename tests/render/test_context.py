"""What a template sees of the request: path parameters, path segments, form bodies."""

from __future__ import annotations

from tests.shop import Shop, json_of


def test_path_params_by_the_names_of_the_path_rules_groups(shop: Shop) -> None:
    shop.template("a-thing", '{"id": {{ request.path_params.id }}, "all": {{ request.path_params }}}')
    found = json_of(shop.client().get("/things/42"))
    assert found == {"id": "42", "all": {"1": "42", "id": "42"}}


def test_path_params_by_position_when_the_groups_have_no_names(shop: Shop) -> None:
    shop.template(
        "a-part-of-a-thing",
        '{"thing": {{ request.path_params[1] | int }}, "part": {{ request.path_params[2] }},'
        ' "segments": {{ request.segments }}}',
    )
    found = json_of(shop.client().get("/things/7/parts/wheel"))
    assert found == {"thing": 7, "part": "wheel", "segments": ["things", "7", "parts", "wheel"]}


def test_no_path_params_without_a_path_rule(shop: Shop) -> None:
    shop.template("a-read", '{"params": {{ request.path_params }}, "segments": {{ request.segments }}}')
    assert json_of(shop.client().get("/read")) == {"params": {}, "segments": ["read"]}


def test_a_form_body_by_name_with_every_value_in_order(shop: Shop) -> None:
    shop.template("a-form", '{"form": {{ request.form }}, "name": {{ request.form.name[0] }}}')
    response = shop.client().post(
        "/form", data="tag=b&name=caf%C3%A9+au+lait&tag=", content_type="application/x-www-form-urlencoded"
    )
    assert json_of(response) == {"form": {"tag": ["b", ""], "name": ["café au lait"]}, "name": "café au lait"}
