"""Product search for Instagram product tags (Facebook-Login channels only).

Reference: seed 003 / Meta's product-tagging guide: GET /{ig-user-id}/available_catalogs, then
GET /{ig-user-id}/catalog_product_search?catalog_id=&q= (name or SKU); spec ShadowIGUserCatalogProductSearch."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Channel, ConnectedVia, Platform
from accounts.services.channels import channel_client


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    image_url: str
    retailer_id: str
    catalog_name: str


class CatalogUnavailable(Exception):
    """Product tags cannot be used on this channel; the message says why."""


def catalog_product_search(*, channel: Channel, query: str, limit: int = 20) -> list[Product]:
    if channel.platform != Platform.INSTAGRAM or channel.connected_via != ConnectedVia.FACEBOOK_LOGIN:
        raise CatalogUnavailable("Product tags need an Instagram account connected through Facebook (with its Page).")
    client = channel_client(channel)
    catalogs = client.get(f"{channel.external_id}/available_catalogs", fields="catalog_id,catalog_name")["data"]
    if not catalogs:
        raise CatalogUnavailable("This Instagram account has no product catalog (set one up in Commerce Manager).")
    products: list[Product] = []
    for catalog in catalogs:
        answer = client.get(
            f"{channel.external_id}/catalog_product_search",
            params={"catalog_id": catalog["catalog_id"], "q": query},
        )
        for item in answer.get("data", []):
            products.append(
                Product(
                    str(item["product_id"]),
                    item.get("product_name", ""),
                    item.get("image_url", ""),
                    item.get("retailer_id", ""),
                    catalog.get("catalog_name", ""),
                )
            )
            if len(products) >= limit:
                return products
    return products
