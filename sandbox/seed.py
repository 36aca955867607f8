"""Deterministic seed data: the same seed gives the same users, Pages, IG accounts, media, comments and ids.
Dates are laid out relative to ``anchor`` (UTC midnight of the day the state is seeded, or SANDBOX_ANCHOR=unix to
pin it); follower totals in the insights reach the nodes' followers_count the day before it (insight_data.py).

Id lengths follow Meta's examples: Page ids ~15-16 digits (debug_token doc example user id
"10215241773831025"), IG user ids 17841… (seeds/003 "17841405822304914"), IG media / comment ids
17… with 17 digits (seeds/003 "17918195224117851", "17870913679156914").
"""

from __future__ import annotations

import datetime as dt
import os
import random

BUSINESSES = [
    ("Blue Door Bakery", "Bakery", "bluedoorbakery"),
    ("Harbor Yoga Studio", "Yoga Studio", "harboryoga"),
    ("Northside Bike Repair", "Bicycle Repair Shop", "northsidebikes"),
    ("Luna Florist", "Florist", "lunaflorist.co"),
    ("Copper Kettle Cafe", "Cafe", "copperkettlecafe"),
    ("Greenleaf Garden Supply", "Garden Center", "greenleafgarden"),
]
LOGIN_ONLY = [("Maple & Thread", "maplethread.studio"), ("Sol Ceramics", "solceramics")]
PEOPLE = [("Alex", "Morgan"), ("Sam", "Rivera"), ("Jordan", "Lee"), ("Priya", "Shah")]
CAPTIONS = [
    "Fresh out of the oven this morning ☀️",
    "Weekend hours: 8am–4pm. See you there!",
    "Meet the team behind the counter 👋",
    "New season, new favourites #local #smallbusiness",
    "Thank you for 1k followers! 🎉",
    "Behind the scenes of today's workshop",
    "Our top pick for this week",
    "Rainy day special — 10% off until Sunday",
    "Customer spotlight 💛",
    "Sneak peek at what's coming next month",
]
COMMENTS = [
    "Love this!",
    "What time do you open on Sunday?",
    "😍😍",
    "Can't wait to visit",
    "Is this still available?",
    "Great service as always",
    "Do you ship?",
    "👏👏👏",
    "So pretty!",
    "Tagging @friend — we should go",
]
COMMENTERS = ["maria.k", "tom_h", "jenny.bakes", "localfoodie", "cyclist_dan", "plantmom22", "rafa.m", "lisa_w"]


def anchor_time() -> int:
    if os.environ.get("SANDBOX_ANCHOR"):
        return int(os.environ["SANDBOX_ANCHOR"])
    today = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(today.timestamp())


def iso(ts: float) -> str:
    # Meta's timestamp format: "2017-08-31T19:16:02+0000" (seeds/003)
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


class Ids:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.seen: set[str] = set()

    def make(self, length: int, prefix: str = "") -> str:
        while True:
            first = "" if prefix else str(self.rng.randint(1, 9))
            rest = length - len(prefix) - len(first)
            value = prefix + first + "".join(str(self.rng.randint(0, 9)) for _ in range(rest))
            if value not in self.seen:
                self.seen.add(value)
                return value


def history_draws(rng, days=90):
    """Draws that keep every id of a seed where tests, demos and saved states expect it. Insight figures are not
    drawn here: insight_data.py computes them from (seed, object, metric, day)."""
    for _ in range(days):
        for lo, hi in ((80, 900), (50, 1500), (4, 12), (0, 25), (0, 60), (0, 30), (0, 3)):
            rng.randint(lo, hi)


def insight_controls() -> dict:
    """The insights controls (insight_data.py): days that serve nothing, accounts under 100 followers, and how
    many days the insights clock runs ahead of the sandbox clock."""
    return {"offset_days": 0, "unavailable": {}, "small": []}


