"""The composer's lookups at Meta (product search, place Page), asked by a real worker against the sandbox, and
the link parser."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ChannelStatus
from publishing.models import GraphLookup
from publishing.services import lookups
from publishing.tasks import run_graph_lookup  # registers the task with the test worker
from tests.factories import AgencyMembershipFactory, ChannelFactory, UserFactory, WorkspaceMembershipFactory

worker = pytest.mark.django_db(transaction=True)
HX = {"HX-Request": "true"}
UNKNOWN_PAGE_ID = "100000000000042"


def ask(client, workspace, channel, kind, q):
    url = reverse("publishing:lookup_create", args=[workspace.public_id])
    return client.post(url, {"kind": kind, "channel": channel.pk, "q": q}, headers=HX)


def answer(client, response, timeout: float = 20.0) -> str:
    """Follow the fragment's own polling (hx-get, once a second in the browser) until it stops."""
    assert response.status_code == 200, response.content
    html = response.content.decode()
    deadline = time.monotonic() + timeout
    while found := re.search(r'hx-get="([^"]+)"', html):
        assert time.monotonic() < deadline, "the lookup stayed pending"
        time.sleep(0.1)
        html = client.get(found.group(1), headers=HX).content.decode()
    return html


def place_id(sandbox_control, name: str) -> str:
    return next(p["id"] for p in sandbox_control.state()["places"] if p["name"] == name)


def graph_calls(sandbox_control) -> list[dict]:
    return [r for r in sandbox_control.requests(limit=500) if r["host"] != "__sandbox__"]


# --- the link parser ------------------------------------------------------------------------------------------
@pytest.mark.no_sandbox
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("166401972887585", "166401972887585"),
        ("  166401972887585 ", "166401972887585"),
        ("https://www.facebook.com/HarbourFrontMarket", "harbourfrontmarket"),
        ("https://www.facebook.com/harbourfrontmarket/", "harbourfrontmarket"),
        ("https://m.facebook.com/harbourfrontmarket/about/?ref=page_internal", "harbourfrontmarket"),
        ("http://facebook.com/harbourfrontmarket#reviews", "harbourfrontmarket"),
        ("www.facebook.com/harbourfrontmarket", "harbourfrontmarket"),
        ("facebook.com/old.town.bookshop/posts/123", "old.town.bookshop"),
        ("https://www.facebook.com/166401972887585", "166401972887585"),
        ("https://www.facebook.com/profile.php?id=166401972887585", "166401972887585"),
        ("https://m.facebook.com/profile.php?id=166401972887585&sk=about", "166401972887585"),
        ("https://www.facebook.com/pages/Colosseum/166401972887585", "166401972887585"),
        ("https://www.facebook.com/people/Old-Town-Bookshop/100064123456789/", "100064123456789"),
        ("https://www.facebook.com/p/Old-Town-Bookshop-100064123456789/", "100064123456789"),
        ("https://www.facebook.com/Old-Town-Bookshop-184414518292942/", "184414518292942"),
    ],
)
def test_parser_finds_the_page(text, expected):
    assert lookups.parse_page_link(text) == expected


@pytest.mark.no_sandbox
@pytest.mark.parametrize(
    "text",
    [
        "Rome",
        "@harbourfrontmarket",
        "https://www.instagram.com/harbourfrontmarket/",
        "https://facebook.com.evil.example/harbourfrontmarket",
        "https://www.facebook.com/",
        "https://www.facebook.com/groups/1234567890",
        "https://www.facebook.com/events/1234567890/",
        "https://www.facebook.com/share/p/AbCdEf123/",
        "https://www.facebook.com/watch/?v=1234567890",
        "https://www.facebook.com/photo.php?fbid=1234567890",
        "https://www.facebook.com/profile.php",
        "https://www.facebook.com/profile.php?id=abc",
        "https://www.facebook.com/me",
        "https://www.facebook.com/../166401972887585",
        "javascript:alert(1)",
        "ftp://www.facebook.com/harbourfrontmarket",
    ],
)
def test_parser_refuses_what_is_not_a_page_link(text):
    with pytest.raises(lookups.LookupInvalid, match="not a link to a Facebook Page"):
        lookups.parse_page_link(text)


