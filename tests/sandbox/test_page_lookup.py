"""Reading a Page that has (or lacks) a location, by id or username, as the place lookup does: GET
/{page-id-or-username}?fields=id,name,location, and Meta's answers for an unknown id or username."""

from __future__ import annotations

import pytest

from .helpers import PUBLISH_SCOPES, error_of, get, ig_get, ig_login, post

V = "/v25.0"


@pytest.fixture
def page_token(sandbox_control) -> str:
    return sandbox_control.issue_facebook_token()["pages"][0]["access_token"]


def places(sandbox_control) -> dict[str, dict]:
    return {p["name"]: p for p in sandbox_control.state()["places"]}


def test_place_pages_by_id_and_username(sandbox, sandbox_control, page_token):
    seeded = places(sandbox_control)
    assert {"Harbourfront Farmers Market", "Old Town Bookshop", "Sunny Side Supporters Club"} <= set(seeded)
    colosseum = seeded["Colosseum, Rome"]["id"]
    r = get(sandbox.url, f"{V}/{colosseum}", page_token, fields="id,name,location")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "id": colosseum,
        "name": "Colosseum, Rome",
        "location": {
            "city": "Rome",
            "country": "Italy",
            "latitude": 41.8902,
            "longitude": 12.4922,
            "street": "Piazza del Colosseo, 1",
        },
    }
    market = seeded["Harbourfront Farmers Market"]
    assert market["username"] == "harbourfrontmarket" and market["has_location"]
    by_name = get(sandbox.url, f"{V}/HarbourfrontMarket", page_token, fields="id,name,location").json()
    assert by_name["id"] == market["id"] and by_name["location"]["city"] == "Portland"
    assert get(sandbox.url, f"{V}/{market['id']}", page_token).json() == {"name": market["name"], "id": market["id"]}


def test_a_page_without_an_address_has_no_location_field(sandbox, sandbox_control, page_token):
    club = places(sandbox_control)["Sunny Side Supporters Club"]
    assert not club["has_location"]
    answer = get(sandbox.url, f"{V}/sunnysidesupporters", page_token, fields="id,name,location").json()
    assert answer == {"id": club["id"], "name": "Sunny Side Supporters Club"}
    own = sandbox_control.issue_facebook_token()["pages"][0]
    assert "location" not in get(sandbox.url, f"{V}/{own['id']}", page_token, fields="id,name,location").json()


def test_unknown_id_and_username_are_refused_as_meta_does(sandbox, sandbox_control, page_token):
    err = error_of(get(sandbox.url, f"{V}/100000000000042", page_token, fields="id,name,location"))
    assert (err["code"], err["error_subcode"], err["type"]) == (100, 33, "GraphMethodException")
    assert err["message"].startswith(
        "Unsupported get request. Object with ID '100000000000042' does not exist, cannot be loaded due to missing "
        "permissions, or does not support this operation."
    )
    err = error_of(get(sandbox.url, f"{V}/nosuchplace", page_token, fields="id,name,location"))
    assert (err["code"], err["message"]) == (803, "(#803) Some of the aliases you requested do not exist: nosuchplace")
    err = error_of(get(sandbox.url, f"{V}/sunnysidesupporters", page_token, fields="id,name,bogus"))
    assert err["message"] == "(#100) Tried accessing nonexisting field (bogus) on node type (Page)"


def test_instagram_login_tokens_reach_no_pages(sandbox, sandbox_control):
    colosseum = places(sandbox_control)["Colosseum, Rome"]["id"]
    token = ig_login(sandbox.url)["long"]
    err = error_of(ig_get(sandbox.url, f"{V}/{colosseum}", token, fields="id,name,location"))
    assert (err["code"], err["error_subcode"]) == (100, 33)


def test_catalog_search_finds_a_mug_in_every_linked_account(sandbox, sandbox_control):
    token = sandbox_control.issue_facebook_token(scopes=PUBLISH_SCOPES.split(","))
    linked = [p for p in token["pages"] if p["instagram_business_account"]]
    assert len(linked) >= 2
    for page in linked:
        ig_id = page["instagram_business_account"]["id"]
        [catalog] = get(sandbox.url, f"{V}/{ig_id}/available_catalogs", page["access_token"]).json()["data"]
        found = get(
            sandbox.url,
            f"{V}/{ig_id}/catalog_product_search",
            page["access_token"],
            catalog_id=catalog["catalog_id"],
            q="MUG",
        ).json()["data"]
        assert [p["product_name"] for p in found] == ["Ceramic Mug"]


@pytest.mark.sandbox_marks_expected
def test_location_id_must_be_a_page_with_an_address(sandbox, sandbox_control, media_server):
    seeded = places(sandbox_control)
    token = sandbox_control.issue_facebook_token()
    page = next(p for p in token["pages"] if p["instagram_business_account"])
    ig_id, access = page["instagram_business_account"]["id"], page["access_token"]
    ok = post(
        sandbox.url,
        f"{V}/{ig_id}/media",
        access,
        image_url=media_server("square.jpg"),
        location_id=seeded["Harbourfront Farmers Market"]["id"],
    )
    assert ok.status_code == 200, ok.text
    refused = post(
        sandbox.url,
        f"{V}/{ig_id}/media",
        access,
        image_url=media_server("square.jpg"),
        location_id=seeded["Sunny Side Supporters Club"]["id"],
    )
    assert error_of(refused)["code"] == 100