def build(seed: int) -> dict:
    rng = random.Random(seed)
    ids = Ids(rng)
    anchor = anchor_time()
    data = {
        "meta": {"seed": seed, "anchor": anchor, "counter": 0},
        "users": {},
        "pages": {},
        "ig_accounts": {},
        "ig_media": {},
        "ig_comments": {},
        "posts": {},
        "fb_comments": {},
        "insights": insight_controls(),
        "grants": {},
        "tokens": {},
        "codes": {},
        "page_tokens": {},
    }

    businesses = rng.sample(BUSINESSES, 4)
    people = rng.sample(PEOPLE, 2)
    users = []
    for first, last in people:
        uid = ids.make(17, "10")
        u = {
            "id": uid,
            "name": f"{first} {last}",
            "first_name": first,
            "last_name": last,
            "short_name": first,
            "email": f"{first.lower()}.{last.lower()}@example.com",
            "page_ids": [],
        }
        data["users"][uid] = u
        users.append(u)

    pages = []
    for name, category, handle in businesses:
        pid = ids.make(15, "1")
        followers = rng.randint(300, 12000)
        page = {
            "id": pid,
            "name": name,
            "category": category,
            "category_list": [{"id": ids.make(15), "name": category}],
            "about": f"{name} — a small local business.",
            "fan_count": int(followers * 0.9),
            "followers_count": followers,
            "link": f"https://www.facebook.com/{handle.replace('.', '')}",
            "username": handle.replace(".", ""),
            "picture_path": f"/__sandbox__/avatar/{pid}.png",
            "is_published": True,
            "verification_status": "not_verified",
            "ig_user_id": None,
            "tasks": ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE"],
            "website": f"https://{handle.replace('.', '')}.example.com",
        }
        data["pages"][pid] = page
        pages.append(page)
    # first user admins the first three Pages, second user the last two (one shared Page)
    for page in pages[:3]:
        users[0]["page_ids"].append(page["id"])
    for page in pages[2:]:
        users[1]["page_ids"].append(page["id"])

    def make_ig(name, username, page_id=None, login_only=False):
        igid = ids.make(17, "17841")
        followers = rng.randint(200, 25000)
        acc = {
            "id": igid,
            "ig_id": int(ids.make(10)),
            "scoped_id": ids.make(17, "2"),
            "username": username,
            "name": name,
            "biography": f"{name} · local favourite",
            "website": f"https://{username.replace('.', '')}.example.com",
            "followers_count": followers,
            "follows_count": rng.randint(50, 900),
            "profile_picture_path": f"/__sandbox__/avatar/{igid}.png",
            "account_type": "BUSINESS" if not login_only else "MEDIA_CREATOR",
            "page_id": page_id,
            "login_only": login_only,
            "has_profile_pic": True,
        }
        data["ig_accounts"][igid] = acc
        history_draws(rng)
        # media
        n = rng.randint(8, 12)
        for _ in range(n):
            mid = ids.make(17, "17")
            ts = anchor - rng.randint(1, 120) * 86400 + rng.randint(0, 86399)
            mtype = rng.choice(["IMAGE", "IMAGE", "CAROUSEL_ALBUM", "VIDEO"])
            shortcode = "".join(
                rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") for _ in range(11)
            )
            media = {
                "id": mid,
                "owner": igid,
                "username": username,
                "caption": rng.choice(CAPTIONS),
                "timestamp": iso(ts),
                "ts": ts,
                "media_type": mtype,
                "media_product_type": "REELS" if mtype == "VIDEO" else "FEED",
                "permalink": f"https://www.instagram.com/p/{shortcode}/",
                "shortcode": shortcode,
                "like_count": rng.randint(3, 400),
                "comments_count": 0,
                "is_comment_enabled": True,
                "media_path": f"/__sandbox__/media/{mid}.png",
            }
            data["ig_media"][mid] = media
            for _ in range(rng.randint(0, 4)):
                add_ig_comment(data, ids, rng, media, ts + rng.randint(60, 86400))
        acc["media_count"] = n
        return acc

    for page in pages[:2]:
        acc = make_ig(page["name"], next(b[2] for b in businesses if b[0] == page["name"]), page_id=page["id"])
        page["ig_user_id"] = acc["id"]
    name, handle = rng.choice(LOGIN_ONLY)
    make_ig(name, handle, login_only=True)

    for page in pages:
        history_draws(rng)
        for _ in range(rng.randint(8, 12)):
            post_num = ids.make(16)
            post_id = f"{page['id']}_{post_num}"
            ts = anchor - rng.randint(1, 120) * 86400 + rng.randint(0, 86399)
            post = {
                "id": post_id,
                "page_id": page["id"],
                "message": rng.choice(CAPTIONS),
                "created_time": iso(ts),
                "ts": ts,
                "updated_time": iso(ts),
                "is_published": True,
                "is_hidden": False,
                "permalink_url": f"https://www.facebook.com/{page['id']}/posts/{post_num}",
                "status_type": "mobile_status_update",
                "likes": rng.randint(0, 300),
                "comment_count": 0,
                "shares": rng.randint(0, 20),
            }
            data["posts"][post_id] = post
            for _ in range(rng.randint(0, 4)):
                add_fb_comment(data, ids, rng, post, ts + rng.randint(60, 86400))
    add_publishing(data, ids, seed)
    add_mentions(data, ids, seed)
    return data