# --- asking Meta through the worker ----------------------------------------------------------------------------
@worker
def test_product_search_lists_products_to_pick(celery_app, celery_worker, client, workspace, channels):
    html = answer(client, ask(client, workspace, channels["ig"], "products", "  mug "))
    assert 'id="lookup-products"' in html
    lookup = GraphLookup.objects.get()
    assert (lookup.status, lookup.query) == (GraphLookup.Status.DONE, "mug")
    [product] = lookup.results
    assert product["name"] == "Ceramic Mug" and product["catalog_name"] == "Harbor Yoga Studio Products"
    assert set(product) == {"product_id", "name", "image_url", "retailer_id", "catalog_name"}
    button = re.search(r"<button [^>]*js-pick-product[^>]*>", html).group(0)
    assert f'data-product-id="{product["product_id"]}"' in button
    assert 'data-product-name="Ceramic Mug"' in button and f'data-product-image="{product["image_url"]}"' in button
    assert f'<img src="{product["image_url"]}" alt=""' in html
    assert product["retailer_id"] in html and "Harbor Yoga Studio Products" in html


@worker
def test_product_search_without_a_match_says_so(celery_app, celery_worker, client, workspace, channels):
    html = answer(client, ask(client, workspace, channels["ig"], "products", "submarine"))
    assert "No product in this account's catalogs matches “submarine”." in html
    assert "js-pick-product" not in html


@worker
def test_place_link_and_numeric_id_resolve(celery_app, celery_worker, client, workspace, channels, sandbox_control):
    link = "https://m.facebook.com/HarbourfrontMarket/about/?ref=page_internal"
    html = answer(client, ask(client, workspace, channels["ig"], "place", link))
    market = place_id(sandbox_control, "Harbourfront Farmers Market")
    assert 'id="lookup-place"' in html
    assert f'data-place-id="{market}"' in html and 'data-place-name="Harbourfront Farmers Market"' in html
    assert 'data-place-verified="true"' in html and "Pier 4, Harbour Road, Portland, United States" in html

    colosseum = place_id(sandbox_control, "Colosseum, Rome")
    html = answer(client, ask(client, workspace, channels["ig"], "place", colosseum))
    assert f'data-place-id="{colosseum}"' in html and 'data-place-name="Colosseum, Rome"' in html
    assert "Piazza del Colosseo, 1, Rome, Italy" in html

    bookshop = place_id(sandbox_control, "Old Town Bookshop")
    html = answer(client, ask(client, workspace, channels["page"], "place", f"facebook.com/profile.php?id={bookshop}"))
    assert f'data-place-id="{bookshop}"' in html and "12 Victoria Street, Edinburgh, United Kingdom" in html


@worker
def test_page_without_location_is_refused_in_words(celery_app, celery_worker, client, workspace, channels):
    html = answer(
        client, ask(client, workspace, channels["ig"], "place", "https://www.facebook.com/sunnysidesupporters")
    )
    assert re.search(r'role="alert">That Page has no address, so Instagram cannot use it as a location\.<', html)
    assert "js-pick-place" not in html
    assert GraphLookup.objects.get().status == GraphLookup.Status.FAILED


@worker
def test_unknown_page_shows_metas_reason(celery_app, celery_worker, client, workspace, channels):
    html = answer(client, ask(client, workspace, channels["ig"], "place", UNKNOWN_PAGE_ID))
    alert = re.search(r'<div [^>]*role="alert">([^<]*)</div>', html).group(1)
    assert alert.startswith("Meta cannot find that Page, or does not let this account see it. Check the link.")
    assert f"Unsupported get request. Object with ID &#x27;{UNKNOWN_PAGE_ID}&#x27; does not exist" in alert

    html = answer(client, ask(client, workspace, channels["ig"], "place", "https://www.facebook.com/nosuchplace"))
    assert "(#803) Some of the aliases you requested do not exist: nosuchplace" in html