PLACES = [
    ("Colosseum, Rome", "Rome", "Italy", 41.8902, 12.4922, "Piazza del Colosseo, 1"),
    ("Eiffel Tower, Paris", "Paris", "France", 48.8584, 2.2945, "Champ de Mars, 5 Av. Anatole France"),
    ("Central Park, New York", "New York", "United States", 40.7829, -73.9654, "59th St to 110th St"),
    ("Sydney Opera House", "Sydney", "Australia", -33.8568, 151.2153, "Bennelong Point"),
    ("Brandenburg Gate, Berlin", "Berlin", "Germany", 52.5163, 13.3777, "Pariser Platz"),
]
# More public Pages for the place lookup (GET /{page-id-or-username}?fields=id,name,location): two places, one of
# them known by its username, and a Page without an address, which Instagram cannot use as a location.
MORE_PAGES = [
    (
        "Harbourfront Farmers Market",
        "harbourfrontmarket",
        {"street": "Pier 4, Harbour Road", "city": "Portland", "country": "United States", "zip": "97209",
         "latitude": 45.5231, "longitude": -122.6765},
    ),
    (
        "Old Town Bookshop",
        "",
        {"street": "12 Victoria Street", "city": "Edinburgh", "country": "United Kingdom", "zip": "EH1 2HE",
         "latitude": 55.9486, "longitude": -3.1925},
    ),
    ("Sunny Side Supporters Club", "sunnysidesupporters", None),
]  # fmt: skip
PRODUCTS = [
    "Sourdough Loaf", "Cinnamon Roll", "Gift Card", "Canvas Tote", "Ceramic Mug", "Linen Apron",
    "Seasonal Bouquet", "Water Bottle", "Logo Cap", "Wool Beanie", "Notebook", "Sticker Pack",
]  # fmt: skip


def add_publishing(data, ids, seed):
    """Data the publishing endpoints need, drawn from a separate generator so earlier ids stay the same:
    place Pages for location_id (Pages that have a location, as Meta's location tagging requires — seed 001),
    one product catalog of 12 products per Page-linked IG account (seed 003 available_catalogs /
    catalog_product_search), and the empty publishing collections. `places` holds every public Page nobody
    here manages; the ones added last (MORE_PAGES) come after the catalogs so the earlier ids stay the same."""
    rng = random.Random(f"{seed}:publishing")
    pub = Ids(rng)
    pub.seen = ids.seen
    data["places"] = {}
    for name, city, country, lat, lon, street in PLACES:
        pid = pub.make(15, "1")
        data["places"][pid] = {
            "id": pid,
            "name": name,
            "link": f"https://www.facebook.com/{pid}",
            "location": {"city": city, "country": country, "latitude": lat, "longitude": lon, "street": street},
        }
    data["catalogs"] = {}
    for acc in data["ig_accounts"].values():
        if not acc.get("page_id"):
            continue
        cid = pub.make(15, "9")
        page = data["pages"][acc["page_id"]]
        products = []
        for i, pname in enumerate(PRODUCTS):
            variants = [{"product_id": int(pub.make(16, "3"))}]
            if i % 3 == 0:
                variants.append({"product_id": int(pub.make(16, "7")), "variant_name": f"Large {pname}"})
            products.append(
                {
                    "product_id": int(pub.make(16, "3")),
                    "merchant_id": int(acc["id"]),
                    "product_name": pname,
                    "image_url": f"/__sandbox__/media/product-{cid}-{i}.png",
                    "retailer_id": "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(10)),
                    "review_status": "approved" if i != len(PRODUCTS) - 1 else "rejected",
                    "is_checkout_flow": i % 2 == 0,
                    "product_variants": variants,
                }
            )
        data["catalogs"][cid] = {
            "catalog_id": cid,
            "catalog_name": f"{page['name']} Products",
            "shop_name": page["name"],
            "ig_user_id": acc["id"],
            "products": products,
        }
    for name, username, location in MORE_PAGES:
        pid = pub.make(15, "1")
        page = {"id": pid, "name": name, "link": f"https://www.facebook.com/{username or pid}"}
        if username:
            page["username"] = username
        if location:
            page["location"] = location
        data["places"][pid] = page
    for key in ("ig_containers", "fb_photos", "fb_videos", "publish_log", "quota"):
        data[key] = {}
    data["processing"] = {"video_seconds": None, "image_seconds": None}