@worker
def test_recent_identical_lookup_is_reused_without_asking_meta(
    celery_app, celery_worker, client, workspace, channels, sandbox_control
):
    first = answer(client, ask(client, workspace, channels["ig"], "products", "mug"))
    calls = len(graph_calls(sandbox_control))
    assert calls == 2  # available_catalogs, then catalog_product_search
    again = ask(client, workspace, channels["ig"], "products", "mug ")
    assert again.content.decode() == first  # answered at once: nothing to poll
    assert GraphLookup.objects.count() == 1 and len(graph_calls(sandbox_control)) == calls

    answer(client, ask(client, workspace, channels["ig"], "products", "tote"))  # another question is asked
    assert GraphLookup.objects.count() == 2 and len(graph_calls(sandbox_control)) == calls + 2
    GraphLookup.objects.update(created_at=timezone.now() - lookups.REUSE_WINDOW - timedelta(seconds=1))
    answer(client, ask(client, workspace, channels["ig"], "products", "mug"))  # too old: asked again
    assert GraphLookup.objects.count() == 3 and len(graph_calls(sandbox_control)) == calls + 4


@worker
def test_token_problem_says_to_reconnect(celery_app, celery_worker, client, workspace, channels, sandbox_control):
    sandbox_control.fault(path=r"available_catalogs", error={"preset": "token_invalidated"}, count=1)
    html = answer(client, ask(client, workspace, channels["ig"], "products", "mug"))
    assert "Meta no longer accepts this account&#x27;s connection. Reconnect the account on the Channels page." in html
    channels["ig"].refresh_from_db()
    assert channels["ig"].status == ChannelStatus.NEEDS_RECONNECT


# --- answered without the worker -------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("channel", "kind", "q", "message"),
    [
        ("ig", "products", "   ", lookups.EMPTY_PRODUCTS),
        ("ig", "products", "x" * 101, lookups.TOO_LONG),
        ("page", "products", "mug", lookups.NO_PRODUCT_TAGS),
        ("ig_login", "products", "mug", lookups.NO_PRODUCT_TAGS),
        ("ig", "place", "", lookups.EMPTY_PLACE),
        ("ig", "place", "https://www.instagram.com/harbourfrontmarket/", lookups.NOT_A_PAGE_LINK),
        ("ig_login", "place", "https://www.facebook.com/harbourfrontmarket", lookups.IG_LOGIN_NEEDS_ID),
    ],
)
def test_input_is_checked_before_asking_meta(client, workspace, channels, channel, kind, q, message):
    with mock.patch.object(run_graph_lookup, "delay") as delay:
        response = ask(client, workspace, channels[channel], kind, q)
    html = response.content.decode()
    assert response.status_code == 200 and f'id="lookup-{kind}"' in html
    alert = re.search(r'role="alert">([^<]*)<', html).group(1)
    assert alert == message.replace("'", "&#x27;")
    assert "hx-get" not in html and not GraphLookup.objects.exists()
    delay.assert_not_called()


@pytest.mark.django_db
def test_instagram_login_takes_a_numeric_id_unverified(client, workspace, channels, sandbox_control):
    colosseum = place_id(sandbox_control, "Colosseum, Rome")
    with mock.patch.object(run_graph_lookup, "delay") as delay:
        html = ask(client, workspace, channels["ig_login"], "place", colosseum).content.decode()
    delay.assert_not_called()
    assert f'data-place-id="{colosseum}"' in html and 'data-place-verified="false"' in html
    assert 'data-place-name=""' in html and f"Facebook Page {colosseum}" in html
    assert "Meta checks it when the post is published" in html and "hx-get" not in html
    assert not graph_calls(sandbox_control)


@pytest.mark.django_db
def test_pending_fragment_polls_itself_then_gives_up(client, workspace, channels, django_capture_on_commit_callbacks):
    with mock.patch.object(run_graph_lookup, "delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            html = ask(client, workspace, channels["ig"], "products", "mug").content.decode()
    lookup = GraphLookup.objects.get()
    delay.assert_called_once_with(lookup.pk)
    detail = reverse("publishing:lookup_detail", args=[workspace.public_id, lookup.public_id])
    root = re.match(r"<div [^>]*>", html).group(0)
    assert 'id="lookup-products"' in root and f'hx-get="{detail}"' in root
    assert 'hx-trigger="load delay:1s"' in root and 'hx-swap="outerHTML"' in root
    assert re.search(r'role="status" aria-live="polite">\s*<span[^>]*></span>Asking Meta…', html)
    assert "<script" not in html and not re.search(r"\son[a-z]+=", html) and "style=" not in html

    assert 'hx-get="' in client.get(detail, headers=HX).content.decode()  # still waiting
    GraphLookup.objects.update(created_at=timezone.now() - lookups.PENDING_TIMEOUT - timedelta(seconds=1))
    html = client.get(detail, headers=HX).content.decode()
    assert "hx-get" not in html and lookups.TIMED_OUT in html.replace("&#x27;", "'")
    lookups.lookup_run(lookup.pk)  # a worker arriving late changes nothing
    assert GraphLookup.objects.get().status == GraphLookup.Status.FAILED


@pytest.mark.django_db
def test_unreachable_queue_fails_the_lookup_at_once(client, workspace, channels, django_capture_on_commit_callbacks):
    with mock.patch.object(run_graph_lookup, "delay", side_effect=OSError("broker down")):
        with django_capture_on_commit_callbacks(execute=True):
            response = ask(client, workspace, channels["ig"], "products", "mug")
    lookup = GraphLookup.objects.get()
    assert (lookup.status, lookup.error) == (GraphLookup.Status.FAILED, lookups.QUEUE_DOWN)
    html = answer(client, response)  # the next poll shows it and stops
    assert "background worker cannot be reached" in html


@pytest.mark.django_db
def test_lookups_older_than_a_day_are_deleted(workspace, channels):
    old = GraphLookup.objects.create(workspace=workspace, channel=channels["ig"], kind="products", query="cap")
    GraphLookup.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=1, minutes=1))
    with mock.patch.object(run_graph_lookup, "delay"):
        lookups.lookup_start(workspace=workspace, channel=channels["ig"], kind="products", query="mug")
    assert list(GraphLookup.objects.values_list("query", flat=True)) == ["mug"]


# --- who may ask -------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_another_workspaces_channel_is_404(client, workspace, channels, charlie, sandbox_control):
    other = ChannelFactory(instagram=True, sandbox=sandbox_control)  # in a workspace of another agency
    assert ask(client, workspace, other, "products", "mug").status_code == 404
    channels["ig"].status = ChannelStatus.DISCONNECTED
    channels["ig"].save(update_fields=["status"])
    assert ask(client, workspace, channels["ig"], "products", "mug").status_code == 404
    url = reverse("publishing:lookup_create", args=[workspace.public_id])
    assert client.post(url, {"kind": "place", "channel": "x", "q": "1"}).status_code == 404
    assert client.post(url, {"kind": "weather", "channel": channels["page"].pk, "q": "1"}).status_code == 400
    assert not GraphLookup.objects.exists()


@pytest.mark.django_db
def test_another_workspaces_lookup_is_404(client, workspace, channels, charlie, sandbox_control):
    mine = GraphLookup.objects.create(workspace=workspace, channel=channels["ig"], kind="products", query="mug")
    other = ChannelFactory(instagram=True, sandbox=sandbox_control)
    theirs = GraphLookup.objects.create(workspace=other.workspace, channel=other, kind="products", query="mug")
    detail = "publishing:lookup_detail"
    assert client.get(reverse(detail, args=[workspace.public_id, theirs.public_id])).status_code == 404
    assert client.get(reverse(detail, args=[other.workspace.public_id, theirs.public_id])).status_code == 404
    client.force_login(charlie)
    assert client.get(reverse(detail, args=[workspace.public_id, mine.public_id])).status_code == 404
    assert ask(client, workspace, channels["ig"], "products", "mug").status_code == 404


@pytest.mark.django_db
def test_it_requires_the_drafting_capability(client, workspace, agency, channels, bob):
    analyst = UserFactory()
    AgencyMembershipFactory(agency=agency, user=analyst)
    WorkspaceMembershipFactory(workspace=workspace, user=analyst, role="analyst")
    client.force_login(analyst)
    assert ask(client, workspace, channels["ig"], "products", "mug").status_code == 403
    client.force_login(bob)  # an editor drafts posts
    with mock.patch.object(run_graph_lookup, "delay"):
        assert ask(client, workspace, channels["ig"], "products", "mug").status_code == 200
    response = client.get(reverse("publishing:lookup_create", args=[workspace.public_id]))
    assert response.status_code == 405