def add_ig_comment(data, ids, rng, media, ts):
    cid = ids.make(17, "17")
    who = rng.choice(COMMENTERS)
    c = {
        "id": cid,
        "media": media["id"],
        "text": rng.choice(COMMENTS),
        "timestamp": iso(ts),
        "ts": ts,
        "username": who,
        "from": {"id": ids.make(17, "17841"), "username": who},
        "like_count": rng.randint(0, 12),
        "hidden": False,
        "parent_id": None,
    }
    data["ig_comments"][cid] = c
    media["comments_count"] = media.get("comments_count", 0) + 1
    return c


def add_fb_comment(data, ids, rng, post, ts):
    num = ids.make(16)
    cid = f"{post['id'].split('_')[1]}_{num}"
    first, last = rng.choice(PEOPLE)
    c = {
        "id": cid,
        "post_id": post["id"],
        "message": rng.choice(COMMENTS),
        "created_time": iso(ts),
        "ts": ts,
        "from": {"id": ids.make(17, "10"), "name": f"{first} {last}"},
        "like_count": rng.randint(0, 12),
        "is_hidden": False,
        "parent": None,
    }
    data["fb_comments"][cid] = c
    post["comment_count"] = post.get("comment_count", 0) + 1
    return c


# Instagram accounts nobody here manages, whose posts @mention the seeded accounts (mentioned_media /
# mentioned_comment, IG User reference). Fields as an IG Media / IG Comment has them.
STRANGERS = ["cityrunclub", "foodie.finds", "weekend.wanderer", "north.shore.news"]
MENTION_CAPTIONS = ["Best class in town, thanks @{u}!", "Morning with @{u} ☀️", "Shout-out to @{u} 🙌"]
MENTION_COMMENTS = ["@{u} you have to try this", "Reminds me of @{u}!", "@{u} are you open on Sunday?"]


def add_mentions(data, ids, seed):
    """For each Page-linked Instagram account: one post of a stranger whose caption mentions it, and one post of a
    stranger with a comment mentioning it. Drawn from a separate generator so earlier ids stay the same; kept in
    their own collections because the mentioned account may read them only through mentioned_media /
    mentioned_comment (IG Comment reference: comments found through mentions cannot be read directly)."""
    rng = random.Random(f"{seed}:mentions")
    pub = Ids(rng)
    pub.seen = ids.seen
    data["mention_media"], data["mention_comments"] = {}, {}
    data["subscriptions"], data["private_replies"], data["psids"] = {}, {}, {}
    anchor = data["meta"]["anchor"]
    for acc in data["ig_accounts"].values():
        if not acc.get("page_id"):
            continue
        for kind in ("caption", "comment"):
            ts = anchor - rng.randint(1, 10) * 86400 + rng.randint(0, 86399)
            text = rng.choice(MENTION_CAPTIONS if kind == "caption" else CAPTIONS).format(u=acc["username"])
            media = add_mention_media(data, pub, rng, ts, text, acc["id"] if kind == "caption" else None)
            if kind == "comment":
                text = rng.choice(MENTION_COMMENTS).format(u=acc["username"])
                add_mention_comment(data, pub, rng, media, ts + rng.randint(60, 3600), text, acc["id"])


def stranger(ids, rng) -> dict:
    name = rng.choice(STRANGERS)
    return {"id": ids.make(17, "17841"), "username": name}


def add_mention_media(data, ids, rng, ts, caption, mentioned: str | None) -> dict:
    mid = ids.make(17, "17")
    who = stranger(ids, rng)
    shortcode = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") for _ in range(11))
    media = {
        "id": mid,
        "owner": who["id"],
        "username": who["username"],
        "caption": caption,
        "timestamp": iso(ts),
        "ts": ts,
        "media_type": "IMAGE",
        "media_product_type": "FEED",
        "permalink": f"https://www.instagram.com/p/{shortcode}/",
        "shortcode": shortcode,
        "like_count": rng.randint(0, 80),
        "comments_count": 0,
        "is_comment_enabled": True,
        "media_path": f"/__sandbox__/media/{mid}.png",
        "mentions": [mentioned] if mentioned else [],
    }
    data["mention_media"][mid] = media
    return media


def add_mention_comment(data, ids, rng, media, ts, text, mentioned: str | None, parent_id=None, author=None) -> dict:
    cid = ids.make(17, "17")
    who = author or stranger(ids, rng)
    c = {
        "id": cid,
        "media": media["id"],
        "text": text,
        "timestamp": iso(ts),
        "ts": ts,
        "username": who["username"],
        "from": {"id": who["id"], "username": who["username"]},
        "like_count": rng.randint(0, 5),
        "hidden": False,
        "parent_id": parent_id,
        "mentions": [mentioned] if mentioned else [],
    }
    data["mention_comments"][cid] = c
    media["comments_count"] = media.get("comments_count", 0) + 1
    return c
